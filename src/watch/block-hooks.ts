import { spawn } from 'node:child_process';

/**
 * `--on-block CMD` / `--on-unblock CMD`: glue to anything else (a ticket, a chat message, another
 * firewall). The program runs with the block as arguments and in its environment — never through
 * a shell, so an address or an account name can never become a command. Runs are bounded: at most
 * `maxRunning` at once, `maxQueued` waiting (more are dropped, counted and logged), each killed
 * after `timeoutMs`; a program that fails is logged, never retried, and never holds up a block.
 *
 * Arguments: EVENT ADDRESS KEY RULE UNTIL (EVENT `block` or `unblock`; UNTIL epoch seconds, `0`
 * for an unblock). Environment: SMTPSTRIKE_EVENT, SMTPSTRIKE_ADDRESS, SMTPSTRIKE_KEY,
 * SMTPSTRIKE_RULE, SMTPSTRIKE_UNTIL, added to watch's own.
 */

export interface BlockHookEvent {
  event: 'block' | 'unblock';
  /** The client address that was struck (for an IPv6 prefix block, the last one). */
  address: string;
  /** What is blocked: the address, or an IPv6 prefix such as `2001:db8:1::/64`. */
  key: string;
  /** `auth` or `conn` (the rule that blocked), or `manual`/`expired` for an unblock. */
  rule: string;
  /** Epoch seconds the block ends (0 for an unblock). */
  until: number;
}

export interface BlockHookLog {
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface BlockHooksOptions {
  /** argv of the program for blocks (the event's arguments are appended), or null. */
  onBlock: readonly string[] | null;
  onUnblock: readonly string[] | null;
  maxRunning?: number;
  maxQueued?: number;
  timeoutMs?: number;
  log: BlockHookLog;
}

export interface BlockHookStats {
  started: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  dropped: number;
  running: number;
  queued: number;
}

export class BlockHooks {
  private readonly queue: { argv: readonly string[]; ev: BlockHookEvent }[] = [];
  private readonly maxRunning: number;
  private readonly maxQueued: number;
  private readonly timeoutMs: number;
  private readonly idle: (() => void)[] = [];
  readonly stats: BlockHookStats = { started: 0, succeeded: 0, failed: 0, timedOut: 0, dropped: 0, running: 0, queued: 0 };

  constructor(private readonly opts: BlockHooksOptions) {
    this.maxRunning = opts.maxRunning ?? 4;
    this.maxQueued = opts.maxQueued ?? 1000;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** Whether any hook is configured. */
  get enabled(): boolean {
    return this.opts.onBlock !== null || this.opts.onUnblock !== null;
  }

  /** Runs the hook of `ev.event`, now or when a slot frees; never throws, never waits. */
  fire(ev: BlockHookEvent): void {
    const argv = ev.event === 'block' ? this.opts.onBlock : this.opts.onUnblock;
    if (argv === null || argv.length === 0) return;
    if (this.stats.running < this.maxRunning) {
      this.run(argv, ev);
      return;
    }
    if (this.queue.length >= this.maxQueued) {
      this.stats.dropped++;
      this.opts.log.warn({ event: 'hook_dropped', hook: ev.event, key: ev.key, queued: this.queue.length }, `--on-${ev.event} queue full: not run`);
      return;
    }
    this.queue.push({ argv, ev });
    this.stats.queued = this.queue.length;
  }

  /** Resolves when nothing runs and nothing waits (shutdown, tests). */
  drained(): Promise<void> {
    if (this.stats.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private run(argv: readonly string[], ev: BlockHookEvent): void {
    const [file, ...fixed] = argv as [string, ...string[]];
    const args = [...fixed, ev.event, ev.address, ev.key, ev.rule, String(ev.until)];
    const env = {
      ...process.env,
      SMTPSTRIKE_EVENT: ev.event,
      SMTPSTRIKE_ADDRESS: ev.address,
      SMTPSTRIKE_KEY: ev.key,
      SMTPSTRIKE_RULE: ev.rule,
      SMTPSTRIKE_UNTIL: String(ev.until),
    };
    this.stats.started++;
    this.stats.running++;
    let settled = false;
    let timedOut = false;
    const done = (ok: boolean, detail: Record<string, unknown>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      this.stats.running--;
      if (timedOut) this.stats.timedOut++;
      else if (ok) this.stats.succeeded++;
      else this.stats.failed++;
      if (!ok) this.opts.log.warn({ event: 'hook_failed', hook: ev.event, key: ev.key, program: file, ...detail }, `--on-${ev.event} program failed`);
      this.next();
    };
    const child = spawn(file, args, { env, stdio: 'ignore', shell: false });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, this.timeoutMs);
    timer.unref();
    child.once('error', (e) => done(false, { error: e.message }));
    child.once('exit', (code, signal) => done(code === 0, timedOut ? { timeout_ms: this.timeoutMs } : { code, signal }));
  }

  private next(): void {
    while (this.stats.running < this.maxRunning && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.run(job.argv, job.ev);
    }
    this.stats.queued = this.queue.length;
    if (this.stats.running === 0 && this.queue.length === 0) for (const f of this.idle.splice(0)) f();
  }
}
