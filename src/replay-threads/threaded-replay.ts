import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { EventSink } from '../events.js';
import { Unpacker } from './event-pack.js';
import { TcpFlag } from '../reassembly/tcp-assembler.js';
import { Pipeline, type Coverage, type PipelineOptions } from '../pipeline.js';
import { defaultTallyLimits, ReplayTally, type TallyLimits } from '../replay-output/client-tally.js';
import { readCaptureFiles, type FileReport } from '../source/capture-files.js';
import { tsInRange, type PacketRecord } from '../source/packet-record.js';
import type { BlockInterval } from '../strikes/strike-engine.js';
import { shardOf } from './shard-key.js';
import { META, PURGE, Trace, toWire, type BatchResult, type FinalResult, type FromShard, type ShardEvents, type ToShard } from './shard-protocol.js';

/** How often (packet seconds) idle flows are swept: Pipeline's PURGE_EVERY. */
const PURGE_EVERY = 60;
/** A batch is cut when one shard's bytes or records would overflow. */
const BATCH_BYTES = 1 << 20;
const BATCH_RECORDS = 8192;
/** Cuts sent and not yet merged, at most (bounds the memory when the workers fall behind). */
const MAX_IN_FLIGHT = 6;
/** The most blocks kept in the summary list (StrikeEngine's MAX_LISTED_BLOCKS). */
const MAX_LISTED_BLOCKS = 100_000;

/** Where a threaded run's time went (bench: per stage, per thread). */
export interface ThreadTimes {
  threads: number;
  /** Main thread: reading, decoding, batching (ms, including waits for the workers). */
  readMs: number;
  /** Main thread: waiting for the workers (backpressure and the end). */
  waitMs: number;
  /** Main thread: merging the events and running the tally (and the output behind it). */
  mergeMs: number;
  /** Each worker's busy time (ms). */
  workerMs: number[];
  /** Each worker thread's CPU time (ms; null where unknown). */
  workerCpuMs: (number | null)[];
}

/** replay.ts's ReplayResult (not imported: replay.ts imports this module). */
export interface ThreadedResult {
  tally: ReplayTally;
  pipeline: Pipeline;
  files: FileReport[];
  coverage: Coverage;
  blocks: BlockInterval[];
}

export let lastThreadTimes: ThreadTimes | null = null;

/**
 * `replay --threads N` (N ≥ 2): the packets are read and decoded once, here; each SMTP packet goes
 * to the shard of its client's strike key (shard-key.ts), in batches of raw frames whose buffers
 * are transferred, never copied; the shards run flows, SMTP and strikes and send back their events
 * tagged with their place in the one-thread order, which are merged here, per cut, into exactly the
 * one-thread sequence and fed to the tally and the output. The idle sweep is decided here (on the
 * time of every SMTP packet, as Pipeline.packet does) and run by every shard at that packet.
 * Whole-run counters are summed; the peak of the out-of-order bytes held is taken over the shards'
 * sum, from their traces. The whole-run bounds (flows, strike entries, pending bytes) are split between the shards.
 */
