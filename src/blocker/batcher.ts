/**
 * BlockBatcher: collects block ops and hands them to a Blocker as one apply() (one kernel
 * transaction) per tick, or at once when `flushAt` ops are waiting.
 *
 * - One apply in flight at a time. Ops pushed meanwhile wait and go together as the next batch,
 *   right after it (so under load the batch size follows the apply latency).
 * - Ops on the same address coalesce while queued (the last one wins: same final state), so a
 *   blocked bot that keeps knocking costs one queued op, not one per SYN.
 * - Nothing is dropped for lack of room: past `highWaterMark` queued ops push() returns false
 *   (as stream.write does) and a flush starts at once; a producer that cares awaits ready().
 * - drain() (= flush()) applies everything queued and waits: call it before exit.
 * - A failed apply is logged and retried once. If the retry fails too and the failure is not one
 *   that fails every transaction (missing binary, no privilege, no namespace), the batch is split in
 *   halves and each half applied on its own, so one op the kernel rejects cannot take the other
 *   blocks of its batch down with it; only ops that fail alone are logged as not applied and
 *   counted in stats.failed. (Blocks are also in watch's state file and re-applied at its start.)
 * - When the blocker has maintain() (iptables: expire rules), it runs about every
 *   `maintainMs` while nothing else is in flight.
 */
import { normalizeOp, type NormOp } from './address.js';
import { BlockerError, silentLogger, type Blocker, type BlockLogger, type BlockOp } from './types.js';

export interface BatcherOptions {
  /** Longest an op waits before its batch is applied (default 100 ms). */
  tickMs?: number;
  /** Apply at once, without waiting for the tick, when this many ops are queued (default 1000). */
  flushAt?: number;
  /** At most this many ops per apply() (default 20000). */
  maxOpsPerApply?: number;
  /** push() returns false beyond this many queued ops (default 100000); nothing is dropped. */
  highWaterMark?: number;
  /** Pause before the one retry of a failed apply (default 200 ms). */
  retryDelayMs?: number;
  /** maintain() period when the blocker has one (default 1000 ms; 0: never). */
  maintainMs?: number;
  logger?: BlockLogger;
}

export interface BatcherStats {
  pushed: number;
  coalesced: number;
  applied: number;
  batches: number;
  retries: number;
  failedBatches: number;
  /** Ops not applied (they failed twice on their own, or the backend could not run at all). */
  failed: number;
  /** Failed batches split in halves to isolate the ops the kernel rejects. */
  splits: number;
  maxQueued: number;
  lastBatchSize: number;
  lastApplyMs: number;
  maxApplyMs: number;
}

export class BlockBatcher {
  readonly stats: BatcherStats = {
    pushed: 0,
    coalesced: 0,
    applied: 0,
    batches: 0,
    retries: 0,
    failedBatches: 0,
    failed: 0,
    splits: 0,
    maxQueued: 0,
    lastBatchSize: 0,
    lastApplyMs: 0,
    maxApplyMs: 0,
  };
  /** Called with each applied batch's duration in seconds (watch's metrics: a histogram); null: nobody asks. */
  onApplied: ((seconds: number, ops: number) => void) | null = null;
  private queue = new Map<string, BlockOp>();
  private timer: NodeJS.Timeout | null = null;
  private maintainTimer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private closed = false;
  private drainWaiters: (() => void)[] = [];
  private warnedHigh = false;
  private readonly tickMs: number;
  private readonly flushAt: number;
  private readonly maxOps: number;
  private readonly highWaterMark: number;
  private readonly retryDelayMs: number;
  private readonly log: BlockLogger;

  constructor(
    readonly blocker: Blocker,
    opts: BatcherOptions = {},
  ) {
    this.tickMs = opts.tickMs ?? 100;
    this.flushAt = Math.max(1, opts.flushAt ?? 1000);
    this.maxOps = Math.max(1, opts.maxOpsPerApply ?? 20_000);
    this.highWaterMark = Math.max(1, opts.highWaterMark ?? 100_000);
    this.retryDelayMs = opts.retryDelayMs ?? 200;
    this.log = opts.logger ?? silentLogger;
    const maintainMs = opts.maintainMs ?? 1000;
    if (blocker.maintain && maintainMs > 0) {
      this.maintainTimer = setInterval(() => this.maintainTick(), maintainMs);
      this.maintainTimer.unref();
    }
  }

  /** Ops waiting (not counting a batch in flight). */
  get queued(): number {
    return this.queue.size;
  }

  /** True while an apply (or maintain) is in flight. */
  get busy(): boolean {
    return this.running !== null;
  }

  /**
   * Queues ops (each validated now: a bad address throws BlockAddressError here, before any op of
   * this call is queued, and never poisons a batch). Returns false when the queue is past the
   * high-water mark (nothing is dropped).
   */
  push(...ops: BlockOp[]): boolean {
    return this.pushAll(ops);
  }

