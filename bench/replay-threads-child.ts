/**
 * One `replay --threads N` run for the scaling table (bench/replay-threads.ts), in a process of its
 * own so that its peak RSS is its own: `node dist/bench/replay-threads-child.js FILE THREADS`.
 * Prints one JSON line: time, packets, the counts' digest (to compare thread counts), peak RSS,
 * the main thread's stages and each thread's CPU time (/proc/self/task: main, shard workers).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { defaultPipelineOptions } from '../src/pipeline.js';
import { replayFiles } from '../src/replay.js';
import { countsOnlyLimits } from '../src/replay-output/client-tally.js';
import { lastThreadTimes } from '../src/replay-threads/threaded-replay.js';

export interface ChildResult {
  threads: number;
  seconds: number;
  packets: number;
  smtp_packets: number;
  totals: Record<string, number>;
  /** sha256 of the clients' counts, the blocks and the coverage (must not change with the threads). */
  digest: string;
  rss_mb: number;
  /** Main thread's stages (ms); null on one thread (no stages apart). */
  stages: {
    read_decode_batch_ms: number;
    main_share: number;
    wait_ms: number;
    merge_tally_ms: number;
    worker_busy_ms: number[];
    worker_cpu_ms: (number | null)[];
  } | null;
  /** CPU seconds per thread that used ≥ 0.05 s: the main thread first, then the others by tid (libuv, V8's helpers; shard workers that ended are in stages). */
  cpu: { thread: string; s: number }[];
}

function threadCpu(): { thread: string; s: number }[] {
  const tick = 100; // USER_HZ
  const rows: { thread: string; s: number; tid: number }[] = [];
  for (const t of readdirSync('/proc/self/task')) {
    let st: string;
    try {
      st = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
    } catch {
      continue;
    }
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    const s = (Number(f[11]) + Number(f[12])) / tick;
    const tid = Number(t);
    let name = '';
    try {
      name = readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim();
    } catch {
      // (gone)
    }
    if (s >= 0.05 || tid === process.pid) rows.push({ thread: tid === process.pid ? 'main' : `${name} ${t}`, s, tid });
  }
  rows.sort((a, b) => (a.thread === 'main' ? -1 : b.thread === 'main' ? 1 : a.tid - b.tid));
  return rows.map(({ thread, s }) => ({ thread, s }));
}

const [file, threadsText] = process.argv.slice(2);
const threads = Number(threadsText);
if (!file || !(threads >= 1)) {
  process.stderr.write('usage: node dist/bench/replay-threads-child.js FILE THREADS\n');
  process.exit(2);
}
const t0 = performance.now();
const r = await replayFiles([file], defaultPipelineOptions(), null, undefined, countsOnlyLimits, undefined, undefined, threads);
const seconds = (performance.now() - t0) / 1000;
const { elapsed: _e, ...coverage } = { elapsed: 0, ...r.coverage };
const digest = createHash('sha256')
  .update(JSON.stringify({ clients: r.tally.counts(), totals: r.tally.totals, blocks: r.blocks, coverage }))
  .digest('hex');
const t = threads > 1 ? lastThreadTimes : null;
const out: ChildResult = {
  threads,
  seconds,
  packets: r.coverage.packets,
  smtp_packets: r.coverage.smtp_packets,
  totals: r.tally.totals,
  digest,
  rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  stages: t
    ? {
        read_decode_batch_ms: Math.round(t.readMs),
        main_share: Math.round(t.mainShare * 1000) / 1000,
        wait_ms: Math.round(t.waitMs),
        merge_tally_ms: Math.round(t.mergeMs),
        worker_busy_ms: t.workerMs.slice(1).map((x) => Math.round(x)),
        worker_cpu_ms: t.workerCpuMs.slice(1),
      }
    : null,
  cpu: threadCpu(),
};
process.stdout.write(JSON.stringify(out) + '\n');