export async function replayThreaded(
  files: string[],
  options: PipelineOptions,
  threads: number,
  next: EventSink | null,
  onTick: ((p: Pipeline, t: ReplayTally) => void) | undefined,
  limits: TallyLimits = defaultTallyLimits,
  stop?: AbortSignal,
): Promise<ThreadedResult> {
  const tally = new ReplayTally(next, limits);
  const main = new Pipeline(options, tally);
  const wire = toWire(options, threads);
  const n = threads;
  const workers: Worker[] = [];
  const serverPort = new Uint8Array(65536);
  for (const p of options.ports) serverPort[p] = 1;
  const prefix = options.strikes.ipv6Prefix;

  // --- batches being filled, one per shard ---
  const free: { meta: Float64Array; data: Uint8Array }[] = [];
  const take = (): { meta: Float64Array; data: Uint8Array } =>
    free.pop() ?? { meta: new Float64Array(BATCH_RECORDS * META), data: new Uint8Array(BATCH_BYTES) };
  const metas: Float64Array[] = [];
  const datas: Uint8Array[] = [];
  const records = new Int32Array(n);
  const used = new Int32Array(n);
  for (let s = 0; s < n; s++) {
    const b = take();
    metas.push(b.meta);
    datas.push(b.data);
  }

  // --- merging ---
  let cutsSent = 0;
  let nextCut = 0;
  const pending = new Map<number, (BatchResult | undefined)[]>();
  const finals: (FinalResult | undefined)[] = new Array<FinalResult | undefined>(n);
  let finalsIn = 0;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const blockOrder: number[] = [];
  const held = { segs: new Float64Array(n), bytes: new Float64Array(n), sumSegs: 0, sumBytes: 0, peakSegs: 0, peakBytes: 0 };
  const times: ThreadTimes = {
    threads: n,
    readMs: 0,
    waitMs: 0,
    mergeMs: 0,
    workerMs: new Array<number>(n).fill(0),
    workerCpuMs: new Array<number | null>(n).fill(null),
  };

  const merge = (parts: ShardEvents[]): void => {
    const t0 = performance.now();
    mergeEvents(parts, tally, blockOrder);
    mergeTrace(parts, held);
    times.mergeMs += performance.now() - t0;
  };
  const drain = (): void => {
    for (;;) {
      const got = pending.get(nextCut);
      if (!got) break;
      let have = 0;
      for (let s = 0; s < n; s++) if (got[s] !== undefined) have++; // (a sparse array's holes escape some())
      if (have < n) break;
      pending.delete(nextCut);
      nextCut++;
      const parts = got as BatchResult[];
      merge(parts);
      for (const r of parts) free.push({ meta: r.meta, data: r.data });
    }
    const w = wake;
    wake = null;
    w?.();
  };

  for (let s = 0; s < n; s++) {
    const w = new Worker(new URL('./shard-worker.js', import.meta.url), { workerData: wire });
    w.on('message', (m: FromShard) => {
      times.workerMs[s] = times.workerMs[s]! + m.busyMs;
      if (m.type === 'batch') {
        let got = pending.get(m.cut);
        if (!got) pending.set(m.cut, (got = new Array<BatchResult | undefined>(n)));
        got[s] = m;
        drain();
      } else {
        times.workerMs[s] = m.busyMs;
        times.workerCpuMs[s] = m.cpuMs;
        finals[s] = m;
        finalsIn++;
        const w2 = wake;
        wake = null;
        w2?.();
      }
    });
    w.on('error', (e) => {
      failure ??= e;
      const w2 = wake;
      wake = null;
      w2?.();
    });
    workers.push(w);
  }

  const post = (s: number, m: ToShard, transfer: ArrayBuffer[] = []): void => workers[s]!.postMessage(m, transfer);
  const cut = (): void => {
    for (let s = 0; s < n; s++) {
      const meta = metas[s]!;
      const data = datas[s]!;
      post(s, { type: 'batch', cut: cutsSent, records: records[s]!, meta, data }, [meta.buffer as ArrayBuffer, data.buffer as ArrayBuffer]);
      const b = take();
      metas[s] = b.meta;
      datas[s] = b.data;
      records[s] = 0;
      used[s] = 0;
    }
    cutsSent++;
  };
  const waitFor = async (done: () => boolean): Promise<void> => {
    const t0 = performance.now();
    while (!done()) {
      if (failure) throw failure;
      await new Promise<void>((r) => (wake = r));
    }
    if (failure) throw failure;
    times.waitMs += performance.now() - t0;
  };

  let timer: NodeJS.Timeout | null = null;
  if (onTick) {
    timer = setInterval(() => onTick(main, tally), 1000);
    timer.unref();
  }
  const d = main.decoder;
  let index = 0;
  let lastPurge = 0;
  const onPacket = (rec: PacketRecord): void | Promise<void> => {
    main.packets++;
    main.bytes += rec.caplen;
    if (!tsInRange(rec.tsSec)) {
      d.countBadTimestamp();
      return;
    }
    if (!d.decode(rec.linktype, rec.buf, rec.off, rec.caplen)) return;
    const dp = serverPort[d.dport]!;
    const sp = serverPort[d.sport]!;
    if (dp === 0 && sp === 0) {
      d.countNotSmtp();
      return;
    }
    main.smtpPackets++;
    let fromClient: boolean;
    if (dp !== sp) fromClient = dp === 1;
    else if (d.flags & TcpFlag.SYN) fromClient = (d.flags & TcpFlag.ACK) === 0;
    else fromClient = d.dport <= d.sport;
    const ts = rec.tsSec + rec.tsNsec * 1e-9;
    if (ts < main.firstTs) main.firstTs = ts;
    if (ts > main.lastTs) main.lastTs = ts;
    const i = index++;
    const caplen = rec.caplen;
    const s = shardOf(d, fromClient, prefix, n);
    const purge = ts - lastPurge > PURGE_EVERY;
    if (records[s]! + (purge ? 2 : 1) > BATCH_RECORDS || used[s]! + caplen > BATCH_BYTES || (purge && records.some((r) => r + 1 > BATCH_RECORDS))) cut();
    if (purge) {
      lastPurge = ts;
      for (let t = 0; t < n; t++) {
        const m = metas[t]!;
        const k = records[t]!++ * META;
        m[k] = i;
        m[k + 1] = ts;
        m[k + 2] = PURGE;
      }
    }
    const m = metas[s]!;
    const k = records[s]!++ * META;
    const off = used[s]!;
    m[k] = i;
    m[k + 1] = ts;
    m[k + 2] = rec.linktype;
    m[k + 3] = off;
    m[k + 4] = caplen;
    m[k + 5] = fromClient ? 1 : 0;
    datas[s]!.set(rec.buf.subarray(rec.off, rec.off + caplen), off);
    used[s] = off + caplen;
    if (cutsSent - nextCut >= MAX_IN_FLIGHT) return waitFor(() => cutsSent - nextCut < MAX_IN_FLIGHT);
  };

  const t0 = performance.now();
  try {
    const reports = await readCaptureFiles(files, onPacket, stop);
    cut();
    const end = main.lastTs === -Infinity ? 0 : main.lastTs;
    for (let s = 0; s < n; s++) post(s, { type: 'end', index, ts: end });
    await waitFor(() => finalsIn === n && nextCut === cutsSent);
    times.readMs = performance.now() - t0 - times.mergeMs;
    const fin = finals as FinalResult[];
    merge(fin);
    sumInto(main, fin, held, blockOrder);
    lastThreadTimes = times;
    return { tally, pipeline: main, files: reports, coverage: main.coverage(), blocks: main.strikes.blocks };
  } finally {
    if (timer) clearInterval(timer);
    for (const w of workers) void w.terminate();
  }
}

