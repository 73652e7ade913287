import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameList, b64, loginSession } from './support/synth.js';
import { replayFrames } from './support/replay.js';

const FAIL = '535 5.7.8 Error: authentication failed: (reason unavailable)\r\n';
const T0 = 1_768_039_200_000_000; // 2026-01-10T10:00:00Z in µs

const run = replayFrames;

test('LOGIN failure: counted once, username decoded, mechanism named', async () => {
  const r = await run((f) => loginSession(f.conversation('en10mb', '198.51.100.7', 40000, '192.0.2.25', 587), T0, 'alice', FAIL));
  const fails = r.log.of('auth_failure');
  assert.equal(fails.length, 1);
  assert.equal(fails[0]!.user, 'alice');
  assert.equal(fails[0]!.mech, 'LOGIN');
  assert.equal(fails[0]!.server, '192.0.2.25');
  assert.equal(fails[0]!.serverPort, 587);
  assert.equal(r.tally.counts()['198.51.100.7']!.failures, 1);
  // The password never appears anywhere in the events.
  assert.ok(!JSON.stringify(r.log.events).includes('wrong'));
});

test('a 535 split anywhere across two or three segments counts exactly once', async () => {
  for (const cuts of [[1], [2], [3], [4], [10], [FAIL.length - 1], [1, 1], [2, 3], [20, 20]]) {
    const r = await run((f) => loginSession(f.conversation('en10mb', '198.51.100.7', 40000, '192.0.2.25', 25), T0, 'bob', FAIL, cuts));
    assert.equal(r.tally.totals.failures, 1, `cuts ${cuts.join(',')}`);
  }
});

test('pipelined 535 + 221 in one segment are two replies; multi-line 535 is one failure', async () => {
  const r = await run((f) => {
    const c = f.conversation('en10mb', '198.51.100.8', 40001, '192.0.2.25', 25);
    c.open(T0);
    c.fromServer('220 hi\r\n', T0 + 1000);
    c.fromClient(`AUTH PLAIN ${b64('\0carol\0secret')}\r\nQUIT\r\n`, T0 + 2000);
    c.fromServer(`${FAIL}221 2.0.0 Bye\r\n`, T0 + 3000);
    c.close(T0 + 4000);
    const d = f.conversation('en10mb', '198.51.100.8', 40002, '192.0.2.25', 25);
    d.open(T0 + 5000);
    d.fromClient(`AUTH PLAIN ${b64('\0dave\0x')}\r\n`, T0 + 6000);
    d.fromServer('535-5.7.8 first line\r\n535 5.7.8 second line\r\n', T0 + 7000);
    d.close(T0 + 8000);
  });
  const fails = r.log.of('auth_failure');
  assert.deepEqual(
    fails.map((e) => e.user),
    ['carol', 'dave'],
  );
  assert.equal(fails[0]!.mech, 'PLAIN');
  assert.ok(!JSON.stringify(r.log.events).includes('secret'));
});

test('a 535 inside a DATA body is client data, never a reply', async () => {
  const r = await run((f) => {
    const c = f.conversation('en10mb', '198.51.100.9', 40003, '192.0.2.25', 25);
    c.open(T0);
    c.fromServer('220 hi\r\n', T0 + 1);
    c.fromClient(`AUTH PLAIN ${b64('\0erin\0pw')}\r\n`, T0 + 2);
    c.fromServer('235 2.7.0 Authentication successful\r\n', T0 + 3);
    c.fromClient('MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n', T0 + 4);
    c.fromServer('250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n', T0 + 5);
    c.fromClient(`Subject: x\r\n\r\n${FAIL}535 again\r\nAUTH LOGIN\r\n.\r\n`, T0 + 6);
    c.fromServer('250 2.0.0 Ok: queued as 535ABC\r\n', T0 + 7);
    c.close(T0 + 8);
  });
  assert.equal(r.tally.totals.failures, 0);
  assert.equal(r.tally.totals.successes, 1);
});

