/**
 * What the main thread and the shard workers of a threaded replay tell each other (structured
 * clone; the packet bytes are transferred, never copied).
 */
import type { PipelineOptions } from '../pipeline.js';
import type { ReassemblyStats } from '../reassembly/tcp-assembler.js';
import type { FlowStats } from '../reassembly/flow-table.js';
import type { SmtpStats } from '../smtp/smtp-types.js';
import { AddressSet } from '../strikes/address-key.js';
import type { BlockInterval, StrikeOptions, StrikeStats } from '../strikes/strike-engine.js';
import { ReplyResolver, type ReplyInputs } from '../tls/reply-profiles.js';
import type { Packed } from './event-pack.js';
import type { ShardTallyResult } from './shard-tally.js';
import type { TallyLimits } from '../replay-output/client-tally.js';

/** Per record in a batch's `meta`: packet index, packet time, linktype (PURGE: a sweep), block, offset, caplen, from the client. */
export const META = 7;
/** `meta[k + 2]` of a sweep of idle flows (every shard gets it, at the packet that triggered it). */
export const PURGE = -1;

/**
 * Where an event falls in the one-thread order: `key = index · 4 + phase`, then `sub`.
 * Phases at one packet: the sweep's idle flows (oldest first: sub = their last packet time), the
 * sweep's expired gaps (newest first: sub = −last time), the packet itself (one shard only).
 * The end of input is one index past the last packet: every open flow, newest first, then the
 * sensor merge's flush.
 */
export const Phase = { purgeIdle: 0, purgeGaps: 1, packet: 2, flush: 3 } as const;

/** A trace of the out-of-order bytes held, so that the main thread can take the peak of the sum over shards. */
export const Trace = { measure: 0, after: 1 } as const;

export interface BatchMessage {
  type: 'batch';
  cut: number;
  records: number;
  meta: Float64Array;
  /** Blocks of packet bytes this worker has not been sent before (shared, never copied): its views of them by id. */
  blocks: { id: number; sab: SharedArrayBuffer }[];
}

export interface EndMessage {
  type: 'end';
  /** The index past the last packet, and the last packet time (closeAll's time). */
  index: number;
  ts: number;
}

export type ToShard = BatchMessage | EndMessage;

export interface ShardEvents {
  /** The events, packed (event-pack.ts). */
  events: Packed;
  /** Two per event: key, sub. */
  keys: Float64Array;
  /** Four per entry: key, Trace kind, segments held, bytes held. */
  trace: Float64Array;
}

export interface BatchResult extends ShardEvents {
  type: 'batch';
  cut: number;
  /** The batch's records, back for reuse. */
  meta: Float64Array;
  /** Milliseconds of the worker's time on the batch (bench: where the time goes). */
  busyMs: number;
  /** The shard's failures so far, when it tallies itself (the progress line). */
  failures: number;
}

export interface FinalResult extends ShardEvents {
  type: 'final';
  flows: FlowStats;
  assembler: ReassemblyStats;
  smtp: SmtpStats;
  strikes: StrikeStats;
  blocks: BlockInterval[];
  /** Summary-only runs: the shard's own tally (shard-tally.ts); null when its events were sent. */
  tally: ShardTallyResult | null;
  busyMs: number;
  /** The worker thread's CPU time (ms), from /proc/thread-self/stat; null where there is none. */
  cpuMs: number | null;
}

export type FromShard = BatchResult | FinalResult;

/** What a shard worker starts with: its options, and the tally limits when it tallies itself (summary-only runs). */
export interface ShardStart {
  options: WireOptions;
  tally: TallyLimits | null;
}

/** PipelineOptions as a structured clone can carry them (the whitelist and the reply resolver rebuilt). */
export interface WireOptions {
  ports: number[];
  patterns: string[];
  strikes: Omit<StrikeOptions, 'whitelist'> & { whitelist: string[] };
  flows: PipelineOptions['flows'];
  assembler: PipelineOptions['assembler'];
  tlsInputs: ReplyInputs;
}

/**
 * The options shard `s` runs with, when each shard owns the fraction `shares[t]` of the keys: the
 * whole-run bounds (flows, strike entries, the out-of-order bytes and pieces held in all) split
 * between the shards by their shares, summing to exactly the bound (what floor() leaves goes one each to the
 * first shards that own keys), so that the threads together hold what one thread would; a shard
 * that owns no key gets 1. The per-flow and per-stream bounds stay as they are.
 */
export function toWire(o: PipelineOptions, shares: readonly number[], s: number): WireOptions {
  if (o.sensors !== undefined) throw new Error('a threaded replay takes the wire alone (no sensor merge options)');
  const part = (x: number): number => splitBound(x, shares)[s]!;
  return {
    ports: o.ports,
    patterns: o.patterns,
    strikes: { ...o.strikes, whitelist: o.strikes.whitelist.entries, maxEntries: part(o.strikes.maxEntries) },
    flows: { ...o.flows, maxFlows: part(o.flows.maxFlows) },
    assembler: {
      ...o.assembler,
      maxPendingTotal: part(o.assembler.maxPendingTotal),
      maxPendingSegmentsTotal: part(o.assembler.maxPendingSegmentsTotal),
    },
    tlsInputs: o.tlsReplies.inputs,
  };
}

/** `bound` split by `shares` (summing to 1): whole numbers summing to `bound` over the shards that own keys, each at least 1. */
export function splitBound(bound: number, shares: readonly number[]): number[] {
  const out = shares.map((f) => Math.floor(bound * f));
  let rest = bound - out.reduce((a, b) => a + b, 0);
  for (let t = 0; rest > 0 && t < out.length; t = (t + 1) % out.length) {
    if (shares[t]! > 0) {
      out[t]!++;
      rest--;
    }
  }
  return out.map((x) => Math.max(1, x));
}

export function fromWire(w: WireOptions): PipelineOptions {
  const whitelist = new AddressSet();
  for (const e of w.strikes.whitelist) whitelist.add(e);
  return {
    ports: w.ports,
    patterns: w.patterns,
    strikes: { ...w.strikes, whitelist },
    flows: w.flows,
    assembler: w.assembler,
    tlsReplies: new ReplyResolver(w.tlsInputs),
  };
}
