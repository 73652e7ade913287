/**
 * The report document: what `smtpstrike report` computes once and renders as text, JSON and HTML
 * (so the three cannot disagree). Types only; `makeReport` in report.ts fills it.
 */
import type { FileCounters } from '../accounts/types.js';
import type { FileReport } from '../source/capture-files.js';
import type { JoinStats } from './join.js';
import type { AddressStat, Counts3, VerdictName, VerdictRow } from './rules.js';
import type { AttemptOutcome, Intervals, Seen } from './types.js';
import type { WireData } from './wire.js';

export interface GeoJson {
  label: string | null;
  country_code: string | null;
  country: string | null;
  city: string | null;
  asn: number | null;
  org: string | null;
  /** `Country, City - ISP` at the report's level. */
  place: string;
}

export interface TimelineEvent {
  ts: number;
  outcome: AttemptOutcome;
  user: string | null;
  seen: Seen;
  tls: boolean;
}

export interface AddressJson extends AddressStat {
  geo: GeoJson | null;
  events: TimelineEvent[];
  events_not_listed: number;
}

export interface PlaceCount {
  key: string;
  name: string;
  addresses: number;
  failures: number;
  successes: number;
  tempfails: number;
  compromised: number;
  attacked: number;
}

export interface PeriodJson {
  kind: 'wire_only' | 'logs_only';
  from: number;
  to: number;
  seconds: number;
  failures: number;
  successes: number;
  addresses: { ip: string; failures: number; successes: number }[];
}

export interface OneSided {
  failures: number;
  successes: number;
  addresses: { ip: string; failures: number; successes: number }[];
}

export interface BlindSpots {
  count: number;
  missing: string[];
  opaque_sessions: {
    total: number;
    not_kept: number;
    with_log_attempts: number;
    /** AUTH outcomes the capture's replay inferred inside them (src/tls): not joined with the logs. */
    inferred: { failures: number; successes: number; tempfails: number };
    /** Captured sessions that matter here: those with AUTH replies in the clear, and those gone opaque. */
    smtp_sessions: number;
    /** More than half of `smtp_sessions` went opaque: the wire saw little; the headline says so. */
    mostly_opaque: boolean;
    /** Log attempts that fell inside opaque sessions: where the logs filled the wire's gap. */
    log_attempts_inside: { failures: number; successes: number; tempfails: number };
    addresses: { ip: string; sessions: number; ports: number[]; log_failures: number; log_successes: number; log_tempfails: number; first_ts: number; last_ts: number }[];
  };
  periods: PeriodJson[];
  /** Attempts one side saw while the other was covering that time too. */
  wire_not_logged: OneSided;
  logged_not_on_wire: OneSided;
  unparseable: { file: string; lines: number }[];
  read_errors: { file: string; error: string }[];
  capture: { gaps: number; gap_bytes: number; midstream_starts: number; evicted_flows: number; auths_not_kept: number };
}

export interface ReportDoc {
  type: 'report';
  version: 1;
  generated_at: string;
  tz: string;
  inputs: {
    captures: FileReport[];
    state: WireData['state'];
    logs: FileCounters[];
  };
  clock: {
    log_tz: string;
    log_tz_offset_min: number;
    log_tz_source: 'option' | 'estimated' | 'local';
    log_year: number | null;
    log_year_source: 'option' | 'wire' | 'file time' | null;
    zoneless_lines: number;
    yearless_lines: number;
    estimate: { sample: number; matched: number; local_matched: number } | null;
    backend_lines_merged: number;
  };
  spans: { wire: { from: number; to: number; intervals: Intervals } | null; logs: { from: number; to: number; intervals: Intervals } | null };
  totals: {
    addresses: number;
    attempts: number;
    failures: Counts3;
    successes: Counts3;
    tempfails: Counts3;
    inside_tls: number;
    join: JoinStats;
  };
  counts: Record<VerdictName | 'BLIND_SPOTS', number>;
  verdicts: VerdictRow[];
  addresses: AddressJson[];
  countries: PlaceCount[];
  asns: PlaceCount[];
  blind_spots: BlindSpots;
  /**
   * Where the 535 size the captures' TLS inference used came from: `option`/`file` (given),
   * `log` (the one 535 text the logs showed), `banner` (each session's banner profile, else the
   * Postfix default); the distinct 535 texts seen in the logs (several: none used).
   */
  tls_replies: { failure_source: 'option' | 'file' | 'log' | 'banner'; log_failure_text: string | null; log_failure_texts: string[] };
  warnings: string[];
  options: Record<string, unknown>;
}
