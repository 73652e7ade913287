import { blockToAlert, isValidBlock, SCENARIO_AUTH, SCENARIO_CONN, type CrowdsecBlock } from './crowdsec-alert.js';
import { LapiError, smtpstrikeVersion, type LapiHttp } from './crowdsec-http.js';
import { silentLog, type CrowdsecLog } from './crowdsec-log.js';
import { LapiLogin, type LapiCredentials } from './crowdsec-login.js';
import type { OwnPushes } from './crowdsec-own-pushes.js';
import { BlockQueue } from './crowdsec-queue.js';

/**
 * smtpstrike as a CrowdSec machine: every block becomes one alert with its ban decision, queued
 * (bounded, persisted) and sent in batches of up to `batchSize` alerts per POST /v1/alerts. push()
 * never throws and never waits: the packet path hands a block over and goes on. While the LAPI is
 * down the queue holds the blocks and the sender retries with exponential backoff (jittered, capped);
 * a batch the LAPI refuses as malformed (400/413/422) is split, and only the alert it refuses alone
 * is dropped (counted), so one bad alert never blocks the queue.
 */

export interface PusherOptions {
  http: LapiHttp;
  credentials: LapiCredentials;
  /** The queue file `crowdsec-queue.json` lives here (watch: the state file's directory). */
  stateDir: string;
  /** Blocks held while the LAPI is down (default 10000); past it the oldest are dropped, counted. */
  maxQueue?: number;
  /** Alerts per POST (default 50). */
  batchSize?: number;
  /** Wait this long after a block before sending, to batch one tick's blocks (default 100 ms). */
  flushDelayMs?: number;
  /** Backoff after failures: base·2^(n−1), capped, times a random 0.5–1 (defaults 1 s, 60 s). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Save the queue at most this often while it changes (default 1000 ms). */
  saveEveryMs?: number;
  scenarioVersion?: string;
  /** Push alerts as simulated (watch --dry-run): listed in CrowdSec, given to no bouncer. */
  simulated?: boolean;
  /** Told what we pushed, so our own bouncer skips it. */
  ownPushes?: OwnPushes;
  log?: CrowdsecLog;
  now?: () => number;
  random?: () => number;
}

export interface PusherStats {
  /** Alerts the LAPI accepted. */
  pushed: number;
  /** POSTs that succeeded. */
  batches: number;
  /** Failed attempts (LAPI down, auth refused, 5xx), and how many in a row now. */
  failures: number;
  consecutiveFailures: number;
  /** Alerts the LAPI refused alone as malformed: dropped. */
  rejected: number;
  /** Blocks handed to push() that were not valid blocks (never queued). */
  invalid: number;
  /** Queue file saves that failed (disk full…): the queue stays in memory. */
  saveErrors: number;
  lastError: string | null;
  /** Last accepted POST (ms), 0 before. */
  lastOkAt: number;
  /** When the next attempt is due after a failure (ms), 0 when not backing off. */
  retryAt: number;
  /** The wait chosen after the last failure (ms). */
  lastBackoffMs: number;
}

export class CrowdsecPusher {
  readonly stats: PusherStats = {
    pushed: 0,
    batches: 0,
    failures: 0,
    consecutiveFailures: 0,
    rejected: 0,
    invalid: 0,
    saveErrors: 0,
    lastError: null,
    lastOkAt: 0,
    retryAt: 0,
    lastBackoffMs: 0,
  };
  readonly queue: BlockQueue;
  readonly login: LapiLogin;
  private readonly o: Required<Pick<PusherOptions, 'batchSize' | 'flushDelayMs' | 'backoffBaseMs' | 'backoffMaxMs' | 'saveEveryMs' | 'scenarioVersion'>>;
  private readonly log: CrowdsecLog;
  private readonly now: () => number;
  private readonly random: () => number;
  private timer: NodeJS.Timeout | null = null;
  private saveTimer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private started = false;
  private stopped = false;
  /** Alerts still to send one by one after a refused batch (then back to batchSize). */
  private singles = 0;

  constructor(private readonly opts: PusherOptions) {
    this.o = {
      batchSize: opts.batchSize ?? 50,
      flushDelayMs: opts.flushDelayMs ?? 100,
      backoffBaseMs: opts.backoffBaseMs ?? 1000,
      backoffMaxMs: opts.backoffMaxMs ?? 60_000,
      saveEveryMs: opts.saveEveryMs ?? 1000,
      scenarioVersion: opts.scenarioVersion ?? smtpstrikeVersion(),
    };
    this.log = opts.log ?? silentLog;
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.queue = new BlockQueue(opts.stateDir, opts.maxQueue ?? 10_000);
    this.login = new LapiLogin(opts.http, { scenarios: [SCENARIO_AUTH, SCENARIO_CONN], ...opts.credentials }, undefined, this.now);
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Loads the queue a previous run left and sends it. Throws only on an unreadable queue file. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.queue.load();
    if (this.queue.length > 0) {
      for (const b of this.queue.peek(this.queue.length)) this.opts.ownPushes?.add(b.key, b.until * 1000);
      this.log.info({ queued: this.queue.length, file: this.queue.path }, 'crowdsec: blocks left queued by the last run');
      this.schedule(0);
    }
  }

