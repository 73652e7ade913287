/**
 * Repeat offenders (issue 14, must-have 5): the history and level arithmetic (strikes/escalation.ts),
 * the strike engine's escalated blocks and refusals, and the history through the state file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { MAX_TIMEOUT_SEC } from '../src/blocker/types.js';
import { ESCALATION_MAX_CAP_SECONDS, EscalationHistory, MAX_STAMPS_PER_KEY, defaultEscalationOptions, escalatedSeconds } from '../src/strikes/escalation.js';
import { StrikeEngine } from '../src/strikes/strike-engine.js';
import { readStateChecked, writeStateAtomically } from '../src/strike-state/state-file.js';
import { blockLookup } from '../src/report/rules.js';
import { restoreStrikes } from '../src/watch/restore.js';
import { EventLog, tempDir } from './support/synth.js';
import { engine, fail, nextFlow, syn } from './support/strike-events.js';

/** One visit: a connection at `t` with three failed AUTHs right after it. */
function visit(e: StrikeEngine, client: string, t: number): void {
  const flow = nextFlow();
  e.event(syn(client, t, flow));
  for (let j = 1; j <= 3; j++) e.event(fail(client, t + j * 0.01, flow));
  e.event({ type: 'flow_end', ts: t + 1, flow } as never);
}

const blocksOf = (log: EventLog) => log.events.flatMap((ev) => (ev.type === 'block' ? [ev] : []));
const rejectsOf = (log: EventLog) => log.events.flatMap((ev) => (ev.type === 'reject' ? [ev] : []));

test('the copied kernel cap equals the blockers own; lengths: base times factor per level, at most the cap', () => {
  assert.equal(ESCALATION_MAX_CAP_SECONDS, MAX_TIMEOUT_SEC);
  const o = defaultEscalationOptions();
  assert.deepEqual(o, { factor: 2, capSeconds: 604_800, lookbackSeconds: 604_800 });
  assert.deepEqual(
    [0, 1, 2, 3, 9, 30].map((n) => escalatedSeconds(1200, n, o)),
    [1200, 2400, 4800, 9600, 604_800, 604_800],
  );
  // A base past the cap is never shortened by it.
  assert.equal(escalatedSeconds(1_000_000, 2, o), 1_000_000);
});

test('history: level counts earlier blocks within the lookback; stamps per key and keys are bounded, drops counted', () => {
  const h = new EscalationHistory({ factor: 2, capSeconds: 10_000, lookbackSeconds: 100 }, 3);
  assert.equal(h.level('a', 0), 0);
  h.record('a', 0);
  h.record('a', 50);
  assert.equal(h.level('a', 60), 2);
  assert.equal(h.level('a', 100), 2, 'exactly lookback old still counts');
  assert.equal(h.level('a', 120), 1, 'the block at 0 is past the lookback');
  for (let i = 0; i < 40; i++) h.record('b', 1000 + i);
  assert.equal(h.export(1040).find((x) => x.key === 'b')!.blocks.length, MAX_STAMPS_PER_KEY);
  h.record('c', 1000);
  h.record('d', 1000); // four keys: the least recently used one (a) goes
  assert.equal(h.size, 3);
  assert.equal(h.dropped, 1);
  assert.equal(h.level('a', 60), 0);
  assert.equal(new EscalationHistory(null, 10).level('a', 0), 0, 'disabled: always level 0');
});

test('engine: a key blocked again within the lookback gets level 1, 2, ... and blocks of 2400, 4800 s; visits during one are refused', () => {
  const { e, log } = engine();
  const A = '198.51.100.9';
  for (let k = 0; k < 7; k++) visit(e, A, k * 1201);
  const blocks = blocksOf(log);
  assert.deepEqual(
    blocks.map((b) => b.level),
    [0, 1, 2],
  );
  // Level 0: xt_recent's own until (the first failure + 1200 s); later ones the escalated length.
  assert.ok(Math.abs(blocks[0]!.until - blocks[0]!.from - 1200) < 0.1);
  assert.equal(blocks[1]!.until - blocks[1]!.from, 2400);
  assert.equal(blocks[2]!.until - blocks[2]!.from, 4800);
  // Visit 2 (t=2402) came during the level-1 block; visits 4..6 during the level-2 one (until 8403).
  const rejects = rejectsOf(log);
  assert.deepEqual(
    rejects.map((r) => r.ts),
    [2402, 4804, 6005, 7206],
  );
  assert.ok(rejects.every((r) => r.rule === 'auth' && r.block !== null && r.block.level > 0));
  assert.equal(e.stats.escalatedRejects, 4);
  assert.equal(e.stats.failuresOnRejectedConnections, 12, 'the refused visits strike nothing');
  assert.deepEqual(
    e.blocks.map((b) => b.rejects),
    [0, 1, 3],
  );
  // A refused SYN refreshes the block to at least the base time from now, never shorter.
  assert.equal(e.blocks[1]!.until, 2402 + 1200);
  assert.equal(e.blocks[2]!.until, 7206 + 1200);
});

