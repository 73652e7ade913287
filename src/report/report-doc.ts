/**
 * The report document: what `smtpstrike report` computes once and renders as text, JSON (`--json`
 * prints it as is) and HTML (which embeds it), so the three cannot disagree. Types only;
 * `makeReport` (make-report.ts) fills it, the verdict rows come from rules.ts.
 *
 * This file is the JSON schema: every key `--json` writes is a property here, with its meaning.
 * test/report-schema.test.ts checks the JSON of the fixtures against these types, key by key,
 * and that each key is documented. Times (`*_ts`, `from`, `to`, `until`, `saved_at`) are seconds
 * since the epoch (fractional on the wire); `Counts3` splits attempts by how they were seen.
 *
 * Versioning: `version` is REPORT_SCHEMA_VERSION. A change that removes, renames or retypes a key
 * raises it; adding a key does not (readers ignore keys they do not know).
 */
import type { FileCounters } from '../accounts/types.js';
import type { FileReport } from '../source/capture-files.js';
import type { JoinStats } from './join.js';
import type { AttemptOutcome, Intervals, Seen } from './types.js';

/** The `version` of the report JSON (see above). */
export const REPORT_SCHEMA_VERSION = 1;

// ---------------------------------------------------------------- the document

export interface ReportDoc {
  /** Always `report`. */
  type: 'report';
  /** The schema version, REPORT_SCHEMA_VERSION. */
  version: typeof REPORT_SCHEMA_VERSION;
  /** When the report was made (ISO 8601, UTC). */
  generated_at: string;
  /** Zone of the report's days and times (`--tz`), e.g. `local (+01:00)` or `+00:00`. */
  tz: string;
  /** What was read. */
  inputs: ReportInputsJson;
  /** How log times were placed on the capture's clock. */
  clock: ClockJson;
  /** The time each side covered: first to last moment, and the intervals without long silences. */
  spans: {
    /** The captures and state file; null without any. */
    wire: SpanJson | null;
    /** The logs; null without any log line with a time. */
    logs: SpanJson | null;
  };
  /** Every attempt after the join, counted. */
  totals: TotalsJson;
  /** Verdict rows per verdict, and the number of blind spots. */
  counts: VerdictCounts;
  /** The verdict rows, most urgent verdict first (VERDICT_ORDER), each verdict in its own order. */
  verdicts: VerdictRow[];
  /** Every address with an attempt, those with the most urgent verdicts first. */
  addresses: AddressJson[];
  /** Per country (empty without GeoIP). */
  countries: PlaceCount[];
  /** Per autonomous system (empty without GeoIP). */
  asns: PlaceCount[];
  /** What neither side could see. */
  blind_spots: BlindSpots;
  /**
   * TARPITTED: what watch's tarpit logged, per attacker (tarpit.ts). Present only when a watch
   * log was read or a log held tarpit events; absent otherwise, so reports without a tarpit are
   * unchanged.
   */
  tarpit?: TarpitJson;
  /**
   * Where the 535 size the captures' TLS inference used came from: `option`/`file` (given),
   * `log` (the one 535 text the logs showed), `banner` (each session's banner profile, else the
   * Postfix default); the distinct 535 texts seen in the logs (several: none used).
   */
  tls_replies: TlsRepliesJson;
  /** Warnings, as printed on stderr. */
  warnings: string[];
  /** The options the report ran with. */
  options: OptionsJson;
}

export interface ReportInputsJson {
  /** Per capture file: format, packets read, and a read error if any. */
  captures: FileReport[];
  /** The watch state file read (`--state`), or null. */
  state: StateFileJson | null;
  /** Per log file: lines read and what they held. */
  logs: FileCounters[];
}

export interface StateFileJson {
  /** Its path. */
  file: string;
  /** When watch saved it. */
  saved_at: number;
  /** Addresses (or IPv6 prefixes) it holds. */
  entries: number;
  /** Failure stamps still inside the strike window, all entries together. */
  failure_stamps: number;
  /** Blocks it holds. */
  blocks: number;
}

export interface ClockJson {
  /** Zone log times without one were read in. */
  log_tz: string;
  /** Its offset from UTC in minutes at the report's time. */
  log_tz_offset_min: number;
  /** `option` (`--log-tz`), `estimated` (against the wire), `local` (this machine's zone). */
  log_tz_source: 'option' | 'estimated' | 'local';
  /** Year of log times without one, or null when every line had one or it came from each file's time. */
  log_year: number | null;
  /** `option` (`--log-year`), `wire` (the capture's), `file time` (each file's modification time), or null (not needed). */
  log_year_source: 'option' | 'wire' | 'file time' | null;
  /** Log lines whose time carried no zone. */
  zoneless_lines: number;
  /** Log lines whose time carried no year. */
  yearless_lines: number;
  /** The zone estimate: log attempts tried, matched to the wire at the estimate, and at the local zone; null when not estimated. */
  estimate: {
    /** Log attempts the estimate tried. */
    sample: number;
    /** Of those, matched to a wire attempt at the estimated offset. */
    matched: number;
    /** Of those, matched at the local zone's offset. */
    local_matched: number;
  } | null;
  /** A back end's log line about the same attempt as a front end's, merged into it (Dovecot behind Postfix). */
  backend_lines_merged: number;
}

