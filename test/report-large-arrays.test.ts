/**
 * Issue 15: a report over months of logs died with `Maximum call stack size exceeded` — spreads of
 * large arrays as call arguments (`out.push(...list)`, `Math.min(...list)`). These run the paths
 * that had them with lists far longer than any call stack takes (V8 gives up near ~120,000
 * arguments) and check the results, not the time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeBackendLines } from '../src/report/align.js';
import { unionAll } from '../src/report/intervals.js';
import { computeVerdicts } from '../src/report/rules.js';
import type { Attempt, LogAuth } from '../src/report/types.js';
import { att, rules } from './support/report-rules.js';

const T = 1_790_000_000;
const N = 300_000;

test('mergeBackendLines: one address with 300,000 log lines (no spread of its list)', () => {
  const ev: LogAuth[] = [];
  for (let i = 0; i < N; i++) {
    ev.push({
      ts: T + i,
      wall: T + i,
      guessed: false,
      service: 'postfix',
      outcome: 'failure',
      user: 'u',
      ip: '192.0.2.1',
      method: null,
      reason: 'sasl',
      file: 'f',
      line: i + 1,
      lines: 1,
      services: ['postfix'],
    });
  }
  const { merged, pairs } = mergeBackendLines(ev);
  assert.equal(pairs, 0);
  assert.equal(merged.length, N);
  assert.equal(merged[N - 1]!.ts, T + N - 1);
});

test('SUSPECT: one account logged in from 200,000 addresses in a day (first_ts / last_ts without Math.min(...))', () => {
  const a: Attempt[] = [];
  const n = 200_000;
  for (let i = 0; i < n; i++) a.push(att(T + i * 0.1, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 'success', 'alice', 'log'));
  const v = computeVerdicts(a, [], rules());
  const s = v.rows.filter((r) => r.verdict === 'SUSPECT');
  assert.equal(s.length, 1);
  const row = s[0]!;
  assert.ok(row.verdict === 'SUSPECT');
  assert.equal(row.addresses.length, n);
  assert.equal(row.first_ts, T);
  assert.equal(row.last_ts, T + (n - 1) * 0.1);
});

test('unionAll: 200,000 coverage sets', () => {
  const sets = Array.from({ length: 200_000 }, (_, i): [number, number][] => [[i * 10, i * 10 + 5]]);
  const u = unionAll(sets);
  assert.equal(u.length, 200_000);
  assert.deepEqual(u[199_999], [1_999_990, 1_999_995]);
});
