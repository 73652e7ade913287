import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { EventSink } from '../events.js';
import { TcpFlag } from '../reassembly/tcp-assembler.js';
import { Pipeline, type Coverage, type PipelineOptions } from '../pipeline.js';
import { defaultTallyLimits, ReplayTally, type TallyLimits } from '../replay-output/client-tally.js';
import { readCaptureFiles, type FileReport } from '../source/capture-files.js';
import { tsInRange, type PacketRecord } from '../source/packet-record.js';
import type { BlockInterval } from '../strikes/strike-engine.js';
import { keyHash, shardSlots } from './shard-key.js';
import { META, PURGE, toWire, type BatchResult, type FinalResult, type FromShard, type ShardEvents, type ShardStart, type ToShard } from './shard-protocol.js';
import { mergeEvents, mergeTrace, sumInto } from './shard-merge.js';
import { mergeTallies } from './shard-tally.js';
import { Shard } from './shard.js';

/** How often (packet seconds) idle flows are swept: Pipeline's PURGE_EVERY. */
const PURGE_EVERY = 60;
/**
 * Shard 0's share of the keys with `threads` threads. The main thread reads, parses and decodes
 * every packet — R ≈ 0.32 T, where T is the pipeline's work behind the decoder on one thread
 * (measured, native-notes/replay-threads.md) — and runs shard 0's share s; each worker runs
 * (1 − s)/(n − 1) of it at about 1.1× the cost (its second decode, the batches). Even work:
 * R + s·T = 1.1·T·(1 − s)/(n − 1); none for the main thread once reading alone fills it (5 threads on).
 */
export function mainShare(threads: number): number {
  const r = READ_SHARE;
  const w = WORKER_COST / (threads - 1);
  return Math.max(0, (w - r) / (1 + w));
}
const READ_SHARE = 0.32;
const WORKER_COST = 1.1;
/** A batch is cut when one shard's records would overflow. */
const BATCH_RECORDS = 16384;
/** The packets' bytes: shared blocks of this size (the reader's buffer), reused. */
const BLOCK = 4 << 20;
/** Cuts sent and not yet merged, at most (bounds the memory when the workers fall behind: 6 cuts ≈ 40 MB of blocks; 4 stalled the threads on a busy machine, 8 took the peak RSS near 300 MB). */
const MAX_IN_FLIGHT = 6;

/** A shared block of packet bytes; the workers are sent its buffer once each (`sent`) and keep a view. */
interface Block {
  id: number;
  buf: Buffer;
  /** The last cut that may name it (reused once that cut is merged). */
  retireAt: number;
  sent: Uint8Array;
}

/** Where a threaded run's time went (bench: per stage, per thread). */
export interface ThreadTimes {
  threads: number;
  /** Main thread: reading, decoding, batching and running shard 0 (ms, including waits for the workers). */
  readMs: number;
  /** Shard 0's share of the keys (it runs on the main thread). */
  mainShare: number;
  /** Main thread: waiting for the workers (backpressure and the end). */
  waitMs: number;
  /** Main thread: merging the events and running the tally (and the output behind it). */
  mergeMs: number;
  /** Each worker's busy time (ms; shard 0: its end of input only). */
  workerMs: number[];
  /** Each worker thread's CPU time (ms; null where unknown, and for shard 0: the main thread). */
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
 * `replay --threads N` (N ≥ 2): the packets are read and decoded once, here (one file: read into
 * shared blocks the workers see, never copied); each SMTP packet belongs to the shard of its
 * client's strike key (shard-key.ts). Shard 0 runs here, on the packets as they are decoded; the
 * others are workers, sent batches of records (where in which block each packet lies). The shards
 * run flows, SMTP and strikes; with nothing reading the events one by one (summary-only) each
 * tallies its own clients and sends the tally once (shard-tally.ts), otherwise they send back their
 * events tagged with their place in the one-thread order, which are merged here, per cut, into
 * exactly the one-thread sequence and fed to the tally and the output. The idle sweep is decided
 * here (on the time of every SMTP packet, as Pipeline.packet does) and run by every shard at that
 * packet. Whole-run counters are summed; the peak of the out-of-order bytes held is taken over the
 * shards' sum, from their traces. The whole-run bounds (flows, strike entries, pending bytes) are
 * split between the shards by their share of the keys.
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
  // Nothing reads the events one by one (no output behind the tally, no detail line, no strike
  // log): each shard tallies its own clients and only the tallies come back (shard-tally.ts).
  const local = next === null && limits.eventsPerClient === 0 && limits.logLines === 0;
  const n = threads;
  // Shard 0 runs here, on the main thread, with the share of the keys that evens out the threads'
  // work (mainShare); shards 1 … n−1 are worker threads.
  const { slots, share } = shardSlots(n, mainShare(n));
  const inline = new Shard(toWire(options, share, 0), local ? limits : null);
  const d = inline.pipeline.decoder; // every packet is decoded into it: shard 0's packets need no second decode
  const shardFailures = new Float64Array(threads);
  const workers: (Worker | null)[] = [null];
  const serverPort = new Uint8Array(65536);
  for (const p of options.ports) serverPort[p] = 1;
  const prefix = options.strikes.ipv6Prefix;

