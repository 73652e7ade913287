/**
 * `report --json` writes the document in pieces (src/report/json-out.ts): the pieces joined are
 * `JSON.stringify` of the value, byte for byte, at every depth.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonPieces } from '../src/report/json-out.js';

const samples: unknown[] = [
  null,
  0,
  -1.5,
  'text "quoted" \u2028 é \u{1f600}',
  true,
  [],
  {},
  [1, undefined, null, 'a', [2, [3, { x: undefined, y: [undefined] }]]],
  { a: 1, b: undefined, c: { d: [1, 2, { e: 'f', g: undefined }], h: null }, 10: 'ten', 2: 'two', 'k"ey': 'v' },
  { when: new Date(Date.UTC(2026, 11, 5)), list: [new Date(0)], f: () => 1 },
  { type: 'report', addresses: Array.from({ length: 50 }, (_, i) => ({ ip: `192.0.2.${i}`, events: [{ ts: i + 0.25, user: i % 2 ? null : 'u' }] })) },
];

test('jsonPieces joined is JSON.stringify, at every depth', () => {
  for (const v of samples)
    for (const depth of [0, 1, 2, 3, 8]) assert.equal([...jsonPieces(v, depth)].join(''), JSON.stringify(v), `${JSON.stringify(v)} at depth ${depth}`);
});
