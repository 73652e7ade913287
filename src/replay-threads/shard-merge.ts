/**
 * The main thread's side of `replay --threads` once the shards have answered: their events merged
 * back into the one-thread order, their held out-of-order bytes into one peak, their counters and
 * blocks into the main pipeline's.
 */
import type { Pipeline } from '../pipeline.js';
import type { ReplayTally } from '../replay-output/client-tally.js';
import { MAX_LISTED_BLOCKS, type BlockInterval } from '../strikes/strike-engine.js';
import { Unpacker } from './event-pack.js';
import { Trace, type FinalResult, type ShardEvents } from './shard-protocol.js';

/** The shards' events of one cut, in the one-thread order: a k-way merge on (key, sub); ties keep the lower shard first. */
export function mergeEvents(parts: ShardEvents[], tally: ReplayTally, blockOrder: number[]): void {
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
export function mergeTrace(
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
export function sumInto(main: Pipeline, fin: FinalResult[], held: { peakSegs: number; peakBytes: number }, blockOrder: ArrayLike<number>): void {
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
  for (let i = 0; i < blockOrder.length; i++) {
    const s = blockOrder[i]!;
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
