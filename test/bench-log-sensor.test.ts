/**
 * The bench's log-sensor harness (bench/log-sensor.ts) at a low rate: the consumer process
 * (LogFollower + LineParser + SensorMerge/StrikeEngine) sees every written line and the same
 * outcomes as a LineParser run over the same lines. No timing is asserted.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runLogSensorCase, sensorLinePool } from '../bench/log-sensor.js';

test('log-sensor harness at 2,000 lines/s for 1 s: every line and outcome seen, lag and CPU reported', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'log-sensor-'));
  try {
    const r = await runLogSensorCase({ rate: 2000, seconds: 1, dir, pool: sensorLinePool(3000, 5) });
    assert.equal(r.lines_written, 2000);
    assert.equal(r.lines_seen, 2000);
    assert.ok(r.expected.failures > 0 && r.expected.successes > 0 && r.expected.tempfails > 0, JSON.stringify(r.expected));
    assert.deepEqual({ failures: r.seen.failures, successes: r.seen.successes, tempfails: r.seen.tempfails }, r.expected);
    assert.equal(r.exact, true, r.problems.join('; '));
    assert.ok(r.seen.strikes > 0, 'log failures reached the strike engine');
    assert.ok(Number.isFinite(r.lag_ms.p50) && Number.isFinite(r.lag_ms.max));
    assert.ok(r.consumer_cpu.user_s >= 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
