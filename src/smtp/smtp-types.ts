/**
 * What an SMTP session shares with the world: the wire tap it asks for packet headers, its
 * counters, its settings, and the per-line observer `dump` uses. Types only.
 */
import type { PacketHeader } from '../decode/packet-header.js';
import type { EventSink, WireSnapshot } from '../events.js';
import type { FlowInfo } from '../reassembly/stream.js';
import type { PatternAutomaton } from './stream-matcher.js';
import type { ReplyResolver } from '../tls/reply-profiles.js';

/** What the session needs from the world: the header fields of the packets that carried its bytes. */
export interface WireTap {
  /** Header fields of the packet that carried the bytes being delivered; addresses and ports come from the caller. */
  snapshot(src: string, dst: string, sport: number, dport: number): WireSnapshot;
  /** The same fields kept for later: a reply line whose packet is gone by the time it is reported. */
  keepHeader(): PacketHeader;
  snapshotOf(h: PacketHeader, src: string, dst: string, sport: number, dport: number): WireSnapshot;
}

export interface SmtpStats {
  /** Flows that went opaque after STARTTLS + 220, or with TLS from the first byte. */
  opaqueFlows: number;
  /** Server lines that are not `DDD[ -]…` replies. */
  malformedReplies: number;
  /** Replies taken from a line whose rest was lost in a gap (the code survived). */
  partialReplies: number;
  longLines: number;
  /** TLS record headers read on opaque flows (src/tls). */
  tlsRecords: number;
  /** Of those, application-data records after the handshake. */
  tlsAppRecords: number;
  /** Directions of opaque flows whose record headers could not be followed (gap, not TLS). */
  tlsLostDirections: number;
  /** AUTH outcomes inferred from record sizes and timing on opaque flows (src/tls); also events. */
  tlsInferredFailures: number;
  tlsInferredSuccesses: number;
  tlsInferredTempfails: number;
  /** Outcome positions whose record fitted more than one reading: never counted as an outcome. */
  tlsInferredAmbiguous: number;
  /** Opaque sessions by what the inference made of them when they ended (SessionVerdict). */
  tlsSessionsClassified: number;
  tlsSessionsAmbiguous: number;
  tlsSessionsUnclassified: number;
}

/** Shared, read-only settings of all sessions. */
export interface SmtpConfig {
  /** User failure patterns run over the server stream, or null. */
  automaton: PatternAutomaton | null;
  /** Sees every reassembled line (`smtpstrike dump`); null on the detection path (one null check per line). */
  observer?: SmtpObserver | null;
  /** The reply sizes of each opaque session, from the options, a file, a log or its banner. */
  replies: ReplyResolver;
}

/** What all sessions of one pipeline share. */
export interface SmtpShared {
  readonly config: SmtpConfig;
  readonly sink: EventSink;
  readonly tap: WireTap;
  readonly stats: SmtpStats;
}

/** What a client line inside an AUTH exchange was; the line itself is never handed out. */
export type AuthDataKind = 'user' | 'plain' | 'secret' | 'cancel';

/**
 * Optional per-line view of a session, for `smtpstrike dump`. Called synchronously while the
 * packet that completes the line is processed; buffers are only valid during the call. Credentials
 * never reach an observer: AUTH initial responses and the lines of an AUTH exchange are reported
 * by kind, with the decoded username only.
 */
export interface SmtpObserver {
  /** A client command line (not AUTH, not a line of an AUTH exchange, not message body). */
  command(flow: FlowInfo, buf: Buffer, start: number, end: number, ts: number): void;
  /** An AUTH command: mechanism, the username its initial response carried (PLAIN/LOGIN), whether it had one. */
  auth(flow: FlowInfo, mech: string, user: string | null, initial: boolean, ts: number): void;
  /**
   * A client line inside an AUTH exchange: `user` a LOGIN username line, `plain` a PLAIN response
   * (username and password), `secret` a password or other mechanism data, `cancel` the client's `*`.
   * `name` is the decoded username for `user`/`plain` (null when it did not decode).
   */
  authData(flow: FlowInfo, kind: AuthDataKind, name: string | null, ts: number): void;
  /** A server line; `cut` when it is the surviving head of a line lost in a gap or at the end of the stream. */
  reply(flow: FlowInfo, buf: Buffer, start: number, end: number, cut: boolean, ts: number): void;
  /** Bytes of one direction that will never arrive (-1: unknown, the capture began mid-stream). */
  gap(flow: FlowInfo, fromClient: boolean, lost: number, ts: number): void;
  /**
   * A TLS record header read on an opaque flow (src/tls/record-tracker.ts): content type, length,
   * and `app` (application data after the handshake). Called before any `tlsOutcome` that record
   * gives, with the same length and ts. Headers only: nothing is decrypted.
   */
  tlsRecord?(flow: FlowInfo, fromClient: boolean, contentType: number, length: number, app: boolean, ts: number): void;
  /** An AUTH outcome inferred inside TLS (src/tls/auth-exchange.ts); `basis` holds BASIS_* bits. */
  tlsOutcome?(flow: FlowInfo, kind: 'failure' | 'success' | 'tempfail' | 'ambiguous', basis: number, recordLen: number, delay: number, ts: number): void;
}
