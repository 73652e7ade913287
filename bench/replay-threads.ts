/**
 * `replay --threads`: the scaling from one thread to every core on the benchmark capture (issue 15),
 * each thread count best of `repeat` runs in a process of its own (replay-threads-child.ts): packets/s,
 * the ratio to tcpdump's filter-only rate, peak RSS, whether the counts are the one-thread counts
 * (and the truth's totals), and where the time went: the main thread's stages and each thread's CPU.
 */
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildResult } from './replay-threads-child.js';

const here = dirname(fileURLToPath(import.meta.url)); // <root>/dist/bench

export interface ThreadScaling {
  rows: (ChildResult & { runs_s: number[]; vs_tcpdump: number | null; same_as_one: boolean })[];
  exact: boolean;
}

export function runThreadScaling(
  file: string,
  truthTotals: { failures: number; successes: number; tempfails: number },
  tcpdumpPktS: number | null,
  repeat: number,
  log: (s: string) => void,
  maxThreads = cpus().length,
): ThreadScaling {
  const rows: ThreadScaling['rows'] = [];
  const counts = [...new Set([1, 2, maxThreads].filter((n) => n <= maxThreads))].sort((a, b) => a - b);
  for (const n of counts) {
    let best: ChildResult | null = null;
    const runs: number[] = [];
    for (let i = 0; i < repeat; i++) {
      const r = spawnSync(process.execPath, [join(here, 'replay-threads-child.js'), file, String(n)], { encoding: 'utf8', maxBuffer: 1 << 24 });
      if (r.status !== 0) {
        log(`replay --threads ${n}: failed (${r.status}): ${(r.stderr ?? '').trim().slice(0, 300)}`);
        break;
      }
      const c = JSON.parse(r.stdout.trim()) as ChildResult;
      runs.push(Math.round(c.seconds * 1000) / 1000);
      if (!best || c.seconds < best.seconds) best = c;
    }
    if (!best) continue;
    const pktS = best.packets / best.seconds;
    rows.push({
      ...best,
      runs_s: runs,
      vs_tcpdump: tcpdumpPktS ? pktS / tcpdumpPktS : null,
      same_as_one: rows.length === 0 || rows[0]!.digest === best.digest,
    });
  }
  const exact =
    rows.length > 0 &&
    rows.every(
      (r) =>
        r.same_as_one &&
        r.totals['failures'] === truthTotals.failures &&
        r.totals['successes'] === truthTotals.successes &&
        r.totals['tempfails'] === truthTotals.tempfails,
    );
  log(
    `${'threads'.padStart(7)} ${'seconds'.padStart(8)} ${'packets/s'.padStart(11)} ${'x tcpdump'.padStart(9)} ${'RSS MB'.padStart(7)}  counts      CPU s per thread (main first)`,
  );
  for (const r of rows) {
    log(
      `${String(r.threads).padStart(7)} ${r.seconds.toFixed(2).padStart(8)} ${Math.round(r.packets / r.seconds)
        .toLocaleString('en-US')
        .padStart(
          11,
        )} ${(r.vs_tcpdump === null ? '-' : r.vs_tcpdump.toFixed(2) + 'x').padStart(9)} ${String(r.rss_mb).padStart(7)}  ${r.same_as_one ? 'same' : 'DIFFERENT'}        ${r.cpu.map((c) => (c.thread === 'main' ? '' : c.thread.split(' ')[0] + ' ') + c.s.toFixed(2)).join(' ')}`,
    );
  }
  for (const r of rows) {
    if (!r.stages) continue;
    const s = r.stages;
    log(
      `  ${r.threads} threads: main thread ${s.read_decode_batch_ms} ms reading, decoding, batching and running shard 0 (${Math.round(s.main_share * 100)} % of the keys; of which ${s.wait_ms} ms waiting for the workers), ` +
        `${s.merge_tally_ms} ms merging and tallying; workers busy ${s.worker_busy_ms.join(' / ')} ms, CPU ${s.worker_cpu_ms.map((x) => (x === null ? '?' : String(x))).join(' / ')} ms; ` +
        `main thread CPU ${r.cpu[0]?.s.toFixed(2) ?? '?'} s; runs ${JSON.stringify(r.runs_s)} s`,
    );
  }
  log(`counts: ${exact ? 'every thread count equals the one-thread run and the truth (EXACT)' : 'DIFFERENT (see above)'}`);
  return { rows, exact };
}
