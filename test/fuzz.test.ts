/**
 * Quick fuzz run (issue 9, item 7): every target of test/fuzz/campaign.ts with a fixed seed and a
 * bounded number of cases — capture readers (pcap, pcapng, gzip) and the whole pipeline on mutated
 * real captures, the decoder on mutated and random frames, the SMTP layer on generated
 * conversations, the log parsers on mutated log lines and files — and a few CLI runs over mutated
 * files (exit 0, 1 or 2, no stack trace). Each target runs in a worker (test/fuzz/watchdog.ts), so
 * a hang or a runaway allocation fails with the case that caused it. The long run is
 * `npm run fuzz` (scripts/fuzz.ts); see native-notes/fuzz.md.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TARGETS } from './fuzz/campaign.js';
import { runTargetWatched } from './fuzz/watchdog.js';

/** Fixed, so every machine runs the same cases; `npm run fuzz -- --seed N` explores others. */
const SEED = 20261204;

/** Cases per target: about 15 s in all on a busy 2-core machine. */
const RUNS: Record<string, number> = {
  capture: 1500,
  'capture-scratch': 1500,
  'capture-merge': 300,
  decoder: 3000,
  'dump-printer': 2000,
  'ip-text': 2000,
  'smtp-lines': 2000,
  'smtp-auth-username': 2000,
  'smtp-dialog': 1000,
  'log-line': 2000,
  'log-file': 300,
  // Each case spawns the CLI (about half a second): a handful.
  cli: 8,
};

test('every fuzz target has a quick-run budget', () => {
  assert.deepEqual(Object.keys(RUNS).sort(), Object.keys(TARGETS).sort());
});

for (const [name, numRuns] of Object.entries(RUNS)) {
  test(`fuzz ${name}: ${numRuns} cases, seed ${SEED}`, async () => {
    await runTargetWatched(name, { seed: SEED, numRuns });
  });
}
