/**
 * The report document's verdict rows (rules.ts makes them) and the per-address statistics they
 * are made from. Part of the JSON schema (report-doc.ts, which re-exports these types).
 */
import type { Seen } from './types.js';

export type VerdictName = 'COMPROMISED' | 'SUSPECT' | 'DISTRIBUTED' | 'ATTACKED';

/** Attempts, and how they were seen: on the wire only, in the logs only, or both (one attempt either way). */
export interface Counts3 {
  /** All of them. */
  all: number;
  /** Seen on the wire only. */
  wire_only: number;
  /** Seen in the logs only. */
  log_only: number;
  /** Seen on the wire and in a log. */
  both: number;
}

/** A block the strike rules applied (on the capture), or one a watch state file kept. */
export interface BlockJson {
  /** The address, or IPv6 prefix, blocked. */
  key: string;
  /** `auth` (hitcount failures) or `conn` (too many new connections). */
  rule: 'auth' | 'conn';
  /** When it started. */
  from: number;
  /** When it ends (or ended). */
  until: number;
  /** Connections refused while it stood. */
  rejects: number;
  /**
   * Repeat offenders: earlier blocks of the key within the lookback when it began (0: a first block;
   * each level multiplies its length, strikes/escalation.ts). A state file without it: 0.
   */
  level: number;
  /** `capture` or `state` (a watch state file). */
  source: 'capture' | 'state';
}

/** One address: its attempts counted, its blocks and its verdicts. */
export interface AddressStat {
  /** The client address. */
  ip: string;
  /** Failed attempts. */
  failures: Counts3;
  /** Logins. */
  successes: Counts3;
  /** Temporary failures (454). */
  tempfails: Counts3;
  /** Log-only attempts inside sessions the wire saw go opaque. */
  inside_tls: number;
  /** Usernames tried, sorted. */
  users: string[];
  /** First attempt. */
  first_ts: number;
  /** Last attempt. */
  last_ts: number;
  /** Blocks that applied to it, oldest first. */
  blocks: BlockJson[];
  /** Its failures (wire and log together) reach the strike threshold. */
  would_block: boolean;
  /** The verdicts of the rows it is in, most urgent first. */
  verdicts: VerdictName[];
  /** Why the accounts whitelist covers it (`address`, `country CZ`, `AS5610`, `ISP "…"`), or null. */
  whitelisted: string | null;
}

/** One address of a COMPROMISED row: its failures, then its login. */
export interface CompromisedAddress {
  /** The address. */
  ip: string;
  /** Failed attempts from it before the login. */
  failures_before: number;
  /** Of those, seen on the wire only. */
  failures_before_wire_only: number;
  /** Of those, seen in the logs only. */
  failures_before_log_only: number;
  /** Of those, seen on both. */
  failures_before_both: number;
  /** Of those, failures for the account that then logged in (or with no username known). */
  failures_same_user: number;
  /** Usernames its failures tried, sorted. */
  users_tried: string[];
  /** Its first failure. */
  first_failure_ts: number;
  /** The login. */
  success_ts: number;
  /** How the login was seen. */
  success_seen: Seen;
  /** The login was logged inside a session the wire saw go opaque. */
  success_inside_tls: boolean;
  /** Logins from it for the row's account (or address) after the failures. */
  successes: number;
  /** A block applied to it at some time. */
  blocked: boolean;
}

/** COMPROMISED: failed attempts, then a login; per account when the login named one, else per address. */
export interface CompromisedRow {
  /** `COMPROMISED`. */
  verdict: 'COMPROMISED';
  /** `account` (the login named one) or `address`. */
  subject: 'account' | 'address';
  /** The account, or null (subject `address`). */
  account: string | null;
  /** The address, or null (subject `account`). */
  address: string | null;
  /** Failed attempts before the logins, all addresses of the row together. */
  failures: number;
  /** Logins, all addresses together. */
  successes: number;
  /** Per address, most failures first. */
  addresses: CompromisedAddress[];
  /** First failure. */
  first_ts: number;
  /** Last login. */
  last_ts: number;
}

/** One address of a SUSPECT row: its logins. */
export interface SuspectAddress {
  /** The address. */
  ip: string;
  /** Logins from it that day. */
  successes: number;
  /** How they were seen. */
  seen: Seen;
  /** Of them, logged inside sessions the wire saw go opaque. */
  inside_tls: number;
  /** First login. */
  first_ts: number;
  /** Last login. */
  last_ts: number;
  /** Why the whitelist covers it, or null. */
  whitelisted: string | null;
}

/** SUSPECT: the accounts rules flag an account's logins on one day. */
export interface SuspectRow {
  /** `SUSPECT`. */
  verdict: 'SUSPECT';
  /** Always `account`. */
  subject: 'account';
  /** The account, or null (logins with no username known, flagged by the `unlisted` rule). */
  account: string | null;
  /** The day (YYYY-MM-DD, in the report's zone). */
  day: string;
  /** `addresses` (the --limit rule) and/or `unlisted` (a login from outside the whitelist). */
  rules: ('addresses' | 'unlisted')[];
  /** Logins, all addresses listed together. */
  successes: number;
  /** The addresses the limit rule shows, most logins first. */
  addresses: SuspectAddress[];
  /** First login listed. */
  first_ts: number;
  /** Last login listed. */
  last_ts: number;
}

/** One address of a DISTRIBUTED row. */
export interface DistributedAddress {
  /** The address. */
  ip: string;
  /** Its failures for the account inside the window. */
  failures: number;
}

/** DISTRIBUTED: one account failing from many addresses, each under the strike threshold. */
export interface DistributedRow {
  /** `DISTRIBUTED`. */
  verdict: 'DISTRIBUTED';
  /** Always `account`. */
  subject: 'account';
  /** The account. */
  account: string;
  /** Failures for the account from the addresses listed, inside the window. */
  failures: number;
  /** The addresses under the threshold inside the window, sorted. */
  addresses: DistributedAddress[];
  /** Addresses that also failed for this account but crossed the strike threshold (counted per address already). */
  over_threshold: string[];
  /** First failure in the window. */
  first_ts: number;
  /** Last failure in the window. */
  last_ts: number;
}

/** ATTACKED: an address with failures and no login. */
export interface AttackedRow {
  /** `ATTACKED`. */
  verdict: 'ATTACKED';
  /** Always `address`. */
  subject: 'address';
  /** The address. */
  address: string;
  /** Its failed attempts. */
  failures: Counts3;
  /** Its temporary failures (454). */
  tempfails: number;
  /** Usernames tried, sorted. */
  users: string[];
  /** Blocks that applied to it. */
  blocks: BlockJson[];
  /** Its failures (wire and log together) reach the strike threshold. */
  would_block: boolean;
  /** Connections refused by its blocks. */
  rejects: number;
  /** The DISTRIBUTED accounts it took part in, sorted. */
  distributed: string[];
  /** First attempt. */
  first_ts: number;
  /** Last attempt. */
  last_ts: number;
}

export type VerdictRow = CompromisedRow | SuspectRow | DistributedRow | AttackedRow;
