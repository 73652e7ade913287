import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { BlockStreamReader, type FleetBlock } from './block-stream.js';
import { Fifo } from './fifo.js';
import { parseFleetUrl } from './fleet-url.js';
import { LatencyWindow } from './latency-window.js';
import { LocalWindows } from './local-windows.js';
import { newFleetStats, newHit } from './redis-fleet-types.js';
import type { FleetHealth, FleetLogger, FleetOptions, FleetRule, FleetStats, FleetThreshold, Hit, ThresholdSource } from './redis-fleet-types.js';
import { fleetRedisOptions } from './redis-options.js';
import { pipeWindowHit, runWindowHit, WINDOW_HIT_LUA, windowResult, type WindowHitArgs, type WindowResult } from './window-script.js';

/**
 * Fleet-wide xt_recent counting on Redis (issue 13). hit() is synchronous and never waits: the hit
 * is recorded in this host's own window, sent to Redis (one atomic script, window-script.ts), and
 * decided when the reply comes — or locally once the budget passes or while Redis is away. Every
 * hit stays in a bounded journal until Redis has it and it has left its window; when Redis comes
 * back the journal is replayed (a restarted Redis that lost its data gets the whole in-window
 * journal again; the unique member per hit makes a resend count once), so the threshold the fleet
 * would have reached produces its block. Blocks are published on a Redis stream by the script and
 * read by every host (block-stream.ts).
 */
export class RedisFleet {
  readonly stats: FleetStats = newFleetStats();
  /** Round trips of hits answered in time and late (ms). */
  readonly latency: LatencyWindow;
  readonly host: string;
  readonly redacted: string;
  private state: FleetHealth = 'connecting';
  private readonly redis: Redis;
  private readonly sub: Redis;
  private readonly reader: BlockStreamReader;
  private readonly local: Record<FleetRule, LocalWindows>;
  /** Per rule: a FIFO trims by its own window (the connection rule's hits go after 60 s, not 1200). */
  private readonly journals: Record<FleetRule, Fifo<Hit>> = { auth: new Fifo<Hit>(), conn: new Fifo<Hit>() };
  private readonly inflight = new Fifo<Hit>();
  private readonly memberPrefix: string;
  private seq = 0;
  private readonly budgetMs: number;
  private readonly blockMs: number;
  private readonly prefix: string;
  private readonly maxJournal: number;
  private readonly maxStamps: number;
  private readonly streamMaxLen: number;
  private readonly replayBatch: number;
  private readonly log: FleetLogger;
  private runId: string | null = null;
  private reconciling = false;
  /** The server changed (run_id): the next reconciliation resends the whole journal. */
  private needFull = false;
  private sweepArmed = false;
  private timers: NodeJS.Timeout[] = [];
  private lastError = '';
  /** Hits in the journals that Redis does not have (kept as a count: metrics read it often). */
  private unlanded = 0;

  constructor(private readonly opts: FleetOptions) {
    const url = parseFleetUrl(opts.url);
    this.redacted = url.redacted;
    this.host = opts.host ?? hostname();
    // host + a nonce per start + a sequence: unique per hit across the fleet and across restarts.
    this.memberPrefix = `${this.host}/${randomBytes(6).toString('base64url')}/`;
    this.budgetMs = opts.budgetMs ?? 50;
    this.blockMs = Math.round((opts.blockSeconds ?? opts.auth.seconds) * 1000);
    this.prefix = opts.prefix ?? 'smtpstrike';
    this.maxJournal = opts.maxJournal ?? 100_000;
    this.maxStamps = Math.max(opts.maxStamps ?? 64, opts.auth.hitcount, opts.conn.hitcount);
    this.streamMaxLen = opts.streamMaxLen ?? 10_000;
    this.replayBatch = opts.replayBatch ?? 512;
    this.latency = new LatencyWindow(opts.latencySamples ?? 4096);
    this.log = opts.logger ?? { info() {}, warn() {}, error() {} };
    const maxKeys = opts.maxLocalKeys ?? 262_144;
    this.local = {
      auth: new LocalWindows(opts.auth.hitcount, opts.auth.seconds, maxKeys),
      conn: new LocalWindows(opts.conn.hitcount, opts.conn.seconds, maxKeys),
    };
    this.redis = new Redis(fleetRedisOptions(url.options, opts.redisOptions));
    // XREAD BLOCK holds its connection: the stream reader gets its own.
    this.sub = this.redis.duplicate({ commandTimeout: 10_000 });
    this.reader = new BlockStreamReader(
      this.sub,
      this.key('blocks'),
      this.blockMs,
      (b) => this.remote(b),
      (e) => this.error(e),
    );
    this.redis.on('error', (e: Error) => this.error(e));
    this.sub.on('error', () => {}); // the reader counts its failures; connection noise is logged once via the main connection
    this.redis.on('close', () => this.degrade('unreachable'));
    this.redis.on('ready', () => void this.onReady());
  }

