import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DOVECOT_TIMING } from '../src/tls/auth-exchange.js';
import { POSTFIX_DOVECOT, recordLength, TLS12_CBC_SHA1_ETM, TLS12_GCM, TLS13_AEAD, type ReplySizes } from '../src/tls/record-size.js';
import { recordBytes, TlsWire } from './support/tls-wire.js';

// Record lengths of the measured Postfix + Dovecot replies under TLS 1.3 (plaintext + 17).
const R535 = 79;
const R235 = 54;
const R454 = 103;
const R334 = 35;
const R221 = 32;
const EHLO_REPLY = 197;
const SIZE = ['tls-size'];
const BOTH = ['tls-size', 'tls-timing'];

/** TLS 1.3 session up to the EHLO reply, with the NewSessionTicket first. */
function afterEhlo(w = new TlsWire(), t = 1): TlsWire {
  return w
    .handshake13(t)
    .s(218, t + 0.003)
    .c(25, t + 0.004)
    .s(EHLO_REPLY, t + 0.005);
}

/** AUTH LOGIN: command, 334, username, 334, password; the outcome is the caller's. */
function login(w: TlsWire, t: number): TlsWire {
  return w
    .c(29, t)
    .s(R334, t + 0.001)
    .c(30, t + 0.01)
    .s(R334, t + 0.011)
    .c(30, t + 0.02);
}

test('record sizes: the measured overheads give the measured record lengths', () => {
  const s = POSTFIX_DOVECOT;
  assert.deepEqual([s.failure, s.success, s.tempfail, s.challenge, s.quit], [62, 37, 86, 18, 15]);
  assert.deepEqual(
    [s.failure!, s.success!, s.tempfail!, s.challenge!].map((n) => recordLength(TLS13_AEAD, n)),
    [79, 54, 103, 35],
  );
  assert.deepEqual(
    [62, 37, 86, 18].map((n) => recordLength(TLS12_GCM, n)),
    [86, 61, 110, 42],
  );
  // 16 IV + pad16(n + 1) + 20 MAC
  assert.deepEqual(
    [62, 37, 86, 18, 15, 16].map((n) => recordLength(TLS12_CBC_SHA1_ETM, n)),
    [100, 84, 132, 68, 52, 68],
  );
  // 3 × 535 + 221 in one TLS 1.3 record: 3·62 + 15 + 17 = 218
  assert.equal(recordLength(TLS13_AEAD, 3 * 62 + 15), 218);
});

test('TLS 1.3, ticket first, AUTH LOGIN failure: one failure by size and timing', () => {
  const w = login(afterEhlo(), 2)
    .s(R535, 2.02 + 0.3)
    .c(23, 3)
    .s(R221, 3.001);
  assert.deepEqual(w.outcomes, [['failure', BOTH, R535]]);
  assert.equal(w.model.failures, 1);
  assert.equal(w.model.unsolicited, 1); // the ticket came before EHLO: the client had not spoken
});

test('the ticket may come after the client EHLO record: the EHLO reply then stands alone, nothing shifts', () => {
  const w = new TlsWire().handshake13(1).c(25, 1.004).s(218, 1.005).s(EHLO_REPLY, 1.006);
  login(w, 2).s(R535, 2.5);
  assert.deepEqual(w.outcomes, [['failure', BOTH, R535]]);
  assert.equal(w.model.unsolicited, 1);
});

test('two tickets (OpenSSL default), in one segment after the client EHLO record: nothing shifts either', () => {
  const w = new TlsWire().handshake13(1).c(25, 1.004).s([218, 218], 1.005).s(EHLO_REPLY, 1.006);
  login(w, 2).s(R535, 2.5);
  assert.deepEqual(w.outcomes, [['failure', BOTH, R535]]);
  assert.equal(w.model.unsolicited, 2);
});

test('AUTH PLAIN with an initial response: the outcome is the second server data record after the ticket', () => {
  const fail = afterEhlo().c(60, 2).s(R535, 2.4);
  assert.deepEqual(fail.outcomes, [['failure', BOTH, R535]]);
  const ok = afterEhlo().c(60, 2).s(R235, 2.003);
  assert.deepEqual(ok.outcomes, [['success', BOTH, R235]]);
});

test('AUTH PLAIN without an initial response: 334 (empty challenge, size known only if configured) then the outcome', () => {
  // Postfix answers `334 ` (6 bytes) to a bare AUTH PLAIN.
  const sizes: ReplySizes = { ...POSTFIX_DOVECOT, challenge: null };
  const w = afterEhlo(new TlsWire({ sizes, overhead: TLS13_AEAD, timing: null }))
    .c(29, 2)
    .s(6 + 17, 2.001)
    .c(60, 2.01)
    .s(R535, 2.5);
  // Without the 334 size the first reply is not an outcome and leaves the AUTH position: the 535 is ambiguous.
  assert.deepEqual(w.outcomes, [['ambiguous', SIZE, R535]]);
  const known = afterEhlo(new TlsWire({ sizes: { ...POSTFIX_DOVECOT, challenge: 6 }, overhead: TLS13_AEAD, timing: null }))
    .c(29, 2)
    .s(23, 2.001)
    .c(60, 2.01)
    .s(R535, 2.5);
  assert.deepEqual(known.outcomes, [['failure', SIZE, R535]]);
});

