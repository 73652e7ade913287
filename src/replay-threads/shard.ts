import { readFileSync } from 'node:fs';
import type { EventSink, PipelineEvent } from '../events.js';
import { Pipeline } from '../pipeline.js';
import { Flow } from '../reassembly/flow-table.js';
import type { FlowInfo, StreamConsumer } from '../reassembly/stream.js';
import { pack, type Packed } from './event-pack.js';
import { fromWire, META, Phase, PURGE, Trace, type BatchMessage, type FinalResult, type ShardEvents, type WireOptions } from './shard-protocol.js';
import { ShardTally } from './shard-tally.js';
import type { TallyLimits } from '../replay-output/client-tally.js';

/**
 * One shard of a threaded replay: the pipeline from the flow table on (flows, SMTP, strikes) for
 * the clients whose strike key hashes to it. The main thread has decoded every packet already and
 * decided when the idle sweep runs; in a worker each packet is decoded again (cheap, and the flow
 * table wants the decoder's fields) and handed to the flow table (`run`); shard 0, on the main
 * thread, takes each packet as the main thread decodes it into this shard's decoder (`decoded`).
 * Every event is tagged with where it falls in the one-thread order (shard-protocol.ts Phase) so
 * that the main thread can merge the shards' events back into exactly the one-thread sequence; with
 * a tally (summary-only runs) the events stay here and only the tally goes back (shard-tally.ts).
 */
export class Shard implements EventSink {
  readonly pipeline: ShardPipeline;
  private events: Packed = [];
  /** Events packed so far (since the last take). */
  private count = 0;
  private keys: number[] = [];
  private trace: number[] = [];
  /** The key of the packet or sweep being run, and the sub-key of the flow whose events come now. */
  private key = 0;
  private sub = 0;
  /** During a sweep or the end: whether sub is the flow's last time (ascending) or its negation. */
  private sweeping: 'none' | 'idle' | 'newest' = 'none';
  /** Events of a sweep up to its last idle flow_end (the rest are its expired gaps). */
  private idleUpTo = 0;
  /** The main thread's blocks of packet bytes, by id (shared memory). */
  private readonly views: Buffer[] = [];
  private heldSegs = 0;
  private heldBytes = 0;
  /** Summary-only runs: the tally, here (shard-tally.ts); no event is sent back. */
  private readonly local: ShardTally | null;

  constructor(options: WireOptions, tally: TallyLimits | null = null) {
    this.local = tally ? new ShardTally(tally) : null;
    this.pipeline = new ShardPipeline(fromWire(options), this);
    const a = this.pipeline.assembler;
    const segment = a.segment.bind(a);
    // The one-thread run measures the held bytes inside segment(), after the caps acted, when the
    // direction still waits; the main thread adds the other shards' holdings at that moment.
    a.segment = (hs, c, fromClient, seq, flags, buf, off, avail, segLen, ts): boolean => {
      const done = segment(hs, c, fromClient, seq, flags, buf, off, avail, segLen, ts);
      if (segLen > 0 && hs.pending) this.trace.push(this.key, Trace.measure, a.pendingSegments, a.pendingTotal);
      return done;
    };
  }

  event(ev: PipelineEvent): void {
    switch (ev.type) {
      case 'connect':
        return; // neither the tally nor the output reads them
      case 'flow_end': {
        if (this.sweeping === 'idle' && ev.reason === 'idle') this.idleUpTo = this.count;
        this.pipeline.live.delete(ev.flow);
        return;
      }
      case 'auth_failure':
      case 'auth_success':
      case 'auth_tempfail':
      case 'starttls':
        if (this.sweeping !== 'none') {
          const f = this.pipeline.live.get(ev.flow);
          const t = f ? f.lastSeen : 0;
          this.sub = this.sweeping === 'idle' ? t : -t;
        }
        break;
      default:
        break;
    }
    const local = this.local;
    if (local) local.event(ev, this.key, this.sub, this.count++);
    else {
      if (!pack(ev, this.events)) return;
      this.count++;
      this.keys.push(this.key, this.sub);
    }
  }

  /** Failures tallied here so far (0 when the events are sent back). */
  get failures(): number {
    return this.local ? this.local.tally.totals.failures : 0;
  }

