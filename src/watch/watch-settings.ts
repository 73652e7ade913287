import { MAX_TIMEOUT_SEC } from '../blocker/types.js';
import type { CommandRunner } from '../blocker/runner.js';
import type { PipelineOptions } from '../pipeline.js';
import type { LinkSettings } from './block-links.js';
import type { MailService } from './services.js';
import type { ListenAddress } from '../metrics/listen-address.js';
import type { TarpitSettings } from '../tarpit/tarpit-supervisor.js';

export interface WatchSettings {
  pipeline: PipelineOptions;
  iface: string;
  captureBackend: 'tcpdump' | 'cap';
  bufferSize: number;
  /** tcpdump backend: ms to wait after a small read (live-source's `coalesceMs`; 0 = off; default 1). */
  readCoalesce?: number;
  blocker: 'nft' | 'ipset' | 'iptables';
  dryRun: boolean;
  /** Kernel timeout of a block; the strike window by default. */
  blockSeconds: number;
  killEstablished: boolean;
  stateFile: string;
  statsInterval: number;
  /** Run capture and firewall commands inside this network namespace (tests). */
  netns?: string | undefined;
  /** Mail logs followed like `tail -F` (--log, logs:). */
  logs?: string[];
  /** Follow journald too (--journal, journal:). */
  journal?: boolean;
  /** Whose log lines count and whose ports a block closes (--services; default smtp). */
  services?: MailService[];
  /**
   * --replay: these capture files instead of the live capture (`-`: stdin), merged by time, as
   * fast as they read or at the recorded pace. The packets' time is the clock: the state file is
   * restored and written at packet time; the log sensor is off.
   */
  replay?: { files: string[]; pace: boolean } | undefined;
  /** Serve Prometheus metrics on GET /metrics here (--metrics, metrics:); none when absent. */
  metrics?: ListenAddress | undefined;
  /** Redis fleet, CrowdSec, --on-block/--on-unblock (block-links.ts). */
  links?: LinkSettings | undefined;
  /** --tarpit: the decoy SMTP server, in an unprivileged child (src/tarpit, docs/tarpit.md). */
  tarpit?: TarpitSettings | undefined;
}

/** Whole seconds within what every kernel backend takes. */
export const kernelTimeout = (s: number): number => Math.min(MAX_TIMEOUT_SEC, Math.max(1, Math.ceil(s)));

/** How often the state file is rewritten when something changed, and idle flows are swept. */
export const TICK_MS = 1000;
/** How often the host's own addresses are re-read (DHCP, SLAAC and admins change them); also on SIGHUP. */
export const OWN_ADDRESS_REFRESH_MS = 60_000;
/** Keys whose skipped block was logged, at most (then the set starts over): one line per key, not per SYN. */
export const MAX_SKIP_WARNINGS = 4096;

export interface WatchDeps {
  /** Runs `ss` and `ip` (default: a SpawnRunner in --netns). */
  runner?: CommandRunner;
  /** The journalctl program and arguments before ours (tests: a fake one, or `--file X`). */
  journalctl?: { program: string; extraArgs?: string[] };
}
