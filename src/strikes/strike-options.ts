/**
 * What the strike engine is told and what it reports: its options (the seed's thresholds), the
 * state it saves and restores, its counters, and the outcome of one AUTH event.
 */
import type { BlockInterval } from './strike-table.js';
import { AddressSet } from './address-key.js';
import { defaultEscalationOptions, type EscalationHistoryItem, type EscalationOptions } from './escalation.js';

export interface StrikeOptions {
  /** Failures (535) within `seconds` that block an address (the seed: 3 in 1200 s). */
  hitcount: number;
  seconds: number;
  /** New connections within `connSeconds` that block an address (the seed: 6 in 60 s). */
  connHitcount: number;
  connSeconds: number;
  whitelist: AddressSet;
  /** IPv6 clients count per prefix of this length (128: per address). */
  ipv6Prefix: number;
  /** Count 454 temporary failures (inside AUTH) as strikes too. */
  tempfailStrikes: boolean;
  /** Addresses the table tracks at most. */
  maxEntries: number;
  /**
   * Failures inferred inside TLS strike like read ones (when the server's 535 size is known and the
   * record's size says 535); false: `--no-inferred-strikes`.
   */
  inferredStrikes: boolean;
  /** Repeat offenders (strikes/escalation.ts): longer blocks for keys blocked before; null: off (--no-escalate). */
  escalation: EscalationOptions | null;
  /**
   * The base time an escalated block multiplies (watch: --block-seconds); null: the rule's window
   * (`seconds` for auth, `connSeconds` for conn).
   */
  blockSeconds: number | null;
}

export const defaultStrikeOptions = (): StrikeOptions => ({
  hitcount: 3,
  seconds: 1200,
  connHitcount: 6,
  connSeconds: 60,
  whitelist: new AddressSet(),
  ipv6Prefix: 64,
  tempfailStrikes: false,
  maxEntries: 262_144,
  inferredStrikes: true,
  escalation: defaultEscalationOptions(),
  blockSeconds: null,
});

export interface StrikeState {
  version: 1;
  saved_at: number;
  entries: { key: string; last_seen: number; auth: number[]; conn: number[]; block: BlockInterval | null }[];
  /** Repeat offenders: the start times of each key's earlier blocks within the lookback (absent in older files). */
  history?: EscalationHistoryItem[];
}

export interface StrikeStats {
  strikes: number;
  rejects: number;
  blocks: number;
  whitelistedEvents: number;
  /** Failures on connections the rules had already refused (they would not have happened). */
  failuresOnRejectedConnections: number;
  /** Entries dropped because nothing in them mattered any more. */
  expiredEntries: number;
  /** Entries dropped for room while they still held hits (least recently seen first). */
  evictedStriking: number;
  /** Blocked entries dropped for room: only when every other entry was blocked too. */
  evictedBlocked: number;
  /** Block intervals not kept in the summary list (the list is capped). */
  blocksNotListed: number;
  /** Inferred failures (or tempfails) that struck nothing: turned off, or not known by size. */
  inferredNotStruck: number;
  /** Strikes on an attempt known from the server's log (src/strikes/sensor-merge.ts), not a packet. */
  logStrikes: number;
  /** Repeat offenders: keys whose block history was dropped for room (least recently used first). */
  escalationHistoryDropped: number;
  /** New connections refused only because an escalated block stood (the hit counts alone would not refuse them). */
  escalatedRejects: number;
}

/**
 * What became of one AUTH outcome handed to the engine: it struck; it did not because it was inferred
 * inside TLS and may not strike (unknown size, --no-inferred-strikes: the log may still count it);
 * or it did not for any other reason (a success, a tempfail without --tempfail-strikes, whitelisted,
 * on a refused connection).
 */
export type StrikeResult = 'struck' | 'inferred_not_struck' | 'not_struck';

/** An AUTH outcome the server's log reported (the log sensor), as the strike engine needs it. */
export interface LoggedOutcome {
  /** When the engine counts it (watch: the wall-clock time the line was read). */
  ts: number;
  client: string;
  outcome: 'failure' | 'success' | 'tempfail';
  serverPort: number | null;
}

/** The most blocks kept in the summary list (more are counted in `blocksNotListed`). */
export const MAX_LISTED_BLOCKS = 100_000;