  /** Runs one batch from the main thread. */
  run(m: BatchMessage): void {
    const meta = m.meta;
    const views = this.views;
    for (const b of m.blocks) views[b.id] = Buffer.from(b.sab);
    const p = this.pipeline;
    const d = p.decoder;
    const flows = p.flows;
    for (let r = 0, k = 0; r < m.records; r++, k += META) {
      const index = meta[k]!;
      const ts = meta[k + 1]!;
      const linktype = meta[k + 2]!;
      if (linktype === PURGE) {
        this.sweep(index, ts);
        continue;
      }
      this.key = index * 4 + Phase.packet;
      this.sub = 0;
      if (!d.decode(linktype, views[meta[k + 3]!]!, meta[k + 4]!, meta[k + 5]!)) continue; // decoded on the main thread: cannot fail
      flows.setTime(ts);
      flows.segment(d, meta[k + 6] === 1, ts);
      this.traceAfter();
    }
  }

  /**
   * The shard that runs on the main thread: the packet `index` that the main thread has just
   * decoded into this shard's own decoder (it decodes every packet with it: no second decode).
   */
  decoded(index: number, ts: number, fromClient: boolean): void {
    this.key = index * 4 + Phase.packet;
    this.sub = 0;
    const p = this.pipeline;
    p.flows.setTime(ts);
    p.flows.segment(p.decoder, fromClient, ts);
    this.traceAfter();
  }

  /** The idle sweep at packet `index` (decided by the main thread, run by every shard). */
  sweep(index: number, ts: number): void {
    const start = this.count;
    this.key = index * 4 + Phase.purgeIdle;
    this.sweeping = 'idle';
    this.idleUpTo = start;
    const flows = this.pipeline.flows;
    flows.setTime(ts);
    flows.purgeIdle();
    this.sweeping = 'none';
    // Events after the sweep's last idle flow came from its expired gaps, newest flow first.
    if (this.local) this.local.rekey(this.idleUpTo, index * 4 + Phase.purgeGaps);
    const keys = this.keys;
    for (let i = this.idleUpTo; !this.local && i < this.count; i++) {
      keys[2 * i] = index * 4 + Phase.purgeGaps;
      keys[2 * i + 1] = -keys[2 * i + 1]!;
    }
    this.traceAfter();
  }

  /** End of input: every open flow closed at the last packet's time, newest first, then the merge's flush. */
  finish(index: number, ts: number): void {
    this.key = index * 4 + Phase.purgeGaps;
    this.sweeping = 'newest';
    this.pipeline.flows.closeAll(ts);
    this.sweeping = 'none';
    this.key = index * 4 + Phase.flush;
    this.sub = 0;
    this.pipeline.merge.flush();
    this.traceAfter();
  }

  private traceAfter(): void {
    const a = this.pipeline.assembler;
    if (a.pendingSegments !== this.heldSegs || a.pendingTotal !== this.heldBytes) {
      this.heldSegs = a.pendingSegments;
      this.heldBytes = a.pendingTotal;
      this.trace.push(this.key, Trace.after, this.heldSegs, this.heldBytes);
    }
  }

  /** The events (and trace) since the last take. */
  take(): ShardEvents {
    const out = { events: this.events, keys: Float64Array.from(this.keys), trace: Float64Array.from(this.trace) };
    this.events = [];
    if (!this.local) this.count = 0; // (the local tally's ordinals run over the whole input)
    this.keys = [];
    this.trace = [];
    return out;
  }

  final(busyMs: number): FinalResult {
    const p = this.pipeline;
    return {
      type: 'final',
      ...this.take(),
      flows: p.flows.stats,
      assembler: p.assembler.stats,
      smtp: p.smtpStats,
      strikes: p.strikes.stats,
      blocks: p.strikes.blocks,
      tally: this.local?.result() ?? null,
      busyMs,
      cpuMs: threadCpuMs(),
    };
  }
}

/** The pipeline with its open flows findable by id (a sweep orders their events by their last packet time). */
export class ShardPipeline extends Pipeline {
  readonly live = new Map<number, Flow>();

  override create(info: FlowInfo): StreamConsumer {
    if (info instanceof Flow) this.live.set(info.id, info);
    return super.create(info);
  }
}

/** This thread's user + system CPU time in ms (Linux), or null: where a threaded run's time went (bench). */
function threadCpuMs(): number | null {
  try {
    const st = readFileSync('/proc/thread-self/stat', 'latin1');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]);
    return Number.isFinite(ticks) ? ticks * 10 : null; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}
