/**
 * Blocker benchmark (`node dist/bench/blockers.js`, root only): inside a network namespace it
 * creates (and always deletes), for each backend (nft, nft-recreate, ipset, iptables — those
 * installed; nft-recreate is nft forced to refresh by delete + add, the path taken on kernels that
 * keep an element's old timeout on a re-add, its IPv6 run capped at 2,000 prefixes):
 *
 *   - batched: N distinct IPv4 addresses pushed at once through a BlockBatcher with its default
 *     settings, until all are in the kernel → blocks/s (target ≥ 5,000/s for nft);
 *   - refresh: the same N again (every one present: the timeout-refresh path);
 *   - ipv6: N distinct IPv6 /64 prefixes the same way (nft's blocked6 is an interval set);
 *   - unbatched: one apply() (one process, one transaction) per block, as a per-ban tool works;
 *   - restore: R blocks in one apply() into an empty set, as at start-up (target < 5 s), then
 *     how long list() takes with R entries.
 *
 *   node dist/bench/blockers.js [--n 20000] [--restore 100000] [--unbatched 200]
 *       [--backends nft,nft-recreate,ipset,iptables] [--out bench/out/blockers.json]
 *
 * Prints a table and writes the figures as JSON. Exit: 0 done (or skipped when not root), 1 a
 * backend failed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BlockBatcher } from '../src/blocker/batcher.js';
import type { Blocker, BlockerName, BlockOp } from '../src/blocker/types.js';
import { createBlocker } from '../src/blocker/index.js';
import { NftBlocker } from '../src/blocker/nft.js';
import { SpawnRunner } from '../src/blocker/runner.js';
import { defaultStrikeOptions, StrikeEngine, type StrikeState } from '../src/strikes/strike-engine.js';
import { readState, writeStateAtomically } from '../src/strike-state/state-file.js';
import { restoreStrikes } from '../src/watch/restore.js';

const here = dirname(fileURLToPath(import.meta.url)); // <root>/dist/bench
const root = resolve(here, '..', '..');

export interface BackendFigures {
  backend: string;
  status: 'ok' | 'missing' | 'failed';
  note?: string;
  batched?: { n: number; seconds: number; per_s: number; batches: number; max_batch: number; max_apply_ms: number };
  refresh?: { n: number; seconds: number; per_s: number; batches: number };
  ipv6?: { n: number; seconds: number; per_s: number; batches: number };
  unbatched?: { n: number; seconds: number; per_s: number };
  restore?: { n: number; seconds: number; list_seconds: number; listed: number; from_state_file_seconds: number; from_state_file_listed: number };
}

export interface BlockerBenchResult {
  status: 'ok' | 'skipped';
  note?: string;
  machine: { cpus: number; model: string; kernel: string; node: string };
  params: { n: number; restore: number; unbatched: number };
  backends: BackendFigures[];
  quoted: { fail2ban_per_s: number; crowdsec_nft_bouncer_per_s: number; note: string };
  targets: { nft_batched_per_s: number; restore_s: number };
}

const QUOTED = {
  fail2ban_per_s: 5,
  crowdsec_nft_bouncer_per_s: 40,
  note: 'quoted in the project brief for comparison, not measured here',
};
const TARGETS = { nft_batched_per_s: 5000, restore_s: 5 };

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { stdio: 'ignore' }).status === 0;
}

/** i-th distinct IPv4 address in 10.0.0.0/8 (i < 2^24). */
function v4(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

/** i-th distinct IPv6 /64 in 2001:db8::/32. */
function v6(i: number): string {
  return `2001:db8:${((i >> 16) & 0xffff).toString(16)}:${(i & 0xffff).toString(16)}::/64`;
}

const secs = (t0: number): number => (performance.now() - t0) / 1000;
const r2 = (x: number): number => Math.round(x * 100) / 100;

async function throughput(b: Blocker, addrs: string[]): Promise<{ seconds: number; batches: number; maxBatch: number; maxApplyMs: number }> {
  const batcher = new BlockBatcher(b, { maintainMs: 0 });
  let maxBatch = 0;
  const t0 = performance.now();
  for (const a of addrs) {
    batcher.push({ op: 'add', addr: a, timeoutSec: 3600 });
    if (batcher.stats.lastBatchSize > maxBatch) maxBatch = batcher.stats.lastBatchSize;
  }
  await batcher.close();
  const seconds = secs(t0);
  if (batcher.stats.failed > 0) throw new Error(`${batcher.stats.failed} ops failed`);
  return { seconds, batches: batcher.stats.batches, maxBatch: Math.max(maxBatch, batcher.stats.lastBatchSize), maxApplyMs: batcher.stats.maxApplyMs };
}

function log(s: string): void {
  process.stdout.write(`${s}\n`);
}

/** Backends benchmarked: the three kernel ones, and nft forced to refresh by delete + add (older kernels). */
export type BenchBackend = Exclude<BlockerName, 'dry-run'> | 'nft-recreate';

/** IPv6 prefixes for nft-recreate: deleting from an interval set costs ~1 ms per element with nft 1.0.x. */
const RECREATE_V6_MAX = 2000;

async function benchBackend(name: BenchBackend, ns: string, p: BlockerBenchResult['params']): Promise<BackendFigures> {
  const runner = new SpawnRunner({ netns: ns, timeoutMs: 900_000 });
  const b =
    name === 'nft-recreate'
      ? new NftBlocker({ ports: [25, 587], netns: ns, runner, refresh: 'recreate' })
      : createBlocker(name, { ports: [25, 587], netns: ns, runner });
  const f: BackendFigures = { backend: name, status: 'ok' };
  try {
    await b.cleanup();
    await b.init();
    const addrs = Array.from({ length: p.n }, (_, i) => v4(i));

    let t = await throughput(b, addrs);
    f.batched = {
      n: p.n,
      seconds: r2(t.seconds),
      per_s: Math.round(p.n / t.seconds),
      batches: t.batches,
      max_batch: t.maxBatch,
      max_apply_ms: Math.round(t.maxApplyMs),
    };
    log(`  ${name}: batched ${p.n} in ${t.seconds.toFixed(2)} s (${t.batches} applies)`);

    t = await throughput(b, addrs);
    f.refresh = { n: p.n, seconds: r2(t.seconds), per_s: Math.round(p.n / t.seconds), batches: t.batches };
    log(`  ${name}: refresh ${p.n} in ${t.seconds.toFixed(2)} s`);

    const n6 = name === 'nft-recreate' ? Math.min(p.n, RECREATE_V6_MAX) : p.n;
    const six = Array.from({ length: n6 }, (_, i) => v6(i));
    t = await throughput(b, six);
    f.ipv6 = { n: n6, seconds: r2(t.seconds), per_s: Math.round(n6 / t.seconds), batches: t.batches };
    log(`  ${name}: ipv6 /64 ${n6} in ${t.seconds.toFixed(2)} s`);

    await b.flush();
    let t0 = performance.now();
    for (let i = 0; i < p.unbatched; i++) await b.apply([{ op: 'add', addr: v4(0x200000 + i), timeoutSec: 3600 }]);
    const us = secs(t0);
    f.unbatched = { n: p.unbatched, seconds: r2(us), per_s: Math.round(p.unbatched / us) };
    log(`  ${name}: unbatched ${p.unbatched} in ${us.toFixed(2)} s`);

    await b.cleanup();
    await b.init();
    const ops: BlockOp[] = Array.from({ length: p.restore }, (_, i) => ({ op: 'add', addr: v4(0x400000 + i), timeoutSec: 3600 }));
    t0 = performance.now();
    await b.apply(ops);
    const rs = secs(t0);
    t0 = performance.now();
    const listed = (await b.list()).length;
    const ls = secs(t0);
    // The whole start-up path of `watch`: state file → strike table → batched applies.
    await b.cleanup();
    await b.init();
    const stateFile = join(tmpdir(), `smtpstrike-bench-state-${process.pid}.json`);
    const now = Date.now() / 1000;
    const state: StrikeState = {
      version: 1,
      saved_at: now,
      entries: Array.from({ length: p.restore }, (_, i) => {
        const key = v4(0x600000 + i);
        return {
          key,
          last_seen: now - 10,
          auth: [now - 12, now - 11, now - 10],
          conn: [],
          block: { key, client: key, rule: 'auth' as const, from: now - 10, until: now + 1190, rejects: 0, level: 0 },
        };
      }),
    };
    writeStateAtomically(stateFile, state);
    t0 = performance.now();
    const engine = new StrikeEngine({ ...defaultStrikeOptions(), maxEntries: p.restore * 2 }, { event: () => undefined });
    const { ops: restoreOps } = restoreStrikes(engine, readState(stateFile)!, Date.now() / 1000, () => true);
    const batcher = new BlockBatcher(b);
    batcher.pushAll(restoreOps);
    await batcher.drain();
    await batcher.close();
    const ws = secs(t0);
    rmSync(stateFile, { force: true });
    const restoredListed = (await b.list()).length;
    f.restore = { n: p.restore, seconds: r2(rs), list_seconds: r2(ls), listed, from_state_file_seconds: r2(ws), from_state_file_listed: restoredListed };
    log(
      `  ${name}: restore ${p.restore} in ${rs.toFixed(2)} s (one apply), ${ws.toFixed(2)} s from the state file through the batcher (${restoredListed} listed); list ${listed} in ${ls.toFixed(2)} s`,
    );
  } catch (e) {
    f.status = 'failed';
    f.note = (e as Error).message.slice(0, 500);
    log(`  ${name}: FAILED: ${f.note}`);
  } finally {
    await b.cleanup().catch(() => undefined);
  }
  return f;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

export function printBlockerTable(r: BlockerBenchResult): void {
  log('');
  log(`blockers (namespace, ${r.machine.cpus} CPUs, kernel ${r.machine.kernel}): blocks applied per second`);
  log(
    `${pad('backend', 14)}${pad('batched/s', 12)}${pad('refresh/s', 12)}${pad('ipv6 /64/s', 12)}${pad('unbatched/s', 13)}${pad(`restore ${r.params.restore}`, 17)}${pad('from state', 14)}list`,
  );
  for (const b of r.backends) {
    if (b.status !== 'ok') {
      log(`${pad(b.backend, 14)}${b.status}${b.note ? `: ${b.note}` : ''}`);
      continue;
    }
    log(
      pad(b.backend, 14) +
        pad(String(b.batched?.per_s ?? '-'), 12) +
        pad(String(b.refresh?.per_s ?? '-'), 12) +
        pad(String(b.ipv6?.per_s ?? '-'), 12) +
        pad(String(b.unbatched?.per_s ?? '-'), 13) +
        pad(b.restore ? `${b.restore.seconds} s` : '-', 17) +
        pad(b.restore ? `${b.restore.from_state_file_seconds} s` : '-', 14) +
        (b.restore ? `${b.restore.list_seconds} s` : '-'),
    );
  }
  log(`${pad('fail2ban', 14)}~${r.quoted.fail2ban_per_s}/s, CrowdSec nft bouncer ~${r.quoted.crowdsec_nft_bouncer_per_s}/s (${r.quoted.note})`);
  log(`targets: nft batched >= ${r.targets.nft_batched_per_s}/s, restore < ${r.targets.restore_s} s`);
}

/** Runs the whole benchmark; usable from bench/run.ts. */
export async function runBlockerBench(
  opts: { n?: number; restore?: number; unbatched?: number; backends?: string[]; out?: string } = {},
): Promise<BlockerBenchResult> {
  const params = { n: opts.n ?? 20_000, restore: opts.restore ?? 100_000, unbatched: opts.unbatched ?? 200 };
  const uname = spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim();
  const result: BlockerBenchResult = {
    status: 'ok',
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '?', kernel: uname, node: process.version },
    params,
    backends: [],
    quoted: QUOTED,
    targets: TARGETS,
  };
  const out = opts.out ?? resolve(root, 'bench', 'out', 'blockers.json');
  const write = (): void => {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  };
  if (process.getuid?.() !== 0 || !have('ip')) {
    result.status = 'skipped';
    result.note = 'needs root and iproute2 (network namespaces)';
    process.stderr.write(`bench/blockers: SKIPPED: ${result.note}\n`);
    write();
    return result;
  }
  const ns = `sstbench${process.pid}`;
  const del = (): void => {
    spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  };
  const onSignal = (): void => {
    del();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', del);
  const add = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
  if (add.status !== 0) throw new Error(`ip netns add ${ns}: ${add.stderr}`);
  try {
    const need: Record<string, string[]> = {
      nft: ['nft'],
      'nft-recreate': ['nft'],
      ipset: ['ipset', 'iptables', 'ip6tables'],
      iptables: ['iptables', 'ip6tables', 'iptables-restore', 'ip6tables-restore'],
    };
    for (const name of (opts.backends ?? ['nft', 'nft-recreate', 'ipset', 'iptables']) as BenchBackend[]) {
      if (!(name in need)) throw new Error(`unknown backend ${name} (nft, nft-recreate, ipset, iptables)`);
      const missing = (need[name] ?? []).filter((c) => !have(c));
      if (missing.length > 0) {
        result.backends.push({ backend: name, status: 'missing', note: `not installed: ${missing.join(', ')}` });
        continue;
      }
      log(`bench/blockers: ${name} …`);
      result.backends.push(await benchBackend(name, ns, params));
    }
  } finally {
    del();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('exit', del);
  }
  write();
  return result;
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const { values } = parseArgs({
    options: {
      n: { type: 'string' },
      restore: { type: 'string' },
      unbatched: { type: 'string' },
      backends: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
  const o: Parameters<typeof runBlockerBench>[0] = {};
  if (values.n !== undefined) o.n = num(values.n)!;
  if (values.restore !== undefined) o.restore = num(values.restore)!;
  if (values.unbatched !== undefined) o.unbatched = num(values.unbatched)!;
  if (values.backends !== undefined) o.backends = values.backends.split(',');
  if (values.out !== undefined) o.out = values.out;
  const r = await runBlockerBench(o);
  printBlockerTable(r);
  process.exitCode = r.backends.some((b) => b.status === 'failed') ? 1 : 0;
}
