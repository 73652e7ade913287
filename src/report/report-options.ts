import type { Zone } from '../accounts/clock.js';
import type { Mode } from '../accounts/types.js';
import type { Whitelist } from '../accounts/whitelist.js';
import type { PipelineOptions } from '../pipeline.js';

/** What `smtpstrike report` reads, and the options it runs with (makeReport, make-report.ts). */

export interface ReportInputs {
  captures: string[];
  state: string | null;
  logs: string[];
  /** Watch's own logs (pino JSON lines), for the TARPITTED section. */
  watchLogs?: string[];
}

export interface ReportOptions {
  pipeline: PipelineOptions;
  mode: Mode;
  /** `--log-year`. */
  logYear?: number;
  /** `--log-tz`; undefined: estimated against the wire (or local when there is no wire). */
  logTz?: Zone;
  /** Zone of the report's days and times. */
  zone: Zone;
  tolerance: number;
  gap: number;
  minFailures: number;
  distributedMin: number;
  distributedWindow: number;
  limit: number;
  whitelist: Whitelist | null;
  geoLevel: number;
  geoDb: string[];
  warn: (msg: string) => void;
  /** Timeline events listed per address (beyond: counted). */
  eventsPerAddress?: number;
}