export interface SpanJson {
  /** First moment covered. */
  from: number;
  /** Last moment covered. */
  to: number;
  /** The covered intervals, [from, to] pairs, sorted. */
  intervals: Intervals;
}

export interface TotalsJson {
  /** Distinct addresses with an attempt. */
  addresses: number;
  /** Attempts after the join (an attempt seen on the wire and in a log is one). */
  attempts: number;
  /** Failed attempts (535, and the logs' failures). */
  failures: Counts3;
  /** Logins (235, and the logs' successes). */
  successes: Counts3;
  /** Temporary failures (454). */
  tempfails: Counts3;
  /** Log-only attempts inside sessions the wire saw go opaque. */
  inside_tls: number;
  /** The join's own counts (attempts seen on the wire only, in the logs only, on both, inside TLS). */
  join: JoinStats;
}

export interface VerdictCounts {
  /** COMPROMISED rows. */
  COMPROMISED: number;
  /** SUSPECT rows. */
  SUSPECT: number;
  /** DISTRIBUTED rows. */
  DISTRIBUTED: number;
  /** ATTACKED rows. */
  ATTACKED: number;
  /** Blind spots (`blind_spots.count`). */
  BLIND_SPOTS: number;
}

export interface TlsRepliesJson {
  /** Where the 535 reply size came from (see ReportDoc.tls_replies). */
  failure_source: 'option' | 'file' | 'log' | 'banner';
  /** The one 535 text the logs showed, when that was used; else null. */
  log_failure_text: string | null;
  /** The distinct 535 texts the logs showed (at most 8). */
  log_failure_texts: string[];
}

export interface OptionsJson {
  /** Capture files given. */
  captures: string[];
  /** The watch state file given, or null. */
  state: string | null;
  /** Log files given. */
  logs: string[];
  /** `--mode`: which log lines count. */
  mode: string;
  /** `--log-year`, or null. */
  log_year: number | null;
  /** `--log-tz`, or null (estimated). */
  log_tz: string | null;
  /** `--tz`. */
  tz: string;
  /** `--tolerance`: seconds between a wire and a log attempt that are one. */
  tolerance: number;
  /** `--gap`: seconds of silence that end a covered interval. */
  gap: number;
  /** `--min-failures` before a login that make it COMPROMISED. */
  min_failures: number;
  /** `--distributed-min` addresses. */
  distributed_min: number;
  /** `--distributed-window` seconds. */
  distributed_window: number;
  /** `--limit` (the accounts rule). */
  limit: number;
  /** GeoIP level used (0: none). */
  geoip: number;
  /** SMTP server ports. */
  ports: number[];
  /** Strike rule: failures within `seconds` that block. */
  hitcount: number;
  /** Strike rule: the window, seconds. */
  seconds: number;
  /** Whether 454s strike like 535s. */
  tempfail_strikes: boolean;
}

// ---------------------------------------------------------------- verdict rows (rules.ts)

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

// ---------------------------------------------------------------- addresses and places

export interface GeoJson {
  /** A label instead of a place (`Private network`, …), or null. */
  label: string | null;
  /** ISO 3166-1 country code, or null. */
  country_code: string | null;
  /** Country name, or null. */
  country: string | null;
  /** City, or null. */
  city: string | null;
  /** AS number, or null. */
  asn: number | null;
  /** The AS's organisation (ISP), or null. */
  org: string | null;
  /** `Country, City - ISP` at the report's level. */
  place: string;
}

/** One attempt on an address's timeline. */
export interface TimelineEvent {
  /** When. */
  ts: number;
  /** `failure`, `success` or `tempfail`. */
  outcome: AttemptOutcome;
  /** The username, or null when unknown. */
  user: string | null;
  /** How it was seen. */
  seen: Seen;
  /** Logged inside a session the wire saw go opaque. */
  tls: boolean;
}

/** An address in `addresses`: its statistics, place and timeline. */
export interface AddressJson extends AddressStat {
  /** Its place (GeoIP), or null without GeoIP. */
  geo: GeoJson | null;
  /** Its attempts in time order, at most 500 (and 200,000 over all addresses, the most urgent first: MAX_LISTED_EVENTS). */
  events: TimelineEvent[];
  /** Attempts beyond those listed in `events`. */
  events_not_listed: number;
}

