import { PacketDecoder } from './decode/packet-decoder.js';
import { PacketHeader } from './decode/packet-header.js';
import type { EventSink, WireSnapshot } from './events.js';
import { defaultFlowTableOptions, FlowTable, type FlowTableOptions } from './reassembly/flow-table.js';
import type { FlowInfo, HeaderSource, StreamConsumer, StreamFactory } from './reassembly/stream.js';
import { defaultAssemblerLimits, TcpAssembler, TcpFlag, type AssemblerLimits } from './reassembly/tcp-assembler.js';
import { SmtpSession } from './smtp/smtp-session.js';
import type { SmtpObserver, SmtpShared, SmtpStats, WireTap } from './smtp/smtp-types.js';
import { PatternAutomaton } from './smtp/stream-matcher.js';
import { tsInRange, type PacketRecord } from './source/packet-record.js';
import { SensorMerge, type SensorMergeOptions } from './strikes/sensor-merge.js';
import { defaultStrikeOptions, StrikeEngine, type StrikeOptions } from './strikes/strike-engine.js';
import { ReplyResolver } from './tls/reply-profiles.js';

export interface PipelineOptions {
  /** Server ports: the side of a flow on one of these is the SMTP server. */
  ports: number[];
  /** Extra failure patterns (`--match`), searched in the reassembled server stream. */
  patterns: string[];
  strikes: StrikeOptions;
  flows: FlowTableOptions;
  assembler: AssemblerLimits;
  /** Which reply sizes each opaque session is read with (`--tls-reply`, `--tls-replies-file`, a log, the banner). */
  tlsReplies: ReplyResolver;
  /** The sensor merge in front of the strike engine (default: the wire alone, nothing held). */
  sensors?: Partial<SensorMergeOptions>;
}

export const defaultPipelineOptions = (): PipelineOptions => ({
  ports: [25, 587],
  patterns: [],
  strikes: defaultStrikeOptions(),
  flows: { ...defaultFlowTableOptions },
  assembler: { ...defaultAssemblerLimits },
  tlsReplies: new ReplyResolver(),
});

/** How often (packet seconds) idle flows are swept. */
const PURGE_EVERY = 60;

/**
 * capture → decode → reassemble → smtp → strikes → sink. Files and live interfaces feed the same
 * `packet()`; the packets' own timestamps are the clock, so a replay is deterministic.
 */
export class Pipeline implements StreamFactory, WireTap, HeaderSource {
  readonly decoder = new PacketDecoder();
  readonly assembler: TcpAssembler;
  readonly flows: FlowTable;
  readonly strikes: StrikeEngine;
  /**
   * Where AUTH outcomes enter the strike engine: with a log sensor on (watch --log), `merge.log()`
   * takes the log's attempts and an attempt both saw counts once (src/strikes/sensor-merge.ts).
   */
  readonly merge: SensorMerge;
  readonly smtpStats: SmtpStats = {
    opaqueFlows: 0,
    malformedReplies: 0,
    partialReplies: 0,
    longLines: 0,
    tlsRecords: 0,
    tlsAppRecords: 0,
    tlsLostDirections: 0,
    tlsInferredFailures: 0,
    tlsInferredSuccesses: 0,
    tlsInferredTempfails: 0,
    tlsInferredAmbiguous: 0,
    tlsSessionsClassified: 0,
    tlsSessionsAmbiguous: 0,
    tlsSessionsUnclassified: 0,
  };
  private readonly serverPort = new Uint8Array(65536);
  private automaton: PatternAutomaton | null;
  packets = 0;
  bytes = 0;
  smtpPackets = 0;
  firstTs = Infinity;
  lastTs = -Infinity;
  private lastPurge = 0;
  /** Interface name of the packet being processed ('' when unknown). */
  iface = '';
  /**
   * Sees every reassembled SMTP line of the flows created after it is set (`smtpstrike dump`);
   * events still go to the sink. Null (the default) costs one null check per line.
   */
  smtpObserver: SmtpObserver | null = null;
  /** What every session shares (one object, not one per flow); remade when smtpObserver changes. */
  private sessionShared: SmtpShared | null = null;

