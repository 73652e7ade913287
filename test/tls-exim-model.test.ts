/**
 * What the Exim 4 (GnuTLS) captures taught the AUTH model (native-notes/tls-inference.md, "Exim 4
 * (GnuTLS) captures"): sizes that collide under an overhead are unknown there, and a pipelined
 * group answered one record per reply is read reply by reply. Record lengths as measured.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DOVECOT_TIMING } from '../src/tls/auth-exchange.js';
import {
  distinctSizes,
  POSTFIX_DOVECOT,
  recordLength,
  TLS12_CBC_SHA1,
  TLS12_CBC_SHA1_ETM,
  TLS12_GCM,
  TLS13_AEAD,
  type ReplySizes,
} from '../src/tls/record-size.js';
import { TlsWire } from './support/tls-wire.js';

/** Exim 4.96 with plaintext authenticators: the texts the client read inside TLS. */
const EXIM: ReplySizes = {
  failure: '535 Incorrect authentication data\r\n'.length, // 35
  success: '235 Authentication succeeded\r\n'.length, // 30
  tempfail: null,
  challenge: '334 VXNlcm5hbWU6\r\n'.length, // 18
  quit: '221 mail.example.test closing connection\r\n'.length, // 42
};
const SIZE = ['tls-size'];
const EHLO_REPLY = 205;

test('Exim record lengths as measured (1.3, GCM, CBC with and without ETM)', () => {
  const all = (o: typeof TLS13_AEAD): number[] => [EXIM.failure!, EXIM.success!, EXIM.challenge!, EXIM.quit!].map((n) => recordLength(o, n));
  assert.deepEqual(all(TLS13_AEAD), [52, 47, 35, 59]);
  assert.deepEqual(all(TLS12_GCM), [59, 54, 42, 66]);
  assert.deepEqual(all(TLS12_CBC_SHA1_ETM), [84, 68, 68, 84]); // 535 = 221, 235 = 334
  assert.deepEqual(all(TLS12_CBC_SHA1), [80, 80, 64, 80]); // 535 = 235 = 221
});

test('distinctSizes: colliding sizes are unknown under that overhead; distinct ones are kept as they are', () => {
  assert.equal(distinctSizes(EXIM, TLS13_AEAD), EXIM);
  assert.equal(distinctSizes(EXIM, TLS12_GCM), EXIM);
  assert.deepEqual(distinctSizes(EXIM, TLS12_CBC_SHA1_ETM), { failure: null, success: null, tempfail: null, challenge: null, quit: null });
  assert.deepEqual(distinctSizes(EXIM, TLS12_CBC_SHA1), { failure: null, success: null, tempfail: null, challenge: 18, quit: null });
  // Postfix + Dovecot: nothing collides with an outcome in any mode (334 = 221 = 64 without ETM is kept).
  for (const o of [TLS13_AEAD, TLS12_GCM, TLS12_CBC_SHA1_ETM, TLS12_CBC_SHA1]) assert.equal(distinctSizes(POSTFIX_DOVECOT, o), POSTFIX_DOVECOT);
  // Two outcomes of one plaintext length collide everywhere.
  assert.deepEqual(distinctSizes({ ...EXIM, success: 35 }, TLS13_AEAD), { ...EXIM, failure: null, success: null });
});

test('Exim CBC-ETM: a 221 (84) after a 535 is not read as a second failure, nor a 235 as a 334: nothing is inferred', () => {
  const w = new TlsWire({ sizes: EXIM, overhead: TLS12_CBC_SHA1_ETM, timing: null }).handshake12(1);
  w.c(68, 1.01).s(228, 1.011).c(100, 1.02).s(84, 1.021).c(52, 1.03).s(84, 1.031); // EHLO, AUTH PLAIN → 535, QUIT → 221
  assert.deepEqual(w.outcomes, []);
  const l = new TlsWire({ sizes: EXIM, overhead: TLS12_CBC_SHA1_ETM, timing: null }).handshake12(1);
  l.c(68, 1.01).s(228, 1.011).c(52, 1.02).s(68, 1.021).c(52, 1.03).s(68, 1.031).c(52, 1.04).s(68, 1.041).c(52, 1.05).s(84, 1.051);
  assert.deepEqual(l.outcomes, []); // LOGIN → 334, 334, 235; QUIT → 221
});

test('a pipelined group answered one record per reply (Exim): every reply is read, the 221 ends it', () => {
  // TLS 1.3, no ticket (Exim sends none): EHLO, reply, then AUTH PLAIN ×3 + QUIT in one record → 52, 52, 52, 59.
  const w = new TlsWire({ sizes: EXIM, overhead: TLS13_AEAD, timing: null }).handshake13(1);
  w.c(43, 1.05).s(EHLO_REPLY, 1.051).c(98, 1.1).s(52, 1.1001).s(52, 1.1002).s(52, 1.1003).s(59, 1.1004);
  assert.deepEqual(w.outcomes, [
    ['failure', SIZE, 52],
    ['failure', SIZE, 52],
    ['failure', SIZE, 52],
  ]);
  assert.equal(w.model.unsolicited, 0);
  // AUTH PLAIN ×2 + QUIT → 535, 235, 221: the success ends what is read; the 221 after it is not classified.
  const v = new TlsWire({ sizes: EXIM, overhead: TLS13_AEAD, timing: null }).handshake13(1);
  v.c(43, 1.05).s(EHLO_REPLY, 1.051).c(81, 1.1).s(52, 1.1001).s(47, 1.1002).s(59, 1.1003);
  assert.deepEqual(v.outcomes, [
    ['failure', SIZE, 52],
    ['success', SIZE, 47],
  ]);
  assert.equal(v.model.unsolicited, 1);
});

test("a record with no client record before it stays unsolicited except right after an AUTH command's outcome", () => {
  // After a 535 that ended an AUTH LOGIN exchange (SASL data, not a pipelinable command): unsolicited.
  const w = new TlsWire({ sizes: EXIM, overhead: TLS13_AEAD, timing: null }).handshake13(1);
  w.c(43, 1.05).s(EHLO_REPLY, 1.051).c(29, 1.1).s(35, 1.101).c(27, 1.11).s(35, 1.111).c(27, 1.12).s(52, 1.121).s(52, 1.122);
  assert.deepEqual(w.outcomes, [['failure', SIZE, 52]]);
  assert.equal(w.model.unsolicited, 1);
  // A ticket before the EHLO reply, and the EHLO reply itself: never classified (Postfix + Dovecot).
  const p = new TlsWire({ sizes: POSTFIX_DOVECOT, overhead: TLS13_AEAD, timing: DOVECOT_TIMING }).handshake13(1);
  p.s(250, 1.003).c(43, 1.004).s(193, 1.005).c(98, 1.1).s(218, 1.5);
  assert.deepEqual(
    p.outcomes.map((o) => o[0]),
    ['failure', 'failure', 'failure'],
  );
  assert.equal(p.model.unsolicited, 1);
});