test('several AUTHs in one session: 3 × 535 then 235, each counted; nothing after the success', () => {
  const w = afterEhlo();
  login(w, 2).s(R535, 2.3);
  login(w, 3).s(R535, 4.5);
  w.c(60, 5).s(R535, 5.2); // PLAIN with an initial response between LOGINs
  login(w, 6).s(R235, 6.021);
  // Mail after the success: MAIL 250, RCPT 250, DATA 354 (54 = a 235's size), body, 250 queued (54), QUIT 221.
  w.c(40, 7).s(31, 7.01).c(35, 7.02).s(31, 7.03).c(23, 7.04).s(R235, 7.05).c(500, 7.06).s(R235, 7.3).c(23, 7.4).s(R221, 7.41);
  assert.deepEqual(w.outcomes, [
    ['failure', BOTH, R535],
    ['failure', BOTH, R535],
    ['failure', BOTH, R535],
    ['success', BOTH, R235],
  ]);
  assert.deepEqual([w.model.failures, w.model.successes, w.model.ambiguous], [3, 1, 0]);
});

test('pipelined AUTH PLAIN × 3 + QUIT: one 218-byte record is 3 × 535 + 221, decomposed, then nothing more', () => {
  const w = afterEhlo().c(180, 2).s(218, 3.5).s(R535, 3.6);
  assert.deepEqual(w.outcomes, [
    ['failure', SIZE, 218],
    ['failure', SIZE, 218],
    ['failure', SIZE, 218],
  ]);
  assert.equal(w.model.failures, 3);
});

test('a coalesced record that two combinations fit is ambiguous, never counted', () => {
  // Made-up texts where 454 = 535 + 235 in length: 60 = 40 + 20.
  const sizes: ReplySizes = { failure: 40, success: 20, tempfail: 60, challenge: 18, quit: 15 };
  const w = afterEhlo(new TlsWire({ sizes, overhead: TLS13_AEAD, timing: DOVECOT_TIMING }))
    .c(100, 2)
    .s(60 + 17, 2.3);
  assert.deepEqual(w.outcomes, [['ambiguous', SIZE, 77]]);
  assert.deepEqual([w.model.failures, w.model.successes, w.model.tempfails, w.model.ambiguous], [0, 0, 0, 1]);
  // The same sizes alone are still unambiguous: 40 fits only one failure.
  const one = afterEhlo(new TlsWire({ sizes, overhead: TLS13_AEAD, timing: null }))
    .c(100, 2)
    .s(57, 2.3);
  assert.deepEqual(one.outcomes, [['failure', SIZE, 57]]);
});

test('454 to the AUTH command itself under the penalty: tempfail by size and timing', () => {
  const w = afterEhlo().c(29, 2).s(R454, 12.0);
  assert.deepEqual(w.outcomes, [['tempfail', BOTH, R454]]);
});

test('equal sizes in the wrong direction or position are never classified', () => {
  // Client records of 79 and 54; an EHLO reply of 79; a ticket of 79 before any client data.
  const w = new TlsWire().handshake13(1).s(R535, 1.003).c(R535, 1.004).s(R535, 1.005).c(R235, 2).c(R535, 2.1);
  assert.deepEqual(w.outcomes, []);
  // Another command's reply first (MAIL → 250, 31 bytes): a 79 after it stands where no AUTH does.
  const off = afterEhlo().c(40, 2).s(31, 2.01).c(35, 2.1).s(R535, 2.4);
  assert.deepEqual(off.outcomes, [['ambiguous', SIZE, R535]]);
  assert.equal(off.model.failures, 0);
  // A second server record after one client record (a reply split in two records) is unsolicited.
  const split = afterEhlo().c(60, 2).s(40, 2.1).s(R535, 2.2);
  assert.deepEqual(split.outcomes, []);
  assert.equal(split.model.unsolicited, 2); // the ticket and the second record
});

