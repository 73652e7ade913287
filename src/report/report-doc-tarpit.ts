/**
 * The report document's TARPITTED section (tarpit.ts fills it). Part of the JSON schema
 * (report-doc.ts, which re-exports these types).
 */
import type { VerdictName } from './report-doc-verdicts.js';

/** TARPITTED: the time watch's tarpit held attackers, from its `tarpit_session` / `tarpit_refused` log events. */
export interface TarpitJson {
  /** Attackers listed in `attackers`. */
  attackers_count: number;
  /** Tarpit sessions (finished connections) read. */
  sessions: number;
  /** Time they held, all sessions together, seconds. */
  held_s: number;
  /** The same in hours (two decimals): the time wasted. */
  hours: number;
  /** AUTH attempts the tarpit answered, all sessions together. */
  auth_attempts: number;
  /** Of those, answered with a decoy 235 (not a login: no account was involved). */
  decoy_successes: number;
  /** Connections the tarpit's caps refused. */
  refused: {
    /** By the cap on all tarpit connections. */
    total: number;
    /** By the cap per address. */
    per_address: number;
  };
  /** Sessions of attackers beyond the listed maximum (100,000): counted in the totals only. */
  sessions_not_listed: number;
  /** Their time held, seconds. */
  held_s_not_listed: number;
  /**
   * Wire sessions the tarpit served (same client, client port and time), taken out of the join
   * with their AUTH outcomes: the decoy's 535s and 235s are not the mail server's.
   */
  wire_excluded: TarpitWireJson;
  /** Per file that held watch log lines: what its lines were. */
  files: TarpitFileJson[];
  /** Per attacker address, the most time held first. */
  attackers: TarpitAttackerJson[];
}

/** Wire sessions and AUTH outcomes that were the tarpit's. */
export interface TarpitWireJson {
  /** Sessions. */
  sessions: number;
  /** Their 535s. */
  failures: number;
  /** Their 235s (decoys). */
  successes: number;
  /** Their 454s. */
  tempfails: number;
}

/** A file with watch log lines: a watch log, or a log with pino lines in it. */
export interface TarpitFileJson {
  /** Its path (`-`: standard input). */
  file: string;
  /** `none`, `gzip`, `bzip2`, `xz` or `zstd`. */
  compression: string;
  /** Lines read (a watch log: all of them; another log: its pino lines). */
  lines: number;
  /** Pino lines with an `event`. */
  events: number;
  /** `tarpit_session` events read. */
  tarpit_sessions: number;
  /** `tarpit_refused` events read. */
  tarpit_refused: number;
  /** Other pino lines (other events, lines without one). */
  other_lines: number;
  /** Tarpit events of the wrong shape (no address, no time held, …): skipped. */
  malformed: number;
  /** Lines that are not pino JSON: skipped. */
  garbage: number;
  /** Why it could not be read to its end, or null. */
  error: string | null;
}

/** One attacker the tarpit held. */
export interface TarpitAttackerJson {
  /** The address. */
  ip: string;
  /** Tarpit sessions. */
  sessions: number;
  /** Time held, all its sessions together, seconds. */
  held_s: number;
  /** Its longest session, seconds. */
  longest_s: number;
  /** AUTH attempts. */
  auth_attempts: number;
  /** Decoy 235s it was given. */
  decoy_successes: number;
  /** Distinct usernames tried, the first 16 in the order first tried, each cut at 64 characters (control characters escaped by watch). */
  usernames: string[];
  /** Usernames tried beyond those listed (not kept here or by the tarpit; may repeat one): the list is complete when 0. */
  usernames_more: number;
  /** Connections of it the tarpit's caps refused. */
  refused: number;
  /** First session's start (or refusal), or null when no line said when. */
  first_ts: number | null;
  /** Last session's end (or refusal), or null. */
  last_ts: number | null;
  /** Its verdicts among COMPROMISED and SUSPECT (an account broken into or flagged from an address now tarpitted). */
  verdicts: VerdictName[];
}