  constructor(
    readonly opts: PipelineOptions,
    sink: EventSink,
  ) {
    for (const p of opts.ports) this.serverPort[p] = 1;
    this.automaton = automatonFor(opts.patterns);
    this.assembler = new TcpAssembler(opts.assembler);
    this.assembler.headers = this;
    this.strikes = new StrikeEngine(opts.strikes, sink);
    this.merge = new SensorMerge(this.strikes, opts.sensors ?? {});
    this.flows = new FlowTable(this, this.assembler, opts.flows);
  }

  /** New `--match` patterns (watch's SIGHUP): sessions opened from now on use them, open ones keep theirs. */
  setPatterns(patterns: string[]): void {
    this.opts.patterns = patterns;
    this.automaton = automatonFor(patterns); // create() sees it differ from the shared config and makes a new one
  }

  /** The hot path: one captured frame. */
  packet(rec: PacketRecord): void {
    this.packets++;
    this.bytes += rec.caplen;
    const d = this.decoder;
    if (!tsInRange(rec.tsSec)) {
      d.countBadTimestamp();
      return;
    }
    if (!d.decode(rec.linktype, rec.buf, rec.off, rec.caplen)) return;
    const dp = this.serverPort[d.dport]!;
    const sp = this.serverPort[d.sport]!;
    if (dp === 0 && sp === 0) {
      d.countNotSmtp();
      return;
    }
    this.smtpPackets++;
    let fromClient: boolean;
    if (dp !== sp) fromClient = dp === 1;
    else if (d.flags & TcpFlag.SYN) fromClient = (d.flags & TcpFlag.ACK) === 0;
    else fromClient = d.dport <= d.sport; // both are server ports: the lower one serves
    const ts = rec.tsSec + rec.tsNsec * 1e-9;
    if (ts < this.firstTs) this.firstTs = ts;
    if (ts > this.lastTs) this.lastTs = ts;
    this.flows.setTime(ts);
    if (ts - this.lastPurge > PURGE_EVERY) {
      this.lastPurge = ts;
      this.flows.purgeIdle();
    }
    this.flows.segment(d, fromClient, ts);
  }

  /** End of input: every open flow is flushed and closed. */
  finish(): void {
    this.flows.closeAll(this.lastTs === -Infinity ? 0 : this.lastTs);
    this.merge.flush();
  }

  create(info: FlowInfo): StreamConsumer {
    let shared = this.sessionShared;
    if (!shared || shared.config.observer !== this.smtpObserver || shared.config.automaton !== this.automaton) {
      shared = this.sessionShared = {
        config: { automaton: this.automaton, observer: this.smtpObserver, replies: this.opts.tlsReplies },
        sink: this.merge,
        tap: this,
        stats: this.smtpStats,
      };
    }
    return new SmtpSession(info, shared);
  }

  /**
   * Header fields of the packet that carried the bytes being delivered: the packet being processed,
   * or — while bytes that waited behind a hole are delivered — the packet they arrived in.
   */
  snapshot(src: string, dst: string, sport: number, dport: number): WireSnapshot {
    const h = this.assembler.replayHeader;
    if (h) return this.snapshotOf(h, src, dst, sport, dport);
    const d = this.decoder;
    return {
      ipVersion: d.ipVersion as 4 | 6,
      src,
      dst,
      sport,
      dport,
      ipLen: d.ipLen,
      tos: d.tos,
      ttl: d.ttl,
      ipId: d.ipId,
      df: d.df,
      flowLabel: d.flowLabel,
      window: d.window,
      tcpFlags: d.flags,
      iface: this.iface,
    };
  }

  /** The same fields kept for later (allocates: only for bytes or lines that must wait). */
  keepHeader(): PacketHeader {
    return this.assembler.replayHeader ?? PacketHeader.of(this.decoder, this.iface);
  }

  snapshotOf(h: PacketHeader, src: string, dst: string, sport: number, dport: number): WireSnapshot {
    return {
      ipVersion: h.ipVersion,
      src,
      dst,
      sport,
      dport,
      ipLen: h.ipLen,
      tos: h.tos,
      ttl: h.ttl,
      ipId: h.ipId,
      df: h.df,
      flowLabel: h.flowLabel,
      window: h.window,
      tcpFlags: h.tcpFlags,
      iface: h.iface,
    };
  }

