/**
 * Repeat offenders on a capture (issue 14, must-have 5): pcaps/crafted/repeat-offender.pcap.gz, one
 * address back every 1201 s for two days with 3 failed AUTHs per visit (scripts/craft-pcaps.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, smtpstrike } from './support/cli.js';
import { tempDir } from './support/synth.js';

const CAP = 'pcaps/crafted/repeat-offender.pcap.gz';
const A = '203.0.113.20';
const VISITS = 144;

interface BlockLine {
  type: string;
  key: string;
  from: number;
  until: number;
  level: number;
}

function replay(extra: string[]): {
  blocks: BlockLine[];
  summaryBlocks: (BlockLine & { rejects: number })[];
  rejects: number;
  coverage: Record<string, unknown>;
} {
  const r = smtpstrike(['replay', '--json', ...extra, CAP]);
  assert.equal(r.status, 0, r.stderr);
  const blocks = r.lines.filter((l) => l.type === 'block') as unknown as BlockLine[];
  const rejects = r.lines.filter((l) => l.type === 'reject').length;
  return { blocks, summaryBlocks: r.summary.blocks as unknown as (BlockLine & { rejects: number })[], rejects, coverage: r.summary.coverage };
}

const len = (b: BlockLine): number => Math.round((b.until - b.from) * 1000) / 1000;

test('replay: the repeat offender blocks grow 1200, 2400, 4800 ... s, and the visits in between are refused', () => {
  const r = replay([]);
  assert.ok(r.blocks.every((b) => b.key === A));
  assert.deepEqual(
    r.blocks.map((b) => b.level),
    [0, 1, 2, 3, 4, 5, 6, 7],
  );
  // Level 0 is xt_recent's own block: from the third failure to the first one + 1200 s.
  assert.ok(Math.abs(len(r.blocks[0]!) - 1200) < 0.05, `first block ${len(r.blocks[0]!)} s`);
  assert.deepEqual(r.blocks.slice(1).map(len), [2400, 4800, 9600, 19200, 38400, 76800, 153600]);
  // Every visit either starts a block or is refused: 1, 3, 7, ... visits fall inside each escalated block.
  assert.deepEqual(
    r.summaryBlocks.map((b) => b.rejects),
    [0, 1, 3, 7, 15, 31, 63, 16],
  );
  assert.equal(r.rejects, VISITS - r.blocks.length);
  assert.equal(r.coverage.escalated_rejects, r.rejects);
  assert.equal(r.coverage.failures_on_rejected_connections, 3 * r.rejects);
  // A refused visit refreshes the block to at least 1200 s from then: never shorter than it began.
  for (const [i, b] of r.summaryBlocks.entries()) assert.ok(b.until >= r.blocks[i]!.until && b.level === r.blocks[i]!.level);
});

test('replay: --escalate-cap caps the growth; --escalate-factor sets it', () => {
  const capped = replay(['--escalate-cap', '10000']);
  assert.deepEqual(capped.blocks.slice(1, 6).map(len), [2400, 4800, 9600, 10_000, 10_000]);
  const tripled = replay(['--escalate-factor', '3']);
  assert.deepEqual(tripled.blocks.slice(1, 4).map(len), [3600, 10_800, 32_400]);
});

test('replay --no-escalate: one block of 1200 s per visit, nothing refused', () => {
  const r = replay(['--no-escalate']);
  assert.equal(r.blocks.length, VISITS);
  assert.ok(r.blocks.every((b) => b.level === 0 && Math.abs(len(b) - 1200) < 0.05));
  assert.equal(r.rejects, 0);
});

test('replay text report: escalated block lines say their level', () => {
  const r = smtpstrike(['replay', CAP]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => l.startsWith(`  ${A}`));
  assert.equal(lines.length, 8);
  assert.doesNotMatch(lines[0]!, /level/);
  assert.match(lines[1]!, /1 connection refused, level 1\)$/);
  assert.match(lines[7]!, /level 7\)$/);
});

test('watch --replay --dry-run: the kernel gets 1200 s x 2^level, refusals never shorten it, and the history is saved in the state file', () => {
  const { dir, cleanup } = tempDir();
  try {
    const config = join(dir, 'config.yaml');
    writeFileSync(config, '');
    const stateFile = join(dir, 'state.json');
    const logFile = join(dir, 'watch.log');
    const r = spawnSync(process.execPath, [CLI, 'watch', '--config', config, '--state-file', stateFile, '--log-file', logFile, '--dry-run', '--replay', CAP], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const log = readFileSync(logFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const blocks = log.filter((l) => l.event === 'block');
    assert.deepEqual(
      blocks.map((b) => [b.level, b.timeout_s]),
      [0, 1, 2, 3, 4, 5, 6, 7].map((n) => [n, 1200 * 2 ** n]),
    );
    // Each dry-run add: a new block's timeout, or a refusal's refresh (never below 1200 s nor below what the block had left).
    const adds = log.filter((l) => l.backend === 'dry-run' && l.op === 'add').map((l) => Number(l.timeout_s));
    assert.ok(adds.length > 0 && adds.every((s) => s >= 1200), adds.join(' '));
    assert.ok(log.some((l) => l.event === 'reject' && l.level === 7));
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as {
      entries: { block: { level: number } | null }[];
      history: { key: string; blocks: number[] }[];
    };
    assert.equal(state.entries[0]!.block!.level, 7);
    assert.equal(state.history.length, 1);
    assert.equal(state.history[0]!.key, A);
    assert.equal(state.history[0]!.blocks.length, 8);
  } finally {
    cleanup();
  }
});
