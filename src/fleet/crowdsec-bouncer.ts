import { parseDecisionAddress } from './crowdsec-address.js';
import { parseGoDuration } from './crowdsec-duration.js';
import { asRecord, LapiError, type LapiHttp } from './crowdsec-http.js';
import { silentLog, type CrowdsecLog } from './crowdsec-log.js';
import type { OwnPushes } from './crowdsec-own-pushes.js';

/**
 * smtpstrike as a CrowdSec bouncer: polls GET /v1/decisions/stream with its API key (X-Api-Key),
 * `startup=true` until one poll has succeeded (all active decisions), then only what changed since
 * the last pull (the LAPI keeps that time per bouncer). Each new ban of scope Ip or Range goes to
 * onBan, unless it is ours (OwnPushes) or `mayApply` refuses it (whitelisted, loopback, the host's
 * own addresses: the caller's rules — this module does not know the blocker). A deletion goes to
 * onUnban only for a value we handed as a ban and whose last known decision it ends (the LAPI can
 * hold several decisions for one address; unbanning at the first deletion would lift a live one).
 *
 * Answer shape (1.4.6 to today): `{"new":[Decision…]|null,"deleted":[Decision…]|null}` with
 * Decision `{id, origin, type, scope, value, duration, scenario, until?}`, `duration` being the
 * time left as a Go duration (negative once passed).
 */

export interface CrowdsecBan {
  id: number;
  /** Canonical address or prefix text (IPv6 compressed, lower case). */
  value: string;
  scope: 'Ip' | 'Range';
  family: 4 | 6;
  /** 32/128 for one address. */
  prefix: number;
  /** Time left when the poll answered (s, ≥ 0), and the end it means (ms since the epoch). */
  durationS: number;
  untilMs: number;
  scenario: string;
  origin: string;
}

export interface BouncerOptions {
  http: LapiHttp;
  apiKey: string;
  /** Poll interval (default 10 s, as CrowdSec's own bouncers' update_frequency). */
  intervalMs?: number;
  /** After a failed poll: base·2^(n−1) capped at maxBackoffMs, never below the interval. */
  maxBackoffMs?: number;
  onBan: (ban: CrowdsecBan) => void;
  onUnban: (ban: CrowdsecBan) => void;
  /** False: never apply (whitelisted / own address); asked for every new ban. */
  mayApply?: (ban: CrowdsecBan) => boolean;
  ownPushes?: OwnPushes;
  /** LAPI-side filters (query parameters of the stream): only these origins / scenarios. */
  origins?: string[];
  scenariosContaining?: string[];
  scenariosNotContaining?: string[];
  /** Decisions remembered for deletions (default 1,000,000); past it a ban is handed untracked. */
  maxTracked?: number;
  log?: CrowdsecLog;
  now?: () => number;
}

export interface BouncerStats {
  polls: number;
  failures: number;
  consecutiveFailures: number;
  bans: number;
  unbans: number;
  /** New decisions not handed: ours, refused by mayApply, not a ban, not Ip/Range or unparsable. */
  skippedOwn: number;
  skippedProtected: number;
  skippedType: number;
  skippedScope: number;
  badDecisions: number;
  /** Deletions not handed: unknown id, or the value still has another live decision. */
  deletionsIgnored: number;
  /** Bans handed without tracking (maxTracked reached): their end is left to the kernel timeout. */
  untracked: number;
  lastError: string | null;
  lastOkAt: number;
}

export class CrowdsecBouncer {
  readonly stats: BouncerStats = {
    polls: 0,
    failures: 0,
    consecutiveFailures: 0,
    bans: 0,
    unbans: 0,
    skippedOwn: 0,
    skippedProtected: 0,
    skippedType: 0,
    skippedScope: 0,
    badDecisions: 0,
    deletionsIgnored: 0,
    untracked: 0,
    lastError: null,
    lastOkAt: 0,
  };
  private readonly log: CrowdsecLog;
  private readonly now: () => number;
  private readonly intervalMs: number;
  private startup = true;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  /** Decision id → value, and per value how many of its decisions we handed and track. */
  private readonly idValue = new Map<number, string>();
  private readonly valueCount = new Map<string, number>();

  constructor(private readonly opts: BouncerOptions) {
    if (opts.apiKey === '') throw new Error('crowdsec bouncer_key is empty');
    this.log = opts.log ?? silentLog;
    this.now = opts.now ?? Date.now;
    this.intervalMs = opts.intervalMs ?? 10_000;
  }

