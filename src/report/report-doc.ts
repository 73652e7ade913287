/**
 * The report document: what `smtpstrike report` computes once and renders as text, JSON (`--json`
 * prints it as is) and HTML (which embeds it), so the three cannot disagree. Types only;
 * `makeReport` (make-report.ts) fills it, the verdict rows come from rules.ts.
 *
 * This file and its parts are the JSON schema: every key `--json` writes is a property here or in
 * report-doc-verdicts.ts (verdict rows), report-doc-addresses.ts (addresses and places),
 * report-doc-tarpit.ts (TARPITTED) and report-doc-blind-spots.ts, with its meaning; their types
 * are re-exported from here, the one module to import the document's types from.
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
import type { Intervals } from './types.js';
import type { AddressJson, PlaceCount } from './report-doc-addresses.js';
import type { BlindSpots } from './report-doc-blind-spots.js';
import type { TarpitJson } from './report-doc-tarpit.js';
import type { Counts3, VerdictRow } from './report-doc-verdicts.js';

export type {
  AddressStat,
  AttackedRow,
  BlockJson,
  CompromisedAddress,
  CompromisedRow,
  Counts3,
  DistributedAddress,
  DistributedRow,
  SuspectAddress,
  SuspectRow,
  VerdictName,
  VerdictRow,
} from './report-doc-verdicts.js';
export type { AddressJson, GeoJson, PlaceCount, TimelineEvent } from './report-doc-addresses.js';
export type { TarpitAttackerJson, TarpitFileJson, TarpitJson, TarpitWireJson } from './report-doc-tarpit.js';
export type { AddressCountJson, BlindSpots, OneSided, OpaqueAddress, OpaqueSessions, OutcomeCounts, PeriodJson } from './report-doc-blind-spots.js';

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