test('STARTTLS answered 220 makes the flow opaque; refused STARTTLS does not', async () => {
  const r = await run((f) => {
    const c = f.conversation('en10mb', '198.51.100.10', 40004, '192.0.2.25', 587);
    c.open(T0);
    c.fromServer('220 hi\r\n', T0 + 1);
    c.fromClient('STARTTLS\r\n', T0 + 2);
    c.fromServer('220 2.0.0 Ready to start TLS\r\n', T0 + 3);
    c.fromClient(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 13, 10, 0x35, 0x33, 0x35, 0x20]), T0 + 4);
    c.fromServer(`\x16\x03\x03\r\n${FAIL}`, T0 + 5);
    c.close(T0 + 6);
    const d = f.conversation('en10mb', '198.51.100.10', 40005, '192.0.2.25', 587);
    d.open(T0 + 10);
    d.fromClient('STARTTLS\r\n', T0 + 11);
    d.fromServer('454 4.7.0 TLS not available\r\n', T0 + 12);
    d.fromClient(`AUTH PLAIN ${b64('\0f\0g')}\r\n`, T0 + 13);
    d.fromServer(FAIL, T0 + 14);
    d.close(T0 + 15);
  });
  assert.equal(r.coverage.opaque_flows, 1);
  assert.equal(r.log.of('starttls').length, 1);
  assert.equal(r.tally.totals.failures, 1);
  assert.equal(r.tally.totals.tempfails, 0, 'a 454 to STARTTLS is not an AUTH temporary failure');
});

test('454 inside AUTH is a temporary failure, counted apart; strikes only with tempfailStrikes', async () => {
  const build = (f: FrameList): void => {
    for (let i = 0; i < 3; i++) {
      loginSession(
        f.conversation('en10mb', '198.51.100.11', 41000 + i, '192.0.2.25', 587),
        T0 + i * 20e6,
        'x',
        '454 4.7.0 Temporary authentication failure: Connection lost to authentication server\r\n',
      );
    }
  };
  const a = await run(build);
  assert.equal(a.tally.totals.tempfails, 3);
  assert.equal(a.tally.totals.failures, 0);
  assert.equal(a.log.of('strike').length, 0);
  const b = await run(build, (o) => (o.strikes.tempfailStrikes = true));
  assert.deepEqual(
    b.log.of('strike').map((s) => s.n),
    [1, 2, 3],
  );
  assert.equal(b.blocks.length, 1);
});

test('out-of-order, retransmitted and overlapping segments: each byte once, first copy wins', async () => {
  const r = await run((f) => {
    const c = f.conversation('en10mb', '198.51.100.12', 40010, '192.0.2.25', 25);
    c.open(T0);
    c.fromClient(`AUTH PLAIN ${b64('\0gina\0pw')}\r\n`, T0 + 1);
    const s0 = c.sseq;
    // second half first, then first half, then a retransmission of the whole line
    c.raw(false, s0 + 10, FAIL.slice(10), T0 + 2);
    c.raw(false, s0, FAIL.slice(0, 10), T0 + 3);
    c.raw(false, s0, FAIL, T0 + 4);
    c.advance(false, FAIL.length);
    // hostile overlap: a 250 line first, then a 535 claiming the same bytes: the 250 stands
    const s1 = c.sseq;
    const ok = '250 2.0.0 fine, nothing to see here........................\r\n';
    const bad = FAIL.slice(0, ok.length - 2).padEnd(ok.length - 2, '.') + '\r\n';
    c.raw(false, s1, ok, T0 + 5);
    c.raw(false, s1, bad, T0 + 6);
    c.advance(false, ok.length);
    c.close(T0 + 7);
  });
  assert.equal(r.tally.totals.failures, 1);
  assert.ok(r.coverage.retransmitted_bytes >= FAIL.length * 2 - 10);
  assert.equal(r.coverage.out_of_order_segments, 1);
});

test('sequence numbers wrapping past 2^32 inside a reply line', async () => {
  const r = await run((f) => {
    const c = f.conversation('en10mb', '198.51.100.13', 40011, '192.0.2.25', 25, 0xfffffff0, 0xffffffff - 130);
    c.open(T0);
    c.fromServer('220 mail.example.test ESMTP Postfix (Debian/GNU) - a longer greeting line to move on\r\n', T0 + 1);
    c.fromClient(`AUTH PLAIN ${b64('\0hal\0pw')}\r\n`, T0 + 2);
    c.fromServer(FAIL, T0 + 3, [20]);
    c.close(T0 + 4);
  });
  assert.equal(r.tally.totals.failures, 1);
  assert.deepEqual(r.tally.counts()['198.51.100.13']!.users, ['hal']);
  assert.equal(r.coverage.gaps, 0);
});