test('unknown sizes: an AUTH exchange known by its 334 ends unclassified, or by timing alone when given', () => {
  const sizes: ReplySizes = { failure: null, success: null, tempfail: null, challenge: 18, quit: null };
  const bare = login(afterEhlo(new TlsWire({ sizes, overhead: TLS13_AEAD, timing: null })), 2).s(R535, 2.3);
  assert.deepEqual(bare.outcomes, []);
  assert.equal(bare.model.unclassified, 1);
  const timed = login(afterEhlo(new TlsWire({ sizes, overhead: TLS13_AEAD, timing: DOVECOT_TIMING })), 2).s(R535, 2.3);
  assert.deepEqual(timed.outcomes, [['failure', ['tls-timing'], R535]]);
  // A quick reply of unknown size is not taken for a success by timing: a 501 after `*` is as quick.
  const quick = login(afterEhlo(new TlsWire({ sizes, overhead: TLS13_AEAD, timing: DOVECOT_TIMING })), 2).s(50, 2.021);
  assert.deepEqual(quick.outcomes, []);
  assert.equal(quick.model.unclassified, 1);
  // A slow one of unknown size after the 334 is a tempfail by timing alone (Dovecot's penalty).
  const slow = login(afterEhlo(new TlsWire({ sizes, overhead: TLS13_AEAD, timing: DOVECOT_TIMING })), 2).s(70, 12.1);
  assert.deepEqual(slow.outcomes, [['tempfail', ['tls-timing'], 70]]);
  // Exim's 535 (`535 Incorrect authentication data`, 36 + 17 = 53) is not Dovecot's 79: not sized.
  const exim = login(afterEhlo(new TlsWire({ sizes: POSTFIX_DOVECOT, overhead: TLS13_AEAD, timing: null })), 2).s(53, 2.3);
  assert.deepEqual(exim.outcomes, []);
  assert.equal(exim.model.unclassified, 1);
  // Timing alone never classifies a reply that is not known to end an AUTH (no 334 before it).
  const plain = afterEhlo(new TlsWire({ sizes, overhead: TLS13_AEAD, timing: DOVECOT_TIMING }))
    .c(60, 2)
    .s(R535, 2.3);
  assert.deepEqual(plain.outcomes, []);
});

test('size and timing that disagree make the outcome ambiguous', () => {
  const w = login(afterEhlo(), 2).s(R535, 2.022); // a 535's size 2 ms after the password
  assert.deepEqual(w.outcomes, [['ambiguous', BOTH, R535]]);
  const between = login(afterEhlo(), 2).s(R535, 2.07); // 50 ms: between the bands, size alone
  assert.deepEqual(between.outcomes, [['failure', SIZE, R535]]);
});

test('TLS 1.2 GCM and CBC sessions: outcomes at their own overheads, no ticket record', () => {
  const gcm = new TlsWire({ sizes: POSTFIX_DOVECOT, overhead: TLS12_GCM, timing: null }).handshake12(1).c(32, 1.1).s(220, 1.11);
  gcm.c(36, 2).s(42, 2.001).c(36, 2.01).s(42, 2.011).c(36, 2.02).s(86, 2.3).c(36, 3).s(61, 3.002);
  assert.deepEqual(gcm.outcomes, [
    ['failure', SIZE, 86],
    ['success', SIZE, 61],
  ]);
  const cbc = () => new TlsWire({ sizes: POSTFIX_DOVECOT, overhead: TLS12_CBC_SHA1_ETM, timing: null }).handshake12(1).c(52, 1.1).s(244, 1.11);
  const cbcLogin = (w: TlsWire, t: number): TlsWire =>
    w
      .c(68, t)
      .s(68, t + 0.001)
      .c(68, t + 0.01)
      .s(68, t + 0.011)
      .c(68, t + 0.02);
  const l = cbc();
  cbcLogin(l, 2).s(100, 2.3);
  cbcLogin(l, 3).s(132, 13);
  cbcLogin(l, 14).s(84, 14.021);
  assert.deepEqual(l.outcomes, [
    ['failure', SIZE, 100],
    ['tempfail', SIZE, 132],
    ['success', SIZE, 84],
  ]);
  // With an initial response (pipelining allowed) 100 bytes is a 535 or 235 + 221 (37 + 15 = 52, same blocks).
  const p = cbc().c(84, 2).s(100, 2.3);
  assert.deepEqual(p.outcomes, [['ambiguous', SIZE, 100]]);
});

test('implicit TLS (465): the encrypted 220 greeting comes unasked and is not the EHLO reply', () => {
  const w = new TlsWire().handshake13(1).s(218, 1.003).s(50, 1.004).c(25, 1.01).s(EHLO_REPLY, 1.011).c(60, 2).s(R535, 2.3);
  assert.deepEqual(w.outcomes, [['failure', BOTH, R535]]);
});

test('an outcome record split across segments, or sharing a segment with others, counts once', () => {
  const w = afterEhlo().c(60, 2);
  w.bytes(false, recordBytes(23, R535), 2.3, [2, 40]);
  assert.deepEqual(w.outcomes, [['failure', BOTH, R535]]);
  // Client username and password records in one segment: one client turn.
  const v = afterEhlo().c(29, 2).s(R334, 2.001).c([30, 30], 2.01).s(R535, 2.4);
  assert.deepEqual(v.outcomes, [['failure', BOTH, R535]]);
});

test('a gap that loses the server records stops classification: nothing after it is counted', () => {
  const w = afterEhlo().c(60, 2);
  w.bytes(false, recordBytes(23, 300).subarray(0, 10), 2.1);
  w.tracker.gap(false, 400, 2.2);
  w.c(60, 3).s(R535, 3.3).c(60, 4).s(R535, 4.3);
  assert.deepEqual(w.outcomes, []);
  assert.equal(w.model.streamLost, true);
  assert.deepEqual(w.events, ['lost server', 'resynced server']);
});
