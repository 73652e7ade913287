import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PatternAutomaton } from '../src/smtp/stream-matcher.js';
import { StreamMatcher } from './support/stream-matcher.js';

/** Reference: every (pattern, end offset) by brute force. */
function naive(text: Buffer, patterns: Buffer[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i++) {
    patterns.forEach((p, pi) => {
      if (i + 1 >= p.length && text.subarray(i + 1 - p.length, i + 1).equals(p)) out.push(`${pi}@${i + 1}`);
    });
  }
  return out.sort();
}

function streamed(text: Buffer, patterns: Buffer[], cuts: number[]): string[] {
  const m = new StreamMatcher(patterns);
  const out: string[] = [];
  let start = 0;
  for (const cut of [...cuts.filter((c) => c > 0 && c < text.length).sort((a, b) => a - b), text.length]) {
    // Each segment lives in its own buffer, as reassembled segments do.
    const seg = Buffer.from(text.subarray(start, cut));
    const base = start;
    m.feed(seg, 0, seg.length, (pi, end) => out.push(`${pi}@${base + end}`));
    start = cut;
  }
  return out.sort();
}

test('finds a pattern split across two and three segments', () => {
  const text = Buffer.from('250 ok\r\n535 5.7.0 authentication failed\r\n221 bye\r\n');
  const p = [Buffer.from('535 5.7.0 authentication failed')];
  const want = naive(text, p);
  assert.equal(want.length, 1);
  assert.deepEqual(streamed(text, p, [12]), want);
  assert.deepEqual(streamed(text, p, [9, 10, 30]), want);
  for (let cut = 1; cut < text.length; cut++) assert.deepEqual(streamed(text, p, [cut]), want, `cut at ${cut}`);
});

test('overlapping and multiple patterns match like a brute-force scan', () => {
  const text = Buffer.from('aaaa abab ababab 535 535-535 ');
  const p = [Buffer.from('aa'), Buffer.from('abab'), Buffer.from('535'), Buffer.from('5 5')];
  assert.deepEqual(streamed(text, p, []), naive(text, p));
  assert.deepEqual(streamed(text, p, [1, 3, 7, 8, 20]), naive(text, p));
});

test('property: any random segmentation yields the same matches as the whole stream', () => {
  const alphabet = fc.constantFrom(...'53 -a\r\nb'.split(''));
  fc.assert(
    fc.property(
      fc.array(fc.string({ unit: alphabet, minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 3 }),
      fc.string({ unit: alphabet, maxLength: 300 }),
      fc.array(fc.nat(300), { maxLength: 40 }),
      (pats, body, cuts) => {
        const patterns = pats.map((s) => Buffer.from(s, 'latin1'));
        const text = Buffer.from(body, 'latin1');
        assert.deepEqual(streamed(text, patterns, cuts), naive(text, patterns));
      },
    ),
    { numRuns: 1500 },
  );
});

test('a segment view inside a larger buffer never matches past its end', () => {
  const a = new PatternAutomaton([Buffer.from('535 ')]);
  const big = Buffer.alloc(10000, 0x20);
  big.write('53', 100);
  big.write('5 ', 102); // the rest of the pattern lies beyond the segment end
  const hits: number[] = [];
  const state = a.run(0, big, 0, 102, (_p, e) => hits.push(e));
  assert.equal(hits.length, 0);
  a.run(state, big, 102, 104, (_p, e) => hits.push(e));
  assert.deepEqual(hits, [104]);
});