  get health(): FleetHealth {
    return this.state;
  }

  /** Hits not yet in Redis (queued for replay or out past their budget). */
  get queued(): number {
    return this.unlanded;
  }

  /** This host's own hits of `key` in the window ending at `ts` (seconds): what it alone would count. */
  localCount(rule: FleetRule, key: string, ts: number): number {
    return this.local[rule].count(key, ts);
  }

  /** Connects (in the background; hits are decided locally until Redis answers) and starts reading blocks. */
  start(): void {
    this.redis.connect().catch(() => {}); // failures arrive as 'error' events; ioredis retries
    this.sub.connect().catch(() => {});
    this.reader.start();
    const probe = setInterval(() => void this.probe(), this.opts.probeMs ?? 1000);
    probe.unref();
    this.timers.push(probe);
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const t of this.timers) clearInterval(t);
    this.sub.disconnect();
    await this.reader.stop();
    this.redis.disconnect();
  }

  /**
   * One hit of `rule` for strike key `key` (the client `client` made it) at `ts` (seconds since the
   * epoch, the packet's time). Never throws, never waits: the verdict comes through onThreshold.
   * The caller filters whitelisted clients, as the strike engine does.
   */
  hit(rule: FleetRule, key: string, client: string, ts: number): void {
    if (this.state === 'closed') return;
    this.stats.hits++;
    const count = this.local[rule].hit(key, ts);
    const h: Hit = newHit(rule, key, client, Math.round(ts * 1000), this.memberPrefix + (this.seq++).toString(36));
    this.journals[rule].push(h);
    this.unlanded++;
    this.trimJournal(rule);
    if (this.state === 'ok') this.send(h);
    else this.decideLocally(h, count);
  }

  private key(...parts: string[]): string {
    return `${this.prefix}:${parts.join(':')}`;
  }

  private args(h: Hit): WindowHitArgs {
    const w = this.opts[h.rule];
    return [
      [this.key('w', h.rule, h.key), this.key('b', h.key), this.key('blocks')],
      [
        h.tsMs,
        Math.round(w.seconds * 1000),
        h.member,
        w.hitcount,
        this.maxStamps,
        this.blockMs,
        Date.now(),
        Math.round(this.blockMs / 4),
        this.streamMaxLen,
        this.host,
        h.rule,
        h.key,
        h.client,
      ],
    ];
  }

  private send(h: Hit): void {
    h.inflight = true;
    h.sentAt = performance.now();
    this.inflight.push(h);
    runWindowHit(this.redis, this.args(h)).then(
      (r) => this.landed(h, r, false),
      (e: unknown) => this.failed(h, e),
    );
    if (!this.sweepArmed) this.armSweep();
  }

  /**
   * One timer for all hits out: they are sent in order, so the oldest one's deadline is the next.
   * When it passes, the verdict waits for setImmediate: the poll phase in between reads replies that
   * had already arrived while the loop was busy, so a busy loop is not taken for a slow Redis.
   */
  private armSweep(): void {
    const head = this.inflight.peek();
    if (!head) {
      this.sweepArmed = false;
      return;
    }
    this.sweepArmed = true;
    const wait = Math.max(1, head.sentAt + this.budgetMs - performance.now());
    setTimeout(() => setImmediate(() => this.sweep()), wait).unref();
  }

  private sweep(): void {
    if (this.state === 'closed') return;
    const now = performance.now();
    let late = 0;
    for (let h = this.inflight.peek(); h; h = this.inflight.peek()) {
      if (h.inflight && now - h.sentAt < this.budgetMs) break;
      this.inflight.shift();
      if (h.inflight && !h.decided) {
        late++;
        this.decideLocally(h, this.local[h.rule].count(h.key, h.tsMs / 1000));
      }
    }
    if (late > 0) this.degrade('slow', undefined, late);
    this.armSweep();
  }

  private landed(h: Hit, r: WindowResult, replay: boolean): void {
    h.inflight = false;
    if (this.state === 'closed' || h.landed) return;
    h.landed = true;
    this.unlanded--;
    if (r.published) this.stats.published++;
    if (!replay) {
      this.latency.add(performance.now() - h.sentAt);
      if (h.decided) this.stats.lateReplies++;
      else this.stats.fleetHits++;
    }
    h.decided = true;
    if (h.fired || r.count < this.opts[h.rule].hitcount || r.untilMs <= Date.now()) return;
    h.fired = true;
    const source: ThresholdSource = replay ? 'reconciled' : 'fleet';
    if (replay) this.stats.thresholdsReconciled++;
    else this.stats.thresholdsFleet++;
    this.fire({ rule: h.rule, key: h.key, client: h.client, count: r.count, untilMs: r.untilMs, source, published: r.published });
  }

  private failed(h: Hit, e: unknown): void {
    h.inflight = false;
    if (this.state === 'closed') return;
    if (!h.decided) this.decideLocally(h, this.local[h.rule].count(h.key, h.tsMs / 1000));
    this.error(e);
    this.degrade('error', e);
  }

  /** The verdict of this host's own window (what smtpstrike without a fleet would decide). */
  private decideLocally(h: Hit, count: number): void {
    h.decided = true;
    this.stats.localHits++;
    if (count < this.opts[h.rule].hitcount) return;
    h.fired = true;
    this.stats.thresholdsLocal++;
    this.fire({ rule: h.rule, key: h.key, client: h.client, count, untilMs: h.tsMs + this.blockMs, source: 'local', published: false });
  }

  private fire(t: FleetThreshold): void {
    try {
      this.opts.onThreshold(t);
    } catch (e) {
      this.log.error({ event: 'fleet_callback_failed', error: String(e) }, 'fleet: onThreshold threw');
    }
  }

  private remote(b: FleetBlock): void {
    if (this.state === 'closed' || b.host === this.host) return;
    if (b.untilMs <= Date.now()) {
      this.stats.remoteExpired++;
      return;
    }
    let allowed: boolean;
    try {
      allowed = this.opts.mayBlock(b.key, b.client);
      if (allowed) {
        this.stats.remoteBlocks++;
        this.opts.onRemoteBlock(b);
      }
    } catch (e) {
      this.log.error({ event: 'fleet_callback_failed', error: String(e) }, 'fleet: onRemoteBlock/mayBlock threw');
      return;
    }
    if (!allowed) {
      this.stats.remoteSkipped++;
      this.log.info({ event: 'fleet_block_skipped', key: b.key, from_host: b.host, rule: b.rule }, `fleet: not blocking ${b.key} (whitelisted or own address)`);
    }
  }

  /** Drops hits that Redis has and that left their window; past maxJournal the oldest go, counted. */
  private trimJournal(rule: FleetRule): void {
    const j = this.journals[rule];
    const since = Date.now() - this.opts[rule].seconds * 1000;
    for (let h = j.peek(); h; h = j.peek()) {
      if (j.length <= this.maxJournal && !(h.landed && h.tsMs < since)) break;
      j.shift();
      if (!h.landed) {
        this.unlanded--;
        if (this.stats.journalDropped++ === 0) {
          this.log.warn({ event: 'fleet_journal_full', max: this.maxJournal }, 'fleet: replay journal full, dropping the oldest unsent hits');
        }
      }
    }
  }

  private error(e: unknown): void {
    this.stats.errors++;
    this.lastError = e instanceof Error ? e.message : String(e);
  }

  private degrade(reason: 'unreachable' | 'error' | 'slow', e?: unknown, late = 0): void {
    if (this.state === 'closed' || this.state === 'degraded') return;
    const wasConnecting = this.state === 'connecting';
    this.state = 'degraded';
    if (wasConnecting) return; // the start log says we are connecting; nothing was lost
    this.stats.degradedEpisodes++;
    const error = e instanceof Error ? e.message : e === undefined ? this.lastError || undefined : typeof e === 'string' ? e : JSON.stringify(e);
    this.log.warn(
      { event: 'fleet_degraded', reason, url: this.redacted, budget_ms: this.budgetMs, late, error },
      `fleet: Redis ${reason === 'slow' ? `slower than ${this.budgetMs} ms` : 'unreachable'}, counting locally`,
    );
  }

  private async onReady(): Promise<void> {
    if (this.state === 'closed') return;
    try {
      const info = await this.redis.info('server');
      const id = /run_id:(\w+)/.exec(info)?.[1] ?? null;
      // Another server (a restart without persistence, a failover): it may have lost the windows,
      // so this host's whole in-window journal goes again, not only what it missed.
      if (this.runId !== null && id !== this.runId) this.needFull = true;
      this.runId = id;
    } catch (e) {
      this.error(e);
      return; // the next 'ready' or probe tries again
    }
    await this.reconcile();
  }

  /** A degraded host whose Redis is connected asks it whether it answers within the budget again. */
  private async probe(): Promise<void> {
    if (this.state !== 'degraded' || this.reconciling || this.redis.status !== 'ready') return;
    const t0 = performance.now();
    try {
      await this.redis.ping();
    } catch (e) {
      this.error(e);
      return;
    }
    if (performance.now() - t0 <= this.budgetMs) await this.reconcile();
  }

  /**
   * Replays what Redis does not have, oldest first, in pipelines; each reply is decided as a live one
   * would have been, with source 'reconciled'. New hits keep being decided locally and queued until
   * the journal is through, so they replay in order; then the host is ok again.
   */
  private async reconcile(): Promise<void> {
    if (this.reconciling || this.state === 'closed') return;
    let full = false;
    let batch: Hit[] = [];
    this.reconciling = true;
    const from = this.state;
    this.state = 'reconciling';
    const t0 = performance.now();
    let replayed = 0;
    let fired = this.stats.thresholdsReconciled;
    try {
      await this.redis.script('LOAD', WINDOW_HIT_LUA);
      const rules: FleetRule[] = ['auth', 'conn'];
      const cursor: Record<FleetRule, number> = { auth: this.journals.auth.start, conn: this.journals.conn.start };
      for (;;) {
        if (this.state !== 'reconciling') return;
        if (this.needFull) {
          // Another server: resend the whole journal (what is out of its window trims itself).
          this.needFull = false;
          full = true;
          for (const r of rules) {
            const j = this.journals[r];
            for (let i = j.start; i < j.end; i++) {
              const h = j.at(i)!;
              if (h.landed) this.unlanded++;
              h.landed = false;
            }
            cursor[r] = j.start;
          }
        }
        batch = [];
        let waiting = false;
        for (const r of rules) {
          const j = this.journals[r];
          let c = Math.max(cursor[r], j.start);
          for (; c < j.end && batch.length < this.replayBatch; c++) {
            const h = j.at(c)!;
            if (h.landed) continue;
            if (h.inflight) waiting = true;
            else batch.push(h);
          }
          cursor[r] = c;
        }
        if (batch.length === 0) {
          // Past both ends: anything still unlanded behind us (a live command that failed after
          // we passed it, or one still out) sends us round again.
          let again = false;
          for (const r of rules) {
            const j = this.journals[r];
            for (let i = j.start; i < j.end; i++) {
              const h = j.at(i)!;
              if (h.landed) continue;
              again = true;
              if (h.inflight) waiting = true;
              cursor[r] = i;
              break;
            }
          }
          if (!again) break;
          if (waiting) await new Promise((r) => setTimeout(r, this.budgetMs));
          continue;
        }
        const p = this.redis.pipeline();
        for (const h of batch) {
          h.inflight = true;
          pipeWindowHit(p, this.args(h));
        }
        const res = (await p.exec()) ?? [];
        for (let i = 0; i < batch.length; i++) {
          const h = batch[i]!;
          h.inflight = false;
          const [err, reply] = res[i] ?? [new Error('no reply'), null];
          if (err) throw err;
          this.landed(h, windowResult(reply), true);
          replayed++;
        }
        this.stats.replayed += batch.length;
      }
      if (this.state !== 'reconciling') return;
      this.state = 'ok';
      this.stats.reconciliations++;
      fired = this.stats.thresholdsReconciled - fired;
      if (from !== 'connecting' || replayed > 0) {
        this.log.info(
          { event: 'fleet_ok', url: this.redacted, replayed, full, reconciled_blocks: fired, ms: Math.round(performance.now() - t0) },
          `fleet: Redis reachable, ${replayed} hits replayed`,
        );
      }
    } catch (e) {
      for (const h of batch) if (!h.landed) h.inflight = false;
      this.error(e);
      this.degrade('error', e);
    } finally {
      this.reconciling = false;
    }
  }
}
