/** Whether a core stood idle (src/io/spare-cores.ts): /proc/stat's first line read and compared. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cpuTimes, idleCores, parseCpuLine } from '../src/io/spare-cores.js';

test('parseCpuLine: idle and I/O wait against all the times; anything else is null', () => {
  assert.deepEqual(parseCpuLine('cpu  100 10 50 800 40 0 5 0 0 0\ncpu0 1 2 3 4\n'), { idle: 840, total: 1005 });
  assert.deepEqual(parseCpuLine('cpu 1 2 3 4'), { idle: 4, total: 10 });
  for (const bad of ['', 'cpu0 1 2 3 4 5', 'cpu  1 2 x 4 5', 'intr 1 2 3 4', 'cpu 1 2']) assert.equal(parseCpuLine(bad), null, JSON.stringify(bad));
});

test('idleCores: the idle share of the ticks between two readings, times the cores; null when unknown or too short', () => {
  const a = { idle: 1000, total: 4000 };
  assert.equal(idleCores(a, { idle: 1050, total: 4100 }, 2), 1); // half the ticks idle on 2 cores: one core
  assert.equal(idleCores(a, { idle: 1000, total: 4100 }, 2), 0); // all busy
  assert.equal(idleCores(a, { idle: 1025, total: 4100 }, 4), 1);
  assert.equal(idleCores(a, { idle: 1001, total: 4004 }, 2), null); // 4 ticks: too few to tell
  assert.equal(idleCores(null, a, 2), null);
  assert.equal(idleCores(a, null, 2), null);
});

test("cpuTimes: this machine's /proc/stat (Linux) reads, and its total only grows", (t) => {
  if (!existsSync('/proc/stat')) {
    t.skip('SKIPPED: no /proc/stat here (not Linux): replay then uses the formatter thread only on 3 cores or more');
    return;
  }
  const a = cpuTimes();
  assert.ok(a && a.total > 0 && a.idle >= 0 && a.idle <= a.total);
  const b = cpuTimes();
  assert.ok(b && b.total >= a.total && b.idle >= a.idle);
  assert.equal(cpuTimes('/nonexistent/stat'), null);
});