  /** Queues one block (call start() first); the sender picks it up after flushDelayMs, or at the next retry. */
  push(b: CrowdsecBlock): void {
    if (this.stopped) return;
    if (!isValidBlock(b)) {
      this.stats.invalid++;
      return;
    }
    this.queue.push({ ...b }); // our own object: the queue acknowledges by identity
    // Ours from now on, not from when the LAPI answers: a poll answered in between would otherwise
    // hand our own ban back to us.
    this.opts.ownPushes?.add(b.key, b.until * 1000);
    this.scheduleSave();
    if (this.stats.retryAt === 0) this.schedule(this.o.flushDelayMs);
  }

  /** Sends what is queued now (a retry due later is brought forward); resolves when that try ends. */
  async flush(): Promise<void> {
    if (this.running) await this.running;
    this.clearTimer();
    await this.run();
  }

  /** Stops sending and saves the queue; an attempt in flight is awaited. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    if (this.running) await this.running;
    this.save();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(delayMs: number): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run();
    }, delayMs);
    this.timer.unref();
  }

  private scheduleSave(): void {
    if (this.saveTimer || this.stopped) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      this.save();
    }, this.o.saveEveryMs);
    this.saveTimer.unref();
  }

  private save(): void {
    // Before start() the file from the last run is not loaded yet: writing now would erase it.
    if (!this.started) return;
    try {
      this.queue.save();
    } catch (err) {
      this.stats.saveErrors++;
      this.log.warn({ err: (err as Error).message, file: this.queue.path }, 'crowdsec: could not save the queue (kept in memory)');
    }
  }

  private async run(): Promise<void> {
    if (this.running) return; // the running pump takes what was queued meanwhile
    this.running = this.pump().finally(() => {
      this.running = null;
    });
    await this.running;
    if (this.queue.length > 0 && this.stats.retryAt === 0) this.schedule(this.o.flushDelayMs);
  }

  private async pump(): Promise<void> {
    this.queue.dropExpired(this.now() / 1000);
    while (this.queue.length > 0 && !this.stopped) {
      const batch = this.queue.peek(this.singles > 0 ? 1 : this.o.batchSize);
      try {
        await this.send(batch);
      } catch (err) {
        const e = err instanceof LapiError ? err : new LapiError(0, (err as Error).message);
        if (e.status === 400 || e.status === 413 || e.status === 422) {
          if (batch.length > 1) {
            this.singles = batch.length; // find the one it refuses, sending one at a time
            continue;
          }
          this.queue.ack(batch);
          this.singles = Math.max(0, this.singles - 1);
          this.stats.rejected++;
          this.log.warn({ key: batch[0]!.key, err: e.message }, 'crowdsec: the LAPI refused an alert; dropped');
          this.scheduleSave();
          continue;
        }
        this.failed(e);
        return;
      }
      this.queue.ack(batch);
      if (this.singles > 0) this.singles--;
      this.scheduleSave();
      this.stats.pushed += batch.length;
      this.stats.batches++;
      this.stats.lastOkAt = this.now();
      if (this.stats.consecutiveFailures > 0) {
        this.log.info({ after_failures: this.stats.consecutiveFailures, queued: this.queue.length }, 'crowdsec: LAPI reachable again, sending the queue');
      }
      this.stats.consecutiveFailures = 0;
      this.stats.retryAt = 0;
    }
  }

  private failed(e: LapiError): void {
    this.stats.failures++;
    this.stats.consecutiveFailures++;
    this.stats.lastError = e.message;
    const n = this.stats.consecutiveFailures;
    const cap = Math.min(this.o.backoffMaxMs, this.o.backoffBaseMs * 2 ** Math.min(n - 1, 30));
    const delay = Math.round(cap * (0.5 + 0.5 * this.random()));
    this.stats.retryAt = this.now() + delay;
    this.stats.lastBackoffMs = delay;
    // Logged at the first failure and at each doubling, not at every retry of a long outage.
    if ((n & (n - 1)) === 0) {
      this.log.warn({ err: e.message, failures: n, queued: this.queue.length, retry_in_ms: delay }, 'crowdsec: LAPI push failed; blocks stay queued');
    }
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.stats.retryAt = 0;
      void this.run();
    }, delay);
    this.timer.unref();
  }

  /** One POST of a batch; a 401 (token expired, LAPI restarted with a new secret) logs in once more. */
  private async send(batch: CrowdsecBlock[]): Promise<void> {
    const body = batch.map((b) => blockToAlert(b, { scenarioVersion: this.o.scenarioVersion, simulated: this.opts.simulated ?? false }));
    for (let attempt = 0; ; attempt++) {
      const token = await this.login.token();
      try {
        await this.opts.http.json({ method: 'POST', path: '/v1/alerts', headers: { Authorization: `Bearer ${token}` }, body }, checkAlertIds);
        return;
      } catch (err) {
        if (err instanceof LapiError && err.status === 401 && attempt === 0) {
          this.login.invalidate();
          continue;
        }
        throw err;
      }
    }
  }
}

/** POST /v1/alerts answers the new alert ids: `["12","13"]`. */
function checkAlertIds(v: unknown): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error('expected a list of alert ids');
  return v;
}