test('engine: --no-escalate keeps the plain rules (one 1200 s block per visit, nothing refused); --block-seconds is the base', () => {
  const plain = engine((o) => (o.escalation = null));
  for (let k = 0; k < 5; k++) visit(plain.e, '198.51.100.9', k * 1201);
  assert.deepEqual(
    blocksOf(plain.log).map((b) => b.level),
    [0, 0, 0, 0, 0],
  );
  assert.equal(rejectsOf(plain.log).length, 0);
  const based = engine((o) => {
    o.blockSeconds = 3000;
    o.escalation = { factor: 3, capSeconds: 5000, lookbackSeconds: 604_800 };
  });
  visit(based.e, '198.51.100.9', 0);
  visit(based.e, '198.51.100.9', 1201);
  visit(based.e, '198.51.100.9', 1201 + 5001);
  const b = blocksOf(based.log);
  assert.deepEqual(
    b.map((x) => [x.level, Math.round(x.until - x.from)]),
    [
      [0, 1200],
      [1, 5000],
      [2, 5000],
    ],
    'base 3000 s times 3, capped at 5000 s',
  );
});

test('engine: a lookback shorter than the gap forgets; IPv6 keys are prefixes', () => {
  const { e, log } = engine((o) => (o.escalation = { factor: 2, capSeconds: 604_800, lookbackSeconds: 3000 }));
  visit(e, '2001:db8:1::5', 0);
  visit(e, '2001:db8:1::6', 1201); // same /64
  visit(e, '2001:db8:1::7', 10_000); // the two earlier blocks are past the 3000 s lookback
  assert.deepEqual(
    blocksOf(log).map((b) => [b.key, b.level]),
    [
      ['2001:db8:1::/64', 0],
      ['2001:db8:1::/64', 1],
      ['2001:db8:1::/64', 0],
    ],
  );
});

test('state file: export, write, read, import gives the same levels; older files without history load; damaged items skipped and listed', () => {
  const { dir, cleanup } = tempDir();
  try {
    const a = engine();
    const A = '198.51.100.9';
    visit(a.e, A, 0);
    visit(a.e, A, 1201);
    const path = join(dir, 'state.json');
    writeStateAtomically(path, a.e.exportState(1300));
    const read = readStateChecked(path)!;
    assert.deepEqual(read.skipped, []);
    assert.deepEqual(read.state.history, [{ key: A, blocks: [0.03, 1201.03] }]);
    assert.equal(read.state.entries[0]!.block!.level, 1);
    const b = engine();
    const { blocks } = b.e.importState(read.state, 1300);
    assert.equal(blocks[0]!.level, 1);
    // The next block after the standing one ends is level 2, as it would have been without the restart.
    const c = engine();
    visit(c.e, A, 0);
    visit(c.e, A, 1201);
    for (const x of [b, c]) visit(x.e, A, 1201 + 2401);
    assert.equal(blocksOf(b.log).at(-1)!.level, 2);
    assert.equal(blocksOf(c.log).at(-1)!.level, 2);

    // An older file: no history, no level in its block.
    const old = {
      version: 1,
      saved_at: 100,
      entries: [{ key: A, last_seen: 90, auth: [80, 85, 90], conn: [], block: { key: A, client: A, rule: 'auth', from: 90, until: 1280, rejects: 0 } }],
    };
    writeFileSync(path, JSON.stringify(old));
    const r2 = readStateChecked(path)!;
    assert.deepEqual(r2.skipped, []);
    assert.equal(r2.state.history, undefined);
    assert.equal(r2.state.entries[0]!.block!.level, 0);
    writeFileSync(
      path,
      JSON.stringify({
        ...old,
        history: [
          { key: 'nonsense', blocks: [1] },
          { key: A, blocks: ['x'] },
          { key: A, blocks: [50] },
        ],
      }),
    );
    const r3 = readStateChecked(path)!;
    assert.equal(r3.skipped.length, 2);
    assert.match(r3.skipped[0]!.reason, /^history\[0\]: key/);
    assert.match(r3.skipped[1]!.reason, /^history\[1\]: blocks/);
    assert.deepEqual(r3.state.history, [{ key: A, blocks: [50] }]);
  } finally {
    cleanup();
  }
});

test('report: the blocks an address had carry their level (JSON), as the state file or the engine gave it', () => {
  const look = blockLookup([
    { key: '198.51.100.9', client: '198.51.100.9', rule: 'auth', from: 10, until: 1210, rejects: 0, level: 0, source: 'capture' },
    { key: '198.51.100.9', client: '198.51.100.9', rule: 'auth', from: 1300, until: 3700, rejects: 1, level: 1, source: 'state' },
  ]);
  assert.deepEqual(
    look('198.51.100.9').map((b) => b.level),
    [0, 1],
  );
});

test('watch restore: a restored escalated block keeps its level and gets the time it has left in the kernel', () => {
  const a = engine();
  const A = '198.51.100.9';
  visit(a.e, A, 0);
  visit(a.e, A, 1201);
  const state = a.e.exportState(1300);
  const b = engine();
  const { ops } = restoreStrikes(b.e, state, 1300, () => true);
  assert.deepEqual(ops, [{ op: 'add', addr: A, timeoutSec: Math.ceil(1201.03 + 2400 - 1300) }]);
  assert.equal(b.e.blocks[0]!.level, 1);
});
