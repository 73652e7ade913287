/**
 * Quick fuzz run (issue 9, item 7): every target of test/fuzz/campaign.ts with a fixed seed and a
 * bounded number of cases — capture readers (pcap, pcapng, gzip) and the whole pipeline on mutated
 * real captures, the decoder on mutated and random frames, the SMTP layer on generated
 * conversations, the log parsers on mutated log lines and files — plus a few CLI runs over mutated
 * files. Each target runs in a worker (test/fuzz/watchdog.ts), so a hang or a runaway allocation
 * fails with the case that caused it. The long run is `npm run fuzz` (scripts/fuzz.ts); see
 * native-notes/fuzz.md.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { CLI } from './support/cli.js';
import { tempDir } from './support/synth.js';
import { TARGETS } from './fuzz/campaign.js';
import { applyMutations, mutationsArb } from './fuzz/mutations.js';
import { captureSeeds, logSeeds } from './fuzz/seeds.js';
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
};

test('every fuzz target has a quick-run budget', () => {
  assert.deepEqual(Object.keys(RUNS).sort(), Object.keys(TARGETS).sort());
});

for (const [name, numRuns] of Object.entries(RUNS)) {
  test(`fuzz ${name}: ${numRuns} cases, seed ${SEED}`, async () => {
    await runTargetWatched(name, { seed: SEED, numRuns });
  });
}

/** A stack trace or a JavaScript error name on stderr means an exception escaped to the user. */
const CRASH = /^\s+at .+:\d+:\d+\)?$|\b(TypeError|RangeError|ReferenceError|SyntaxError|AssertionError)\b|Unhandled|FATAL ERROR/m;

function cli(args: string[]): { status: number | null; stderr: string } {
  // A small heap: a mutated length field must not make a command allocate without bound.
  const r = spawnSync(process.execPath, ['--max-old-space-size=192', CLI, ...args], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, timeout: 120_000, maxBuffer: 64 << 20 });
  return { status: r.status, stderr: r.stderr };
}

/** Mutated inputs from the fixed seed, written to files. */
function mutatedFiles(dir: string, seeds: { name: string; bytes: Buffer }[], n: number, ext: string): string[] {
  const donors = seeds.map((s) => s.bytes);
  return fc.sample(fc.tuple(fc.nat({ max: seeds.length - 1 }), mutationsArb), { seed: SEED, numRuns: n }).map(([i, muts], k) => {
    const f = join(dir, `m${k}${ext}`);
    writeFileSync(f, applyMutations(seeds[i]!.bytes, muts, donors));
    return f;
  });
}

test('CLI over mutated captures and logs: exit 0, 1 or 2, never a stack trace', () => {
  const t = tempDir();
  try {
    const caps = mutatedFiles(t.dir, captureSeeds(), 6, '.pcap');
    const logs = mutatedFiles(t.dir, logSeeds(), 3, '.log');
    const runs: string[][] = [
      ['replay', '--json', ...caps.slice(0, 3)],
      ['replay', caps[3]!],
      ['dump', '-X', '-r', caps[4]!],
      ['dump', '-r', caps[5]!],
      ['accounts', '-c', '/dev/null', '-g', '0', '-l', '0', ...logs],
      ['report', '-c', '/dev/null', '--no-state', '--capture', caps[0]!, '--logs', logs[0]!],
    ];
    for (const args of runs) {
      const r = cli(args);
      assert.ok(r.status === 0 || r.status === 1 || r.status === 2, `smtpstrike ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
      assert.doesNotMatch(r.stderr, CRASH, `smtpstrike ${args.join(' ')}`);
    }
  } finally {
    t.cleanup();
  }
});