  /** Polls at once, then every interval. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.arm(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.running) await this.running;
  }

  /** One poll now (tests; also usable after a config reload); resolves when it has been handled. */
  async pollNow(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.poll().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private arm(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.pollNow().then(() => this.arm(this.nextDelay()));
    }, delayMs);
    this.timer.unref();
  }

  private nextDelay(): number {
    const n = this.stats.consecutiveFailures;
    if (n === 0) return this.intervalMs;
    return Math.max(this.intervalMs, Math.min(this.opts.maxBackoffMs ?? 60_000, this.intervalMs * 2 ** Math.min(n - 1, 20)));
  }

  private async poll(): Promise<void> {
    const query: Record<string, string> = { startup: String(this.startup), scopes: 'ip,range', dedup: 'false' };
    if (this.opts.origins?.length) query.origins = this.opts.origins.join(',');
    if (this.opts.scenariosContaining?.length) query.scenarios_containing = this.opts.scenariosContaining.join(',');
    if (this.opts.scenariosNotContaining?.length) query.scenarios_not_containing = this.opts.scenariosNotContaining.join(',');
    let ans: StreamAnswer;
    try {
      ans = await this.opts.http.json({ method: 'GET', path: '/v1/decisions/stream', query, headers: { 'X-Api-Key': this.opts.apiKey } }, parseStream);
    } catch (err) {
      const e = err instanceof LapiError ? err : new LapiError(0, (err as Error).message);
      this.stats.failures++;
      this.stats.consecutiveFailures++;
      this.stats.lastError = e.message;
      const n = this.stats.consecutiveFailures;
      if ((n & (n - 1)) === 0) {
        this.log.warn(
          { err: e.message, failures: n, hint: e.status === 403 ? 'check bouncer_key: cscli bouncers list' : undefined },
          'crowdsec: decision stream poll failed',
        );
      }
      return;
    }
    if (this.stats.consecutiveFailures > 0) this.log.info({ after_failures: this.stats.consecutiveFailures }, 'crowdsec: decision stream reachable again');
    this.stats.consecutiveFailures = 0;
    this.stats.polls++;
    this.stats.lastOkAt = this.now();
    this.startup = false;
    // Deletions first: a poll that ends one decision and starts another for the same value leaves
    // it banned (the LAPI replaces a decision that way).
    for (const d of ans.deleted) this.deleted(d);
    for (const d of ans.new) this.added(d);
  }

  private added(raw: RawDecision): void {
    if (raw.type.toLowerCase() !== 'ban') {
      this.stats.skippedType++;
      return;
    }
    const ban = toBan(raw, this.now());
    if (ban === 'scope') {
      this.stats.skippedScope++;
      return;
    }
    if (ban === null) {
      this.stats.badDecisions++;
      return;
    }
    if (ban.durationS <= 0) return; // ended already: nothing to apply
    if (this.opts.ownPushes?.has(ban.value, this.now())) {
      this.stats.skippedOwn++;
      return;
    }
    if (this.opts.mayApply && !this.opts.mayApply(ban)) {
      this.stats.skippedProtected++;
      return;
    }
    if (!this.idValue.has(ban.id)) {
      if (this.idValue.size < (this.opts.maxTracked ?? 1_000_000)) {
        this.idValue.set(ban.id, ban.value);
        this.valueCount.set(ban.value, (this.valueCount.get(ban.value) ?? 0) + 1);
      } else this.stats.untracked++;
    }
    this.stats.bans++;
    this.opts.onBan(ban);
  }

  private deleted(raw: RawDecision): void {
    const value = this.idValue.get(raw.id);
    if (value === undefined) {
      this.stats.deletionsIgnored++;
      return;
    }
    this.idValue.delete(raw.id);
    const left = (this.valueCount.get(value) ?? 1) - 1;
    if (left > 0) {
      this.valueCount.set(value, left);
      this.stats.deletionsIgnored++;
      return;
    }
    this.valueCount.delete(value);
    const ban = toBan(raw, this.now());
    if (ban === null || ban === 'scope') return;
    this.stats.unbans++;
    this.opts.onUnban({ ...ban, value, durationS: 0, untilMs: this.now() });
  }
}

interface RawDecision {
  id: number;
  origin: string;
  type: string;
  scope: string;
  value: string;
  duration: string;
  scenario: string;
}

interface StreamAnswer {
  new: RawDecision[];
  deleted: RawDecision[];
}

/** The stream answer; a decision of the wrong shape becomes a counted bad one, not a failed poll. */
export function parseStream(v: unknown): StreamAnswer {
  const r = asRecord(v, 'decision stream');
  const list = (x: unknown, what: string): RawDecision[] => {
    if (x === null || x === undefined) return []; // 1.4.6 sends null for an empty list
    if (!Array.isArray(x)) throw new Error(`${what} is not a list`);
    return x.map(rawDecision);
  };
  return { new: list(r.new, 'new'), deleted: list(r.deleted, 'deleted') };
}

function rawDecision(x: unknown): RawDecision {
  const r = typeof x === 'object' && x !== null ? (x as Record<string, unknown>) : {};
  const s = (k: string): string => (typeof r[k] === 'string' ? r[k] : '');
  return {
    id: typeof r.id === 'number' ? r.id : -1,
    origin: s('origin'),
    type: s('type'),
    scope: s('scope'),
    value: s('value'),
    duration: s('duration'),
    scenario: s('scenario'),
  };
}

/** A decision as a ban with a parsed, canonical address; 'scope' when not Ip/Range, null when bad. */
export function toBan(d: RawDecision, nowMs: number): CrowdsecBan | 'scope' | null {
  const scope = d.scope.toLowerCase();
  if (scope !== 'ip' && scope !== 'range') return 'scope';
  const left = parseGoDuration(d.duration);
  if (left === null || d.id < 0) return null;
  const addr = parseDecisionAddress(d.value);
  if (addr === null) return null;
  const { value, family, prefix } = addr;
  return {
    id: d.id,
    value,
    scope: prefix === (family === 4 ? 32 : 128) && scope === 'ip' ? 'Ip' : 'Range',
    family,
    prefix,
    durationS: Math.max(0, left),
    untilMs: nowMs + Math.max(0, left) * 1000,
    scenario: d.scenario,
    origin: d.origin,
  };
}
