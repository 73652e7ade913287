/**
 * Choosing a session's record overhead (src/tls/session-inference.ts): one AUTH model per candidate
 * overhead until one recognises a known reply size; TLS 1.3 has one candidate, TLS 1.2 three.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basisNames, DOVECOT_TIMING, type InferredOutcome } from '../src/tls/auth-exchange.js';
import { POSTFIX_DOVECOT, recordLength, TLS12_CBC_SHA1, TLS12_CBC_SHA1_ETM, TLS12_GCM, TLS13_AEAD, type ReplySizes } from '../src/tls/record-size.js';
import { SessionInference } from '../src/tls/session-inference.js';

class Session {
  readonly outcomes: [InferredOutcome, string[], number][] = [];
  readonly inf: SessionInference;
  constructor(tls13: boolean, sizes: ReplySizes = POSTFIX_DOVECOT) {
    this.inf = new SessionInference(sizes, DOVECOT_TIMING, () => tls13, {
      outcome: (kind, basis, len) => {
        this.outcomes.push([kind, basisNames(basis), len]);
      },
    });
  }
  c(len: number, ts: number): this {
    this.inf.record(true, 23, 0x0303, len, true, ts);
    return this;
  }
  s(len: number, ts: number): this {
    this.inf.record(false, 23, 0x0303, len, true, ts);
    return this;
  }
  /** EHLO and its reply, then AUTH LOGIN with 334s of `r334`; the outcome is the caller's. */
  login(r334: number, t: number): this {
    return this.c(40, t)
      .s(200, t + 0.001)
      .c(40, t + 0.1)
      .s(r334, t + 0.101)
      .c(40, t + 0.2)
      .s(r334, t + 0.201)
      .c(40, t + 0.3);
  }
}

const BOTH = ['tls-size', 'tls-timing'];

test('CBC without encrypt-then-MAC: the MAC is padded with the plaintext (measured in pcaps/tls/tls12-cbc)', () => {
  const s = POSTFIX_DOVECOT;
  assert.deepEqual(
    [s.failure!, s.success!, s.tempfail!, s.challenge!, s.quit!].map((n) => recordLength(TLS12_CBC_SHA1, n)),
    [112, 80, 128, 64, 64],
  );
  assert.deepEqual(
    [s.failure!, s.success!, s.challenge!].map((n) => recordLength(TLS12_CBC_SHA1_ETM, n)),
    [100, 84, 68],
  );
});

test('TLS 1.2: the overhead under which the 334 fits is kept (GCM, CBC with and without ETM)', () => {
  const cases: [typeof TLS12_GCM, number, number][] = [
    [TLS12_GCM, 42, 86],
    [TLS12_CBC_SHA1_ETM, 68, 100],
    [TLS12_CBC_SHA1, 64, 112],
  ];
  for (const [ov, r334, r535] of cases) {
    const w = new Session(false).login(r334, 1).s(r535, 1.6);
    assert.equal(w.inf.chosenOverhead, ov);
    assert.deepEqual(w.outcomes, [['failure', BOTH, r535]]);
  }
});

test('TLS 1.2 AUTH PLAIN with an initial response: the outcome itself picks the overhead, and is reported', () => {
  const w = new Session(false).c(40, 1).s(200, 1.001).c(60, 2).s(61, 2.003); // GCM 235
  assert.equal(w.inf.chosenOverhead, TLS12_GCM);
  assert.deepEqual(w.outcomes, [['success', BOTH, 61]]);
});

test('TLS 1.3 has one candidate; a session with no known size chooses nothing and infers nothing', () => {
  const w = new Session(true).login(35, 1).s(79, 1.6);
  assert.equal(w.inf.chosenOverhead, TLS13_AEAD);
  assert.deepEqual(w.outcomes, [['failure', BOTH, 79]]);
  const none = new Session(false).c(40, 1).s(200, 1.001).c(30, 2).s(31, 2.001).c(23, 3).s(33, 3.001);
  assert.equal(none.inf.chosenOverhead, null);
  assert.deepEqual(none.outcomes, []);
});

test('two overheads fitting the same record leave the session undecided, nothing inferred', () => {
  // Made-up sizes: 48 bytes is a 334 under GCM (24 + 24) and a 535 under CBC without ETM (16 + pad16(10 + 21)).
  const sizes: ReplySizes = { failure: 10, success: null, tempfail: null, challenge: 24, quit: null };
  const w = new Session(false, sizes).c(40, 1).s(200, 1.001).c(40, 2).s(48, 2.3);
  assert.equal(w.inf.undecidable, true);
  assert.equal(w.inf.chosenOverhead, null);
  w.s(34, 3).c(40, 4).s(34, 4.3);
  assert.deepEqual(w.outcomes, []);
});

test('records lost before an overhead was chosen: nothing is inferred after', () => {
  const w = new Session(true).c(40, 1).s(200, 1.001);
  w.inf.lost(false, 1.5);
  w.login(35, 2).s(79, 2.6);
  assert.deepEqual(w.outcomes, []);
});

test('CBC: 100 bytes after an AUTH with an initial response is a 535 or 235 + 221; the delay decides', () => {
  const slow = new Session(false).login(68, 1).s(100, 1.6).c(60, 2).s(100, 2.5);
  assert.deepEqual(slow.outcomes, [
    ['failure', BOTH, 100],
    ['failure', BOTH, 100],
  ]);
  const quick = new Session(false).login(68, 1).s(100, 1.6).c(60, 2).s(100, 2.001);
  assert.deepEqual(quick.outcomes, [
    ['failure', BOTH, 100],
    ['success', BOTH, 100],
  ]);
  const between = new Session(false).login(68, 1).s(100, 1.6).c(60, 2).s(100, 2.05); // 50 ms: no band
  assert.deepEqual(between.outcomes, [
    ['failure', BOTH, 100],
    ['ambiguous', ['tls-size'], 100],
  ]);
});
