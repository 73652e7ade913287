import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_RECORD_LENGTH, plausibleHeader } from '../src/tls/record-tracker.js';
import { recordBytes, TlsWire } from './support/tls-wire.js';

const summary = (w: TlsWire): string[] => w.records.map((r) => `${r.fromClient ? 'C' : 'S'} ${r.type} ${r.length}${r.app ? ' app' : ''}`);

test('TLS 1.3: encrypted handshake records are not data; the client Finished ends the handshake; the ticket is the first server data', () => {
  const w = new TlsWire().handshake13(1).c(46, 1.01).s([218, 197], 1.02);
  assert.deepEqual(summary(w), [
    'C 22 512',
    'S 22 122',
    'S 20 1',
    'S 23 2100',
    'S 23 286',
    'S 23 69',
    'C 20 1',
    'C 23 69',
    'C 23 46 app',
    'S 23 218 app',
    'S 23 197 app',
  ]);
  assert.equal(w.tracker.tls13, true);
  assert.equal(w.tracker.handshakeDone(true), true);
  assert.equal(w.tracker.handshakeDone(false), true);
  assert.equal(w.tracker.clientRecords, 4);
  assert.equal(w.tracker.serverRecords, 7);
  assert.equal(w.records[0]!.version, 0x0303);
});

test('TLS 1.2: Finished is the Handshake record after ChangeCipherSpec; data after it', () => {
  const w = new TlsWire().handshake12(1).c(53, 1.01).s(71, 1.02);
  assert.deepEqual(summary(w).slice(-4), ['S 20 1', 'S 22 40', 'C 23 53 app', 'S 23 71 app']);
  assert.equal(w.tracker.tls13, false);
  assert.equal(w.records.filter((r) => r.app).length, 2);
});

test('a record split across segments at every point of its header and body is read once, the same', () => {
  const rec = Buffer.concat([recordBytes(23, 74), recordBytes(23, 57)]);
  for (let a = 1; a < rec.length; a++) {
    for (const b of [a + 1, a + 3, rec.length - 1]) {
      if (b <= a || b >= rec.length) continue;
      const w = new TlsWire().handshake13(1);
      w.bytes(false, rec, 2, [a, b]);
      assert.deepEqual(summary(w).slice(-2), ['S 23 74 app', 'S 23 57 app'], `cuts ${a},${b}`);
      assert.deepEqual(w.events, []);
    }
  }
});

test('several records in one segment are all read, with the segment time', () => {
  const w = new TlsWire().handshake13(1).c([20, 30, 40], 5.5);
  assert.deepEqual(
    w.records.slice(-3).map((r) => [r.length, r.ts, r.app]),
    [
      [20, 5.5, true],
      [30, 5.5, true],
      [40, 5.5, true],
    ],
  );
});

test('a gap of known size inside a body keeps the headers in step', () => {
  const w = new TlsWire().handshake13(1);
  const two = Buffer.concat([recordBytes(23, 100), recordBytes(23, 79)]);
  w.bytes(false, two.subarray(0, 40), 2);
  w.tracker.gap(false, 30, 2.1);
  w.bytes(false, two.subarray(70), 2.2);
  assert.deepEqual(summary(w).slice(-2), ['S 23 100 app', 'S 23 79 app']);
  assert.deepEqual(w.events, []);
  assert.equal(w.tracker.isLost(false), false);
});

test('a gap that reaches a header loses the direction until a segment starts with a header', () => {
  const w = new TlsWire().handshake13(1);
  w.bytes(false, recordBytes(23, 100).subarray(0, 50), 2);
  w.tracker.gap(false, 100, 2.1); // 55 body bytes were left: the next header is in the gap
  assert.deepEqual(w.events, ['lost server']);
  assert.equal(w.tracker.isLost(false), true);
  const before = w.records.length;
  w.bytes(false, recordBytes(23, 60).subarray(20), 2.2); // the middle of a record: skipped
  assert.equal(w.records.length, before);
  w.s(79, 2.3); // begins with a header
  assert.deepEqual(w.events, ['lost server', 'resynced server']);
  assert.deepEqual(summary(w).slice(-1), ['S 23 79 app']);
});

test('a gap that ends exactly at the next header keeps step; one in the middle of a header loses the direction', () => {
  const w = new TlsWire().handshake13(1);
  const two = Buffer.concat([recordBytes(23, 100), recordBytes(23, 79)]);
  w.bytes(false, two.subarray(0, 5), 2);
  w.tracker.gap(false, 100, 2.1); // the whole body
  w.bytes(false, two.subarray(105), 2.2);
  assert.deepEqual(summary(w).slice(-2), ['S 23 100 app', 'S 23 79 app']);
  assert.deepEqual(w.events, []);
  const h = new TlsWire().handshake13(1);
  h.bytes(false, recordBytes(23, 100).subarray(0, 3), 2); // three header bytes, the length not yet
  h.tracker.gap(false, 10, 2.1);
  assert.deepEqual(h.events, ['lost server']);
});

test('a gap of unknown size loses the direction; the other one goes on', () => {
  const w = new TlsWire().handshake13(1);
  w.tracker.gap(true, -1, 2);
  assert.deepEqual(w.events, ['lost client']);
  w.s(54, 2.1);
  assert.deepEqual(summary(w).slice(-1), ['S 23 54 app']);
});

test('bytes that are not TLS records, or a length beyond the maximum, lose the direction', () => {
  const a = new TlsWire();
  a.bytes(true, Buffer.from('EHLO x\r\n'), 1);
  assert.deepEqual(a.events, ['lost client']);
  assert.equal(a.records.length, 0);
  const b = new TlsWire();
  b.bytes(false, Buffer.from([23, 3, 3, 0x48, 0x01]), 1);
  assert.deepEqual(b.events, ['lost server']);
  const c = new TlsWire();
  c.bytes(false, Buffer.from([23, 2, 0]), 1); // version major 2
  assert.deepEqual(c.events, ['lost server']);
});

test('plausibleHeader: type, version 3.0-3.4, 1..max length', () => {
  assert.equal(plausibleHeader(recordBytes(23, 79), 0, 84), true);
  assert.equal(plausibleHeader(recordBytes(23, 79), 0, 4), false);
  assert.equal(plausibleHeader(recordBytes(25, 79), 0, 84), false);
  assert.equal(plausibleHeader(recordBytes(23, 79, 0x0305), 0, 84), false);
  assert.equal(plausibleHeader(Buffer.from([23, 3, 3, 0, 0]), 0, 5), false);
  const big = Buffer.from([23, 3, 3, (MAX_RECORD_LENGTH + 1) >> 8, (MAX_RECORD_LENGTH + 1) & 0xff]);
  assert.equal(plausibleHeader(big, 0, 5), false);
});

test('property: any records, cut into any segments, give the same headers in the same order (fixed seed)', () => {
  const rec = fc.record({ type: fc.constantFrom(20, 21, 22, 23), length: fc.integer({ min: 0, max: 300 }) });
  fc.assert(
    fc.property(fc.array(rec, { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { maxLength: 8 }), (records, rawCuts) => {
      const bytes = Buffer.concat(records.map((r) => recordBytes(r.type, r.length)));
      const cuts = [...new Set(rawCuts.map((c) => 1 + (c % (bytes.length - 1))))].sort((a, b) => a - b);
      const w = new TlsWire();
      w.bytes(true, bytes, 1, cuts);
      assert.deepEqual(
        w.records.map((r) => [r.type, r.length]),
        records.map((r) => [r.type, r.length]),
      );
      assert.deepEqual(w.events, []);
    }),
    { seed: 10, numRuns: 300 },
  );
});