test('a lost segment: the reply code before the gap still counts, the stream resynchronises', async () => {
  const r = await run((f) => {
    const c = f.conversation('en10mb', '198.51.100.14', 40012, '192.0.2.25', 25);
    c.open(T0);
    const s0 = c.sseq;
    c.raw(false, s0, '535 5.7.8 Err', T0 + 1);
    // bytes 13..20 never arrive
    c.raw(false, s0 + 20, `failed: (reason unavailable)\r\n${FAIL}`, T0 + 2);
    c.advance(false, 20 + 30 + FAIL.length);
    c.close(T0 + 20e6);
  });
  assert.equal(r.coverage.gaps, 1);
  assert.equal(r.coverage.gap_bytes, 7);
  assert.equal(r.tally.totals.failures, 2);
  assert.equal(r.coverage.partial_replies, 1);
});

test('user --match patterns count a reply as a failure, even split across segments', async () => {
  const r = await run(
    (f) => {
      const c = f.conversation('en10mb', '198.51.100.15', 40013, '192.0.2.25', 25);
      c.open(T0);
      c.fromClient('AUTH LOGIN\r\n', T0 + 1);
      c.fromServer('500 5.7.0 authentication failed\r\n', T0 + 2, [12]);
      c.close(T0 + 3);
    },
    (o) => (o.patterns = ['authentication failed']),
  );
  const f = r.log.of('auth_failure');
  assert.equal(f.length, 1);
  assert.equal(f[0]!.code, 500);
  assert.equal(f[0]!.matched, true);
});

test('a full flow table evicts least recently used flows, counts them, and loses no reply', async () => {
  const r = await run(
    (f) => {
      for (let i = 0; i < 40; i++) {
        const c = f.conversation('en10mb', `198.51.100.${100 + i}`, 40100 + i, '192.0.2.25', 25);
        c.open(T0 + i * 1000);
        c.fromClient(`AUTH PLAIN ${b64(`\0u${i}\0pw`)}\r\n`, T0 + i * 1000 + 10);
        c.fromServer('535 5.7.8 Error: authentication failed', T0 + i * 1000 + 20); // CRLF not yet seen
      }
    },
    (o) => (o.flows.maxFlows = 16),
  );
  assert.equal(r.coverage.evictions.flows, 24);
  assert.equal(r.tally.totals.failures, 40, 'evicted flows flush their last reply line');
});

test('flows idle past the timeout (packet time) expire and are flushed', async () => {
  const r = await run((f) => {
    const a = f.conversation('en10mb', '198.51.100.200', 40200, '192.0.2.25', 587);
    a.open(T0);
    a.fromClient(`AUTH PLAIN ${b64('\0idle\0pw')}\r\n`, T0 + 10);
    a.fromServer('535 5.7.8 Error: authentication failed', T0 + 20);
    const b = f.conversation('en10mb', '198.51.100.201', 40201, '192.0.2.25', 587);
    b.open(T0 + 700e6); // 700 s later: a has been idle longer than 600 s
    b.close(T0 + 701e6);
  });
  assert.equal(r.coverage.evictions.flows_idle, 1);
  assert.equal(r.tally.totals.failures, 1);
  assert.deepEqual(r.tally.counts()['198.51.100.200']!.users, ['idle']);
});

test('AUTH mechanism names are case-insensitive; LOGIN usernames decode, garbage does not', async () => {
  const r = await run((f) => {
    const mechs = ['auth login', 'AUTH Cram-Md5', 'AUTH x-weird-mech'];
    mechs.forEach((cmd, i) => {
      const c = f.conversation('en10mb', '198.51.100.30', 40300 + i, '192.0.2.25', 25);
      c.open(T0 + i * 1e6);
      c.fromClient(`${cmd}\r\n`, T0 + i * 1e6 + 1);
      c.fromServer('334 VXNlcm5hbWU6\r\n', T0 + i * 1e6 + 2);
      c.fromClient(i === 0 ? `${Buffer.from('zoë', 'utf8').toString('base64')}\r\n` : 'bm90LWEtdXNlcg==\r\n', T0 + i * 1e6 + 3);
      c.fromServer(FAIL, T0 + i * 1e6 + 4);
      c.close(T0 + i * 1e6 + 5);
    });
    const d = f.conversation('en10mb', '198.51.100.31', 40310, '192.0.2.25', 25);
    d.open(T0);
    d.fromClient('AUTH LOGIN\r\n', T0 + 1);
    d.fromClient('!!not base64!!\r\npw\r\n', T0 + 2);
    d.fromServer(FAIL, T0 + 3);
    d.close(T0 + 4);
  });
  const f = r.log.of('auth_failure');
  assert.deepEqual(
    f.map((e) => [e.mech, e.user]),
    [
      ['LOGIN', 'zoë'],
      ['CRAM-MD5', null],
      ['X-WEIRD-MECH', null],
      ['LOGIN', null],
    ],
  );
});
