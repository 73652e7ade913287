/**
 * The tarpit's events and the messages between watch (the parent, which binds the port) and the
 * tarpit child (unprivileged, which serves it). The event shapes are the shared contract of issue 14.
 */

export const TARPIT_ENDS = ['quit', 'closed', 'lifetime', 'idle', 'error', 'shutdown'] as const;
export type TarpitEnd = (typeof TARPIT_ENDS)[number];
export const TARPIT_REFUSALS = ['total', 'per_address'] as const;
export type TarpitRefusal = (typeof TARPIT_REFUSALS)[number];

/** One finished tarpit connection (logged as one JSON line, `event: 'tarpit_session'`). */
export interface TarpitSessionEvent {
  event: 'tarpit_session';
  client: string;
  client_port: number;
  local_port: number;
  /** Unix seconds (float) of the accept. */
  started: number;
  held_s: number;
  bytes_in: number;
  bytes_out: number;
  commands: number;
  auth_attempts: number;
  decoy_successes: number;
  /** At most MAX_USERNAMES, control characters escaped (src/text escapeControl); never a password. */
  usernames: string[];
  usernames_dropped: number;
  starttls: boolean;
  end: TarpitEnd;
}

/** A connection closed at once because a cap was full. */
export interface TarpitRefusedEvent {
  event: 'tarpit_refused';
  client: string;
  reason: TarpitRefusal;
}

export type TarpitEvent = TarpitSessionEvent | TarpitRefusedEvent;

/** What the tarpit serves with (all of it settable from watch's options). */
export interface TarpitConfig {
  /** Reply pace, bytes per second (every reply, the greeting included). */
  rate: number;
  /** Share of AUTH attempts answered with a decoy 235 (0..1). */
  decoyRate: number;
  maxConnections: number;
  perAddress: number;
  /** Longest a connection is held, seconds. */
  lifetimeSec: number;
  /** A connection that sends nothing while nothing is owed to it is closed after this, seconds. */
  idleSec: number;
  /** A longer input line is discarded as it arrives, never buffered. */
  maxLine: number;
  /** The 451 texts commands get (each a line; "451 " is put in front when missing). */
  lines: string[];
  /** Name in the greeting and the EHLO reply. */
  hostname: string;
  /** RNG seed (tests: exact decoy choices); random when absent. */
  seed?: number | undefined;
}

/** parent → child */
export type ParentMessage = { type: 'listen'; config: TarpitConfig } | { type: 'shutdown' };
/** child → parent */
export type ChildMessage =
  { type: 'listening' } | { type: 'event'; ev: TarpitEvent } | { type: 'stats'; connections: number } | { type: 'failed'; err: string };
