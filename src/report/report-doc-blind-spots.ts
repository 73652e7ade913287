/**
 * The report document's blind spots: what neither side could see (blind-spots.ts fills it). Part
 * of the JSON schema (report-doc.ts, which re-exports these types).
 */

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