/** Counts for one country or autonomous system. */
export interface PlaceCount {
  /** Country code, `AS<n>`, `label:<label>` or `unknown`. */
  key: string;
  /** Its name as shown. */
  name: string;
  /** Addresses there. */
  addresses: number;
  /** Their failed attempts. */
  failures: number;
  /** Their logins. */
  successes: number;
  /** Their temporary failures. */
  tempfails: number;
  /** Of the addresses, those in a COMPROMISED row. */
  compromised: number;
  /** Of the addresses, those ATTACKED. */
  attacked: number;
}

// ---------------------------------------------------------------- the tarpit (tarpit.ts)

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

// ---------------------------------------------------------------- blind spots

/** A time only one side covered, and the attempts it saw then. */
export interface PeriodJson {
  /** `wire_only` (captured, not logged) or `logs_only` (logged, not captured). */
  kind: 'wire_only' | 'logs_only';
  /** Start. */
  from: number;
  /** End. */
  to: number;
  /** Its length, seconds. */
  seconds: number;
  /** Failed attempts seen in it. */
  failures: number;
  /** Logins seen in it. */
  successes: number;
  /** Per address. */
  addresses: AddressCountJson[];
}

/** An address's failures and logins in a blind spot. */
export interface AddressCountJson {
  /** The address. */
  ip: string;
  /** Its failed attempts. */
  failures: number;
  /** Its logins. */
  successes: number;
}

/** Attempts one side saw while the other was covering that time too. */
export interface OneSided {
  /** Failed attempts. */
  failures: number;
  /** Logins. */
  successes: number;
  /** Per address. */
  addresses: AddressCountJson[];
}

/** Attempt outcomes counted. */
export interface OutcomeCounts {
  /** Failed attempts. */
  failures: number;
  /** Logins. */
  successes: number;
  /** Temporary failures. */
  tempfails: number;
}

/** SMTP sessions that went opaque after STARTTLS, or were TLS from the first byte. */
export interface OpaqueSessions {
  /** Opaque sessions. */
  total: number;
  /** Of those, not kept (over the capture's limits): counted only. */
  not_kept: number;
  /** Addresses with log attempts inside them. */
  with_log_attempts: number;
  /** AUTH outcomes the capture's replay inferred inside them (src/tls): not joined with the logs. */
  inferred: OutcomeCounts;
  /** Captured sessions that matter here: those with AUTH replies in the clear, and those gone opaque. */
  smtp_sessions: number;
  /** More than half of `smtp_sessions` went opaque: the wire saw little; the headline says so. */
  mostly_opaque: boolean;
  /** Log attempts that fell inside opaque sessions: where the logs filled the wire's gap. */
  log_attempts_inside: OutcomeCounts;
  /** Per address. */
  addresses: OpaqueAddress[];
}

/** An address's opaque sessions, and what the logs said happened inside them. */
export interface OpaqueAddress {
  /** The address. */
  ip: string;
  /** Its opaque sessions. */
  sessions: number;
  /** Their server ports. */
  ports: number[];
  /** Failures the logs show inside them. */
  log_failures: number;
  /** Logins the logs show inside them. */
  log_successes: number;
  /** Temporary failures the logs show inside them. */
  log_tempfails: number;
  /** First session's start. */
  first_ts: number;
  /** Last session's end. */
  last_ts: number;
}

export interface BlindSpots {
  /** Blind spots found (the headline's number). */
  count: number;
  /** Sides missing entirely, in words (no capture, no log of a service, …). */
  missing: string[];
  /** Sessions the wire could not read. */
  opaque_sessions: OpaqueSessions;
  /** Times one side covered and the other did not. */
  periods: PeriodJson[];
  /** On the wire, in no log line, while the logs were covering. */
  wire_not_logged: OneSided;
  /** In the logs (SMTP), not on the wire, while it was captured. */
  logged_not_on_wire: OneSided;
  /** Log files with lines that could not be parsed. */
  unparseable: {
    /** The file. */
    file: string;
    /** Lines that could not be parsed. */
    lines: number;
  }[];
  /** Files that could not be read to their end. */
  read_errors: {
    /** The file. */
    file: string;
    /** Why. */
    error: string;
  }[];
  /** What the capture lost. */
  capture: {
    /** Reassembly gaps (bytes never captured). */
    gaps: number;
    /** Bytes in those gaps. */
    gap_bytes: number;
    /** Flows whose start was not captured. */
    midstream_starts: number;
    /** Flows dropped over the flow limit. */
    evicted_flows: number;
    /** AUTH outcomes not kept over the limits. */
    auths_not_kept: number;
  };
}
