/**
 * `watch --replay FILE…`: capture files in place of the live capture, through the same reader and
 * merge as `replay` (several files merged by time; `-` is stdin). As fast as they read, or with
 * `pace` at the recorded pace: each packet is held until as much wall time has passed since the
 * first packet as packet time has. Either way the packets' own timestamps stay the pipeline's
 * clock; pacing only decides when a packet is handed over. Documented in docs/watch.md.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { readCaptureFiles, type FileReport } from '../source/capture-files.js';
import { tsInRange, type PacketRecord } from '../source/packet-record.js';
import type { LiveStats } from '../live/live-source.js';

export interface ReplaySourceOptions {
  files: string[];
  /** Sleep between packets by their timestamps (--pace). */
  pace: boolean;
}

/** How a replay ended: the per-file reports (an `error` where a file could not be read to its end). */
export interface ReplayEnd {
  files: FileReport[];
  /** stop() ended it before the files did (SIGTERM/SIGINT). */
  interrupted: boolean;
  packets: number;
  /** Wall seconds from start() to the end. */
  wallSeconds: number;
}

/** Below this a packet that is due is handed over at once (a timer costs more than it keeps). */
const MIN_SLEEP_MS = 1;
const MAX_TIMER_MS = 2 ** 31 - 1;

export class ReplaySource {
  readonly backend = 'replay';
  delivered = 0;
  private readonly abort = new AbortController();
  private reading: Promise<ReplayEnd> | null = null;
  /** Packet time and monotonic wall time (ms) of the first packet with a usable time (--pace). */
  private base: { ts: number; wallMs: number } | null = null;

  constructor(readonly opts: ReplaySourceOptions) {}

  /**
   * Starts reading in the background; resolves at once. `ended` settles when the files are read to
   * their end or stop() was called; it rejects when `onPacket` threw.
   */
  start(onPacket: (rec: PacketRecord) => void): Promise<void> {
    const t0 = performance.now();
    const deliver = (rec: PacketRecord): void => {
      this.delivered++;
      onPacket(rec);
    };
    const each = this.opts.pace ? (rec: PacketRecord) => this.paced(rec, deliver) : deliver;
    this.reading = readCaptureFiles(this.opts.files, each, this.abort.signal).then((files) => ({
      files,
      interrupted: this.abort.signal.aborted,
      packets: this.delivered,
      wallSeconds: (performance.now() - t0) / 1000,
    }));
    return Promise.resolve();
  }

  /** Settles when the reading ends (see start). */
  get ended(): Promise<ReplayEnd> {
    if (!this.reading) throw new Error('replay not started');
    return this.reading;
  }

  /**
   * --pace: hands `rec` over when it is due. A packet whose time is out of range (pcapng offsets
   * can say anything; the pipeline skips it and counts it) or earlier than one before it is not
   * waited for, so a hostile timestamp cannot stall the replay for years.
   */
  private paced(rec: PacketRecord, deliver: (rec: PacketRecord) => void): Promise<void> | undefined {
    if (!tsInRange(rec.tsSec)) {
      deliver(rec);
      return undefined;
    }
    const ts = rec.tsSec + rec.tsNsec * 1e-9;
    if (this.base === null) this.base = { ts, wallMs: performance.now() };
    const waitMs = this.base.wallMs + (ts - this.base.ts) * 1000 - performance.now();
    if (waitMs < MIN_SLEEP_MS) {
      deliver(rec);
      return undefined;
    }
    // A timer takes at most 2^31-1 ms (longer ones fire at once): a gap of weeks sleeps in steps.
    return sleep(Math.min(Math.ceil(waitMs), MAX_TIMER_MS), undefined, { signal: this.abort.signal }).then(
      () => this.paced(rec, deliver),
      () => undefined, // aborted (stop): the packet is not handed over; the reader ends
    );
  }

  /** Ends the reading (a quiet stdin too) and waits for it. Idempotent. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.reading?.catch(() => undefined);
  }

  /** Packets read; nothing is ever dropped by a file. */
  stats(): Promise<LiveStats> {
    return Promise.resolve({ received: this.delivered, dropped: 0, ifDropped: 0, delivered: this.delivered });
  }
}