  /** What was read and what could not be used: the honest part of every report. */
  coverage(): Coverage {
    const a = this.assembler.stats;
    const f = this.flows.stats;
    const s = this.strikes.stats;
    return {
      packets: this.packets,
      bytes: this.bytes,
      smtp_packets: this.smtpPackets,
      skipped: this.decoder.skippedByReason(),
      flows: f.flows,
      opaque_flows: this.smtpStats.opaqueFlows,
      opaque_sessions_classified: this.smtpStats.tlsSessionsClassified,
      opaque_sessions_ambiguous: this.smtpStats.tlsSessionsAmbiguous,
      opaque_sessions_unclassified: this.smtpStats.tlsSessionsUnclassified,
      tls_records: this.smtpStats.tlsRecords,
      tls_lost_directions: this.smtpStats.tlsLostDirections,
      inferred: {
        failures: this.smtpStats.tlsInferredFailures,
        successes: this.smtpStats.tlsInferredSuccesses,
        tempfails: this.smtpStats.tlsInferredTempfails,
        ambiguous_records: this.smtpStats.tlsInferredAmbiguous,
      },
      inferred_not_struck: s.inferredNotStruck,
      midstream_starts: a.midstreamStarts,
      gaps: a.gaps,
      gap_bytes: a.gapBytes,
      retransmitted_bytes: a.retransmittedBytes,
      overlap_bytes: a.overlapBytes,
      out_of_order_segments: a.outOfOrderSegments,
      pending_overflows: a.pendingOverflows,
      pending_segments_peak: a.pendingSegmentsPeak,
      pending_bytes_peak: a.pendingBytesPeak,
      malformed_replies: this.smtpStats.malformedReplies,
      partial_replies: this.smtpStats.partialReplies,
      long_lines: this.smtpStats.longLines,
      evictions: {
        flows: f.evicted,
        flows_idle: f.expired,
        flows_reused: f.reused,
        strike_entries_expired: s.expiredEntries,
        strike_entries_striking: s.evictedStriking,
        strike_entries_blocked: s.evictedBlocked,
        escalation_history: s.escalationHistoryDropped,
      },
      failures_on_rejected_connections: s.failuresOnRejectedConnections,
      escalated_rejects: s.escalatedRejects,
      whitelisted_events: s.whitelistedEvents,
      first_ts: Number.isFinite(this.firstTs) ? this.firstTs : null,
      last_ts: Number.isFinite(this.lastTs) ? this.lastTs : null,
    };
  }
}

export interface Coverage {
  packets: number;
  bytes: number;
  smtp_packets: number;
  skipped: Record<string, number>;
  flows: number;
  opaque_flows: number;
  /** Opaque sessions by what the TLS inference made of them (src/tls/session-inference.ts). */
  opaque_sessions_classified: number;
  opaque_sessions_ambiguous: number;
  opaque_sessions_unclassified: number;
  /** TLS record headers read, and directions whose records could not be followed. */
  tls_records: number;
  tls_lost_directions: number;
  /** AUTH outcomes inferred inside TLS; ambiguous records are never counted as outcomes. */
  inferred: { failures: number; successes: number; tempfails: number; ambiguous_records: number };
  /** Inferred failures that struck nothing (--no-inferred-strikes, or the server's 535 size not known). */
  inferred_not_struck: number;
  midstream_starts: number;
  gaps: number;
  gap_bytes: number;
  retransmitted_bytes: number;
  overlap_bytes: number;
  out_of_order_segments: number;
  pending_overflows: number;
  /** The most out-of-order segments, and bytes, that waited at once (against the caps). */
  pending_segments_peak: number;
  pending_bytes_peak: number;
  malformed_replies: number;
  partial_replies: number;
  long_lines: number;
  evictions: Record<string, number>;
  failures_on_rejected_connections: number;
  /** New connections refused only because a repeat offender's escalated block stood (strikes/escalation.ts). */
  escalated_rejects: number;
  whitelisted_events: number;
  first_ts: number | null;
  last_ts: number | null;
}

function automatonFor(patterns: readonly string[]): PatternAutomaton | null {
  return patterns.length > 0 ? new PatternAutomaton(patterns.map((p) => Buffer.from(p, 'latin1'))) : null;
}
