/**
 * The report's event model: what the wire saw (replay of captures, or a watch state file), what the
 * logs said, and the two joined into attempts — one per authentication attempt, however many
 * sources saw it.
 */
import type { Service } from '../accounts/types.js';
import type { BlockInterval } from '../strikes/strike-table.js';

export type AttemptOutcome = 'failure' | 'success' | 'tempfail';

/** An AUTH outcome seen on the wire (a 535/235/454 reply), or a failure stamp from a state file. */
export interface WireAuth {
  ts: number;
  client: string;
  outcome: AttemptOutcome;
  /** PLAIN/LOGIN username as sent; null when unknown (other mechanisms, state files). */
  user: string | null;
  mech: string | null;
  serverPort: number;
  /** Flow id of the session (-1 for state-file stamps). */
  flow: number;
  source: 'capture' | 'state';
}

/** An SMTP session the wire saw that matters to the join: one with AUTH replies, or one gone opaque. */
export interface WireSession {
  flow: number;
  client: string;
  clientPort: number;
  serverPort: number;
  start: number;
  /** Last moment known (flow end, or the end of the capture). */
  end: number;
  /** When the session went opaque (STARTTLS answered 220, or TLS from the first byte); null when it never did. */
  tlsTs: number | null;
  implicitTls: boolean;
  /** Time of the wire's 235 in this session, when one was seen. */
  successTs: number | null;
}

/** One log line (or two lines of two daemons about the same attempt, merged) carrying an AUTH outcome. */
export interface LogAuth {
  /** Seconds since the epoch, on the capture's clock (after zone/year placement). */
  ts: number;
  /** The timestamp as written, read as if it were UTC (before placement). */
  wall: number;
  /** Zone or year were not in the line. */
  guessed: boolean;
  service: Service;
  /** `tempfail`: a 454 logged (Postfix's `Connection lost to authentication server`). */
  outcome: AttemptOutcome;
  user: string | null;
  ip: string;
  method: string | null;
  reason: string | null;
  /** The file and line it was read from (the report's column store does not keep them: no verdict reads them). */
  file?: string;
  line?: number;
  /** Log lines this attempt stands for (a back end's line merged into the front end's). */
  lines: number;
  services: Service[];
}

/** How an attempt was seen. */
export type Seen = 'wire' | 'log' | 'both';

/** One authentication attempt after the join. */
export interface Attempt {
  ts: number;
  ip: string;
  user: string | null;
  outcome: AttemptOutcome;
  seen: Seen;
  /** A log-only attempt inside a session the wire saw go opaque after STARTTLS / TLS. */
  tls: boolean;
  mech: string | null;
  /** SMTP server port (wire), or null. */
  port: number | null;
  /** Log services that recorded it (empty: wire only). */
  services: Service[];
  /** Log lines behind it (several success lines of one session are one login). */
  logLines: number;
  /** From a watch state file (a failure stamp without username). */
  fromState: boolean;
}

/** A half-open set of time ranges, sorted and disjoint: [from, to] pairs. */
export type Intervals = [number, number][];

/** A block as the strike engine found it on the wire, or as watch's state file kept it. */
export interface BlockInfo extends BlockInterval {
  source: 'capture' | 'state';
}