/** The shards' events of one cut, in the one-thread order: a k-way merge on (key, sub); ties keep the lower shard first. */
function mergeEvents(parts: ShardEvents[], tally: ReplayTally, blockOrder: number[]): void {
  const n = parts.length;
  const pos = new Int32Array(n);
  const count = new Int32Array(n);
  const src = parts.map((p, s) => {
    count[s] = p.keys.length / 2;
    return new Unpacker(p.events);
  });
  for (;;) {
    let best = -1;
    let bk = 0;
    let bs = 0;
    for (let s = 0; s < n; s++) {
      const q = pos[s]!;
      if (q >= count[s]!) continue;
      const keys = parts[s]!.keys;
      const k = keys[2 * q]!;
      const sub = keys[2 * q + 1]!;
      if (best < 0 || k < bk || (k === bk && sub < bs)) {
        best = s;
        bk = k;
        bs = sub;
      }
    }
    if (best < 0) return;
    pos[best]!++;
    const ev = src[best]!.next();
    if (ev.type === 'block') blockOrder.push(best);
    tally.event(ev);
  }
}

/** The held out-of-order bytes over all shards: the one-thread peak is the peak of their sum at each measuring point. */
function mergeTrace(
  parts: ShardEvents[],
  h: { segs: Float64Array; bytes: Float64Array; sumSegs: number; sumBytes: number; peakSegs: number; peakBytes: number },
): void {
  const n = parts.length;
  const pos = new Int32Array(n);
  for (;;) {
    let best = -1;
    let bk = 0;
    for (let s = 0; s < n; s++) {
      const t = parts[s]!.trace;
      const q = pos[s]!;
      if (q >= t.length) continue;
      if (best < 0 || t[q]! < bk) {
        best = s;
        bk = t[q]!;
      }
    }
    if (best < 0) return;
    const t = parts[best]!.trace;
    const q = pos[best]!;
    pos[best] = q + 4;
    const segs = t[q + 2]!;
    const bytes = t[q + 3]!;
    if (t[q + 1] === Trace.measure) {
      const gs = h.sumSegs - h.segs[best]! + segs;
      const gb = h.sumBytes - h.bytes[best]! + bytes;
      if (gs > h.peakSegs) h.peakSegs = gs;
      if (gb > h.peakBytes) h.peakBytes = gb;
    } else {
      h.sumSegs += segs - h.segs[best]!;
      h.sumBytes += bytes - h.bytes[best]!;
      h.segs[best] = segs;
      h.bytes[best] = bytes;
    }
  }
}

/** Whole-run counters: the shards' sums (peaks: over the sum), and the blocks in the one-thread order. */
function sumInto(main: Pipeline, fin: FinalResult[], held: { peakSegs: number; peakBytes: number }, blockOrder: number[]): void {
  for (const f of fin) {
    addCounts(main.flows.stats, f.flows);
    addCounts(main.assembler.stats, f.assembler);
    addCounts(main.smtpStats, f.smtp);
    addCounts(main.strikes.stats, f.strikes);
  }
  main.assembler.stats.pendingSegmentsPeak = held.peakSegs;
  main.assembler.stats.pendingBytesPeak = held.peakBytes;
  const next = new Int32Array(fin.length);
  const blocks: BlockInterval[] = main.strikes.blocks;
  let notListed = 0;
  for (const s of blockOrder) {
    const b = fin[s]!.blocks[next[s]!++];
    if (b === undefined) continue; // over that shard's own cap: counted in its blocksNotListed
    if (blocks.length < MAX_LISTED_BLOCKS) blocks.push(b);
    else notListed++;
  }
  main.strikes.stats.blocksNotListed += notListed;
}

function addCounts<T extends object>(into: T, from: T): void {
  const a = into as Record<string, unknown>;
  const b = from as Record<string, unknown>;
  for (const k of Object.keys(b)) {
    const x = a[k];
    const y = b[k];
    if (typeof x === 'number' && typeof y === 'number') a[k] = x + y;
  }
}
