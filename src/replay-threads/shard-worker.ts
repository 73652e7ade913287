import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { Shard } from './shard.js';
import type { BatchResult, ShardStart, ToShard } from './shard-protocol.js';

/** A worker thread of a threaded replay (threaded-replay.ts): one shard, batches in, events out. */
const start = workerData as ShardStart;
const shard = new Shard(start.options, start.tally);
let busy = 0;
parentPort?.on('message', (m: ToShard) => {
  const t0 = performance.now();
  if (m.type === 'batch') {
    shard.run(m);
    const ms = performance.now() - t0;
    busy += ms;
    const r: BatchResult = { type: 'batch', cut: m.cut, meta: m.meta, busyMs: ms, failures: shard.failures, ...shard.take() };
    parentPort?.postMessage(r, [m.meta.buffer as ArrayBuffer, r.keys.buffer as ArrayBuffer, r.trace.buffer as ArrayBuffer]);
  } else {
    shard.finish(m.index, m.ts);
    busy += performance.now() - t0;
    const f = shard.final(busy);
    parentPort?.postMessage(f, [f.keys.buffer as ArrayBuffer, f.trace.buffer as ArrayBuffer]);
  }
});
