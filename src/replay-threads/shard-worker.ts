import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { Shard } from './shard.js';
import type { BatchResult, ToShard, WireOptions } from './shard-protocol.js';

/** A worker thread of a threaded replay (threaded-replay.ts): one shard, batches in, events out. */
const shard = new Shard(workerData as WireOptions);
let busy = 0;
parentPort?.on('message', (m: ToShard) => {
  const t0 = performance.now();
  if (m.type === 'batch') {
    shard.run(m);
    const ms = performance.now() - t0;
    busy += ms;
    const r: BatchResult = { type: 'batch', cut: m.cut, meta: m.meta, data: m.data, busyMs: ms, ...shard.take() };
    parentPort?.postMessage(r, [m.meta.buffer as ArrayBuffer, m.data.buffer as ArrayBuffer, r.keys.buffer as ArrayBuffer]);
  } else {
    shard.finish(m.index, m.ts);
    busy += performance.now() - t0;
    const f = shard.final(busy);
    parentPort?.postMessage(f, [f.keys.buffer as ArrayBuffer]);
  }
});
