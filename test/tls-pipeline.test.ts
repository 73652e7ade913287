/**
 * The record tracker wired behind SmtpSession: opaque flows count their TLS records through the
 * whole pipeline (capture → reassembly → smtp), and nothing that was output before changes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameList } from './support/synth.js';
import { replayFrames } from './support/replay.js';
import { recordBytes } from './support/tls-wire.js';

const T0 = 1_768_039_200_000_000; // µs

const recs = (...r: [number, number][]): Buffer => Buffer.concat(r.map(([type, len]) => recordBytes(type, len)));

/** STARTTLS, then a TLS 1.3 handshake and an AUTH PLAIN failed by size (79), with the 79 split over two segments. */
function startTlsSession(f: FrameList, port: number, banner = '220 mail.example.test ESMTP Postfix'): void {
  const c = f.conversation('en10mb', '198.51.100.20', port, '192.0.2.25', 587);
  let t = T0;
  c.open(t);
  c.fromServer(`${banner}\r\n`, (t += 1000));
  c.fromClient('EHLO bot\r\n', (t += 1000));
  c.fromServer('250-mail.example.test\r\n250 STARTTLS\r\n', (t += 1000));
  c.fromClient('STARTTLS\r\n', (t += 1000));
  c.fromServer('220 2.0.0 Ready to start TLS\r\n', (t += 1000));
  c.fromClient(recs([22, 512]), (t += 1000));
  c.fromServer(recs([22, 122], [20, 1], [23, 2100], [23, 286], [23, 69]), (t += 1000));
  c.fromClient(recs([20, 1], [23, 69]), (t += 1000));
  c.fromServer(recs([23, 218]), (t += 1000)); // ticket
  c.fromClient(recs([23, 25]), (t += 1000)); // EHLO
  c.fromServer(recs([23, 197]), (t += 1000)); // EHLO reply
  c.fromClient(recs([23, 60]), (t += 1000)); // AUTH PLAIN …
  c.fromServer(recs([23, 79]), (t += 300_000), [30]); // 535, in two segments
  c.fromClient(recs([23, 23]), (t += 1000)); // QUIT
  c.fromServer(recs([23, 32]), (t += 1000)); // 221
  c.close(t + 1000);
}

test('an opaque STARTTLS flow: its records counted, its 535 inferred into an event that strikes', async () => {
  const r = await replayFrames((f) => startTlsSession(f, 40100));
  const s = r.pipeline.smtpStats;
  assert.equal(s.opaqueFlows, 1);
  assert.equal(s.tlsRecords, 15); // client 6, server 9
  assert.equal(s.tlsAppRecords, 7); // ticket, EHLO, reply, AUTH, 535, QUIT, 221
  assert.equal(s.tlsLostDirections, 0);
  assert.equal(r.coverage.opaque_flows, 1);
  // The 535 is inferred (size + timing): an auth_failure marked inferred, which strikes; the
  // counts read in the clear stay zero.
  assert.deepEqual([s.tlsInferredFailures, s.tlsInferredSuccesses, s.tlsInferredTempfails, s.tlsInferredAmbiguous], [1, 0, 0, 0]);
  assert.equal(r.tally.totals.failures, 0);
  assert.equal(r.tally.totals.inferred_failures, 1);
  assert.deepEqual(
    r.log.events.map((e) => e.type),
    ['connect', 'starttls', 'auth_failure', 'strike', 'flow_end'],
  );
  const f = r.log.events[2]!;
  assert.ok(f.type === 'auth_failure' && f.inferred !== null);
  assert.deepEqual(
    { code: f.code, len: f.inferred.recordLen, basis: f.inferred.basis, known: f.inferred.known },
    { code: 535, len: 79, basis: 3, known: true },
  );
  assert.equal(f.wire.sport, 587, 'the LOG line is of the server packet that carried the record');
  const st = r.log.events[3]!;
  assert.ok(st.type === 'strike' && st.inferred);
  assert.match(st.prefix, /^SMTP_AUTH_FAIL: Strike 1 \(TLS inferred\):$/);
  assert.equal(r.coverage.tls_records, 15);
  assert.equal(r.coverage.opaque_sessions_classified, 1);
  assert.deepEqual(r.coverage.inferred, { failures: 1, successes: 0, tempfails: 0, ambiguous_records: 0 });
});

test('a server whose banner names no known profile: the 535 is still inferred, but its size is not known, so it strikes nothing', async () => {
  const r = await replayFrames((f) => startTlsSession(f, 40102, '220 mail.example.test ESMTP'));
  assert.deepEqual(
    r.log.events.map((e) => e.type),
    ['connect', 'starttls', 'auth_failure', 'flow_end'],
  );
  const f = r.log.events[2]!;
  assert.ok(f.type === 'auth_failure' && f.inferred !== null && !f.inferred.known);
  assert.equal(r.coverage.inferred_not_struck, 1);
  assert.equal(r.blocks.length, 0);
});

test('TLS from the first byte: the first segment itself is read as records', async () => {
  const r = await replayFrames(
    (f) => {
      const c = f.conversation('en10mb', '198.51.100.21', 40101, '192.0.2.25', 465);
      c.open(T0);
      c.fromClient(recs([22, 512]), T0 + 1000);
      c.fromServer(recs([22, 90], [20, 1], [22, 40]), T0 + 2000);
      c.close(T0 + 3000);
    },
    (o) => {
      o.ports = [25, 465, 587];
    },
  );
  assert.equal(r.pipeline.smtpStats.opaqueFlows, 1);
  assert.equal(r.pipeline.smtpStats.tlsRecords, 4);
  assert.equal(r.pipeline.smtpStats.tlsAppRecords, 0);
});

test('a flow that goes opaque but carries no TLS loses both directions, once each', async () => {
  const r = await replayFrames((f) => {
    const c = f.conversation('en10mb', '198.51.100.22', 40102, '192.0.2.25', 25);
    c.open(T0);
    c.fromServer('220 hi\r\n', T0 + 1000);
    c.fromClient('STARTTLS\r\n', T0 + 2000);
    c.fromServer('220 go ahead\r\n', T0 + 3000);
    c.fromClient('EHLO again\r\n', T0 + 4000);
    c.fromServer('503 5.5.1 Error\r\n', T0 + 5000);
    c.fromClient('QUIT\r\n', T0 + 6000);
    c.close(T0 + 7000);
  });
  assert.equal(r.pipeline.smtpStats.tlsRecords, 0);
  assert.equal(r.pipeline.smtpStats.tlsLostDirections, 2);
});