  // --- batches being filled, one per worker shard (records only: the bytes stay in the blocks) ---
  const free: Float64Array[] = [];
  const take = (): Float64Array => free.pop() ?? new Float64Array(BATCH_RECORDS * META);
  const metas: Float64Array[] = [];
  const records = new Int32Array(n);
  const newBlocks: { id: number; sab: SharedArrayBuffer }[][] = [];
  for (let s = 0; s < n; s++) {
    metas.push(s === 0 ? new Float64Array(0) : take());
    newBlocks.push([]);
  }

  // --- the packets' bytes: shared blocks that the file is read into once and every worker reads ---
  const blocks: Block[] = [];
  const spare: Block[] = [];
  const retired: Block[] = [];
  const block = (size: number): Block => {
    const i = spare.findIndex((b) => b.buf.length >= size);
    if (i >= 0) return spare.splice(i, 1)[0]!;
    const b: Block = { id: blocks.length, buf: Buffer.from(new SharedArrayBuffer(Math.max(size, BLOCK))), retireAt: 0, sent: new Uint8Array(n) };
    blocks.push(b);
    return b;
  };
  /** A block is reused once every cut that can name it is merged: the cut being filled and those before. */
  const retire = (b: Block): void => {
    b.retireAt = cutsSent;
    retired.push(b);
  };
  let readBlock: Block | null = null;
  // The reader's buffers (one file): each refill takes a new block, the packets of the old one stay put.
  const supply = (size: number): Buffer => {
    if (readBlock) retire(readBlock);
    readBlock = block(size);
    return readBlock.buf;
  };
  // Packets not read into a block (several files merged): copied into one.
  let copyBlock: Block | null = null;
  let copyUsed = 0;

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
    mainShare: share[0]!,
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
      for (let s = 1; s < n; s++) free.push(parts[s]!.meta);
      for (let i = 0; i < retired.length;) {
        const b = retired[i]!;
        if (b.retireAt < nextCut) {
          retired.splice(i, 1);
          spare.push(b);
        } else i++;
      }
    }
    const w = wake;
    wake = null;
    w?.();
  };

  const arrived = (s: number, m: BatchResult): void => {
    if (local) {
      // (the progress line's failures while the shards tally; the merge at the end sets the totals)
      shardFailures[s] = m.failures;
      tally.totals.failures = shardFailures.reduce((a, b) => a + b, 0);
    }
    let got = pending.get(m.cut);
    if (!got) pending.set(m.cut, (got = new Array<BatchResult | undefined>(n)));
    got[s] = m;
  };
  for (let s = 1; s < n; s++) {
    const start: ShardStart = { options: toWire(options, share, s), tally: local ? limits : null };
    const w = new Worker(new URL('./shard-worker.js', import.meta.url), { workerData: start });
    w.on('message', (m: FromShard) => {
      times.workerMs[s] = times.workerMs[s]! + m.busyMs;
      if (m.type === 'batch') {
        arrived(s, m);
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
  const noMeta = new Float64Array(0);
  const cut = (): void => {
    arrived(0, { type: 'batch', cut: cutsSent, meta: noMeta, busyMs: 0, failures: inline.failures, ...inline.take() });
    for (let s = 1; s < n; s++) {
      const meta = metas[s]!;
      post(s, { type: 'batch', cut: cutsSent, records: records[s]!, meta, blocks: newBlocks[s]! }, [meta.buffer as ArrayBuffer]);
      metas[s] = take();
      records[s] = 0;
      newBlocks[s] = [];
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
    const s = slots[keyHash(d, fromClient, prefix) >>> 24]!;
    const purge = ts - lastPurge > PURGE_EVERY;
    if (records[s]! + (purge ? 2 : 1) > BATCH_RECORDS || (purge && records.some((r) => r + 1 > BATCH_RECORDS))) cut();
    if (purge) {
      lastPurge = ts;
      inline.sweep(i, ts);
      for (let t = 1; t < n; t++) {
        const m = metas[t]!;
        const k = records[t]!++ * META;
        m[k] = i;
        m[k + 1] = ts;
        m[k + 2] = PURGE;
      }
    }
    if (s === 0) {
      inline.decoded(i, ts, fromClient);
      if (cutsSent - nextCut >= MAX_IN_FLIGHT) return waitFor(() => cutsSent - nextCut < MAX_IN_FLIGHT);
      return;
    }
    let b: Block;
    let off: number;
    if (readBlock !== null && rec.buf === readBlock.buf) {
      b = readBlock;
      off = rec.off;
    } else {
      if (copyBlock === null || copyUsed + caplen > copyBlock.buf.length) {
        if (copyBlock) retire(copyBlock);
        copyBlock = block(caplen);
        copyUsed = 0;
      }
      b = copyBlock;
      off = copyUsed;
      rec.buf.copy(b.buf, off, rec.off, rec.off + caplen);
      copyUsed += caplen;
    }
    if (b.sent[s] === 0) {
      b.sent[s] = 1;
      newBlocks[s]!.push({ id: b.id, sab: b.buf.buffer as SharedArrayBuffer });
    }
    const m = metas[s]!;
    const k = records[s]!++ * META;
    m[k] = i;
    m[k + 1] = ts;
    m[k + 2] = rec.linktype;
    m[k + 3] = b.id;
    m[k + 4] = off;
    m[k + 5] = caplen;
    m[k + 6] = fromClient ? 1 : 0;
    if (cutsSent - nextCut >= MAX_IN_FLIGHT) return waitFor(() => cutsSent - nextCut < MAX_IN_FLIGHT);
  };

  const t0 = performance.now();
  try {
    const reports = await readCaptureFiles(files, onPacket, stop, { supply });
    cut();
    const end = main.lastTs === -Infinity ? 0 : main.lastTs;
    for (let s = 1; s < n; s++) post(s, { type: 'end', index, ts: end });
    const t1 = performance.now();
    inline.finish(index, end);
    finals[0] = inline.final(performance.now() - t1);
    finalsIn++;
    drain();
    await waitFor(() => finalsIn === n && nextCut === cutsSent);
    times.readMs = performance.now() - t0 - times.mergeMs;
    const fin = finals as FinalResult[];
    merge(fin);
    if (local) {
      tally.totals.failures = 0;
      sumInto(
        main,
        fin,
        held,
        mergeTallies(
          tally,
          fin.map((f) => f.tally!),
        ),
      );
    } else sumInto(main, fin, held, blockOrder);
    lastThreadTimes = times;
    // The skips were counted by the decoder every packet went through: shard 0's.
    return { tally, pipeline: main, files: reports, coverage: { ...main.coverage(), skipped: d.skippedByReason() }, blocks: main.strikes.blocks };
  } finally {
    if (timer) clearInterval(timer);
    for (const w of workers) void w?.terminate();
  }
}