  /** push() for an array of any length (a spread of ~200,000 arguments overflows the stack). */
  pushAll(ops: readonly BlockOp[]): boolean {
    if (this.closed) throw new Error('BlockBatcher is closed');
    const norm = ops.map(normalizeOp);
    for (const n of norm) this.enqueue(n);
    this.schedule();
    const ok = this.queue.size <= this.highWaterMark;
    if (!ok && !this.warnedHigh) {
      this.warnedHigh = true;
      this.log.warn(
        { backend: this.blocker.name, queued: this.queue.size, high_water_mark: this.highWaterMark },
        'block queue past its high-water mark (nothing dropped; applying as fast as the backend allows)',
      );
    }
    return ok;
  }

  private enqueue(n: NormOp): void {
    const canon: BlockOp =
      n.op === 'add'
        ? n.timeoutSec === null
          ? { op: 'add', addr: n.a.addr }
          : { op: 'add', addr: n.a.addr, timeoutSec: n.timeoutSec }
        : { op: 'del', addr: n.a.addr };
    this.stats.pushed++;
    if (this.queue.has(n.a.addr)) {
      this.stats.coalesced++;
      this.queue.delete(n.a.addr);
    }
    this.queue.set(n.a.addr, canon);
    if (this.queue.size > this.stats.maxQueued) this.stats.maxQueued = this.queue.size;
  }

  add(addr: string, timeoutSec?: number): boolean {
    return this.push(timeoutSec === undefined ? { op: 'add', addr } : { op: 'add', addr, timeoutSec });
  }

  del(addr: string): boolean {
    return this.push({ op: 'del', addr });
  }

  /** Applies everything queued and waits (same as flush()). */
  drain(): Promise<void> {
    return this.flush();
  }

  /** Resolves once the queue is at or below the high-water mark (for producers that got false from push). */
  ready(): Promise<void> {
    if (this.queue.size <= this.highWaterMark) return Promise.resolve();
    return new Promise((res) => this.drainWaiters.push(res));
  }

  /** Applies everything queued now (and whatever arrives meanwhile) and waits for it. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.queue.size > 0 || this.running) {
      if (!this.running) this.start();
      await this.running;
    }
  }

  /** Stops the timers and applies what is queued. push() throws afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.maintainTimer) clearInterval(this.maintainTimer);
    this.maintainTimer = null;
    await this.flush();
  }

  private schedule(): void {
    if (this.running) return; // the pump takes the queue as soon as the batch in flight is done
    if (this.queue.size >= this.flushAt || this.queue.size > this.highWaterMark) {
      this.start();
      return;
    }
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        if (!this.running && this.queue.size > 0) this.start();
      }, this.tickMs);
    }
  }

  private start(job: () => Promise<void> = () => this.pump()): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const p = job().finally(() => {
      this.running = null;
      if (this.queue.size > 0) this.schedule();
    });
    this.running = p;
  }

  private async pump(): Promise<void> {
    while (this.queue.size > 0) {
      const batch: BlockOp[] = [];
      for (const [k, op] of this.queue) {
        batch.push(op);
        this.queue.delete(k);
        if (batch.length >= this.maxOps) break;
      }
      await this.applyWithRetry(batch);
      if (this.queue.size <= this.highWaterMark) {
        this.warnedHigh = false;
        for (const w of this.drainWaiters.splice(0)) w();
      }
    }
  }

  private async applyWithRetry(batch: BlockOp[]): Promise<void> {
    const t0 = performance.now();
    try {
      await this.blocker.apply(batch);
    } catch (e) {
      this.stats.retries++;
      this.log.warn({ backend: this.blocker.name, ops: batch.length, err: (e as Error).message }, 'block apply failed; retrying once');
      await new Promise((res) => setTimeout(res, this.retryDelayMs));
      try {
        await this.blocker.apply(batch);
      } catch (e2) {
        this.stats.failedBatches++;
        const systemic = e2 instanceof BlockerError && (e2.kind === 'missing-binary' || e2.kind === 'permission' || e2.kind === 'netns');
        if (!systemic && batch.length > 1) {
          this.stats.splits++;
          const half = batch.length >> 1;
          await this.applyWithRetry(batch.slice(0, half));
          await this.applyWithRetry(batch.slice(half));
          return;
        }
        this.stats.failed += batch.length;
        this.log.error(
          {
            backend: this.blocker.name,
            ops: batch.length,
            err: (e2 as Error).message,
            sample: batch.slice(0, 10).map((o) => `${o.op} ${o.addr}`),
          },
          'block apply failed twice; these ops were not applied',
        );
        return;
      }
    }
    const ms = performance.now() - t0;
    this.stats.batches++;
    this.stats.applied += batch.length;
    this.stats.lastBatchSize = batch.length;
    this.stats.lastApplyMs = ms;
    if (ms > this.stats.maxApplyMs) this.stats.maxApplyMs = ms;
    this.onApplied?.(ms / 1000, batch.length);
  }

  private maintainTick(): void {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called as m.call(this.blocker) below
    const m = this.blocker.maintain;
    if (this.running || !m) return;
    this.start(async () => {
      try {
        await m.call(this.blocker);
      } catch (e) {
        this.log.warn({ backend: this.blocker.name, err: (e as Error).message }, 'block maintenance failed');
      }
    });
  }
}
