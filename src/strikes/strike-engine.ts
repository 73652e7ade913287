import type { AuthEvent, ConnectEvent, EventSink, PipelineEvent } from '../events.js';
import { AddressSet, strikeKey } from './address-key.js';
import { LogPrefix } from './iptables-log.js';
import { RecentStamps } from './recent-list.js';

export interface StrikeOptions {
  /** Failures (535) within `seconds` that block an address (the seed: 3 in 1200 s). */
  hitcount: number;
  seconds: number;
  /** New connections within `connSeconds` that block an address (the seed: 6 in 60 s). */
  connHitcount: number;
  connSeconds: number;
  whitelist: AddressSet;
  /** IPv6 clients count per prefix of this length (128: per address). */
  ipv6Prefix: number;
  /** Count 454 temporary failures (inside AUTH) as strikes too. */
  tempfailStrikes: boolean;
  /** Addresses the table tracks at most. */
  maxEntries: number;
}

export const defaultStrikeOptions = (): StrikeOptions => ({
  hitcount: 3, seconds: 1200, connHitcount: 6, connSeconds: 60,
  whitelist: new AddressSet(), ipv6Prefix: 64, tempfailStrikes: false, maxEntries: 262_144,
});

export interface StrikeState {
  version: 1;
  saved_at: number;
  entries: { key: string; last_seen: number; auth: number[]; conn: number[]; block: BlockInterval | null }[];
}

export interface BlockInterval {
  key: string;
  /** The client address whose event started the block. */
  client: string;
  rule: 'auth' | 'conn';
  from: number;
  /** Last instant the block stands (inclusive, as xt_recent's window test). */
  until: number;
  /** New connections refused while the block stood. */
  rejects: number;
}

class StrikeEntry {
  readonly auth: RecentStamps;
  readonly conn: RecentStamps;
  lastSeen = 0;
  block: BlockInterval | null = null;
  constructor(readonly key: string, o: StrikeOptions) {
    this.auth = new RecentStamps(o.hitcount);
    this.conn = new RecentStamps(o.connHitcount);
  }
  /** Nothing inside any window and no block standing: forgetting it changes no verdict. */
  idle(now: number, o: StrikeOptions): boolean {
    return (!this.block || this.block.until < now) &&
      this.auth.newest() < now - o.seconds && this.conn.newest() < now - o.connSeconds;
  }
}

export interface StrikeStats {
  strikes: number;
  rejects: number;
  blocks: number;
  whitelistedEvents: number;
  /** Failures on connections the rules had already refused (they would not have happened). */
  failuresOnRejectedConnections: number;
  /** Entries dropped because nothing in them mattered any more. */
  expiredEntries: number;
  /** Entries dropped for room while they still held hits (least recently seen first). */
  evictedStriking: number;
  /** Blocked entries dropped for room: only when every other entry was blocked too. */
  evictedBlocked: number;
  /** Block intervals not kept in the summary list (the list is capped). */
  blocksNotListed: number;
}

const MAX_LISTED_BLOCKS = 100_000;

/**
 * The seed's iptables `recent` rules, on packet time:
 *  - each 535 to client C: `--set --name SMTP_AUTH_ERROR`, log `SMTP_AUTH_FAIL: Strike N:`;
 *  - a NEW connection from C with ≥ hitcount hits in `seconds`: log `SMTP_AUTH_REJECTED: Go AWAY:`,
 *    `--set` again (so an address that keeps knocking stays blocked), reject;
 *  - otherwise `--set --name SMTP`, and ≥ connHitcount within connSeconds: log
 *    `SMTP Brute Force Attempt:`, reject;
 *  - whitelisted networks: never counted, never blocked.
 * The block starts the moment the threshold is crossed and lasts while the rule would still fire.
 * Failures on a connection whose SYN the rules refused are reported but strike nothing: under
 * iptables they would never have happened.
 */
export class StrikeEngine implements EventSink {
  readonly stats: StrikeStats = {
    strikes: 0, rejects: 0, blocks: 0, whitelistedEvents: 0, failuresOnRejectedConnections: 0,
    expiredEntries: 0, evictedStriking: 0, evictedBlocked: 0, blocksNotListed: 0,
  };
  readonly blocks: BlockInterval[] = [];
  private readonly table = new Map<string, StrikeEntry>();
  private readonly rejectedFlows = new Set<number>();
  private now = 0;

  constructor(readonly opts: StrikeOptions, private readonly out: EventSink) {}

  get entries(): number {
    return this.table.size;
  }

  event(ev: PipelineEvent): void {
    switch (ev.type) {
      case 'auth_failure':
        this.out.event(ev);
        this.failure(ev);
        break;
      case 'auth_tempfail':
        this.out.event(ev);
        if (this.opts.tempfailStrikes) this.failure(ev);
        break;
      case 'connect':
        this.out.event(ev);
        this.connect(ev);
        break;
      case 'flow_end':
        this.rejectedFlows.delete(ev.flow);
        this.out.event(ev);
        break;
      default:
        this.out.event(ev);
    }
  }

  private entry(key: string, ts: number): StrikeEntry {
    this.now = ts;
    let e = this.table.get(key);
    if (!e) {
      if (this.table.size >= this.opts.maxEntries) this.makeRoom();
      e = new StrikeEntry(key, this.opts);
      this.table.set(key, e);
    }
    e.lastSeen = ts;
    return e;
  }

  private failure(ev: AuthEvent): void {
    if (this.opts.whitelist.has(ev.client)) {
      this.stats.whitelistedEvents++;
      return;
    }
    if (this.rejectedFlows.has(ev.flow)) {
      this.stats.failuresOnRejectedConnections++;
      return;
    }
    const o = this.opts;
    const key = strikeKey(ev.client, o.ipv6Prefix);
    const e = this.entry(key, ev.ts);
    this.closeExpiredBlock(e, ev.ts);
    e.auth.add(ev.ts);
    const n = Math.min(e.auth.hitsWithin(ev.ts, o.seconds), o.hitcount);
    this.stats.strikes++;
    this.out.event({
      type: 'strike', ts: ev.ts, client: ev.client, key, n, hitcount: o.hitcount,
      prefix: LogPrefix.strike(n), wire: ev.wire,
    });
    if (n >= o.hitcount) this.blockUntil(e, ev.client, 'auth', ev.ts, e.auth.fullUntil(o.seconds));
  }

  private connect(ev: ConnectEvent): void {
    if (this.opts.whitelist.has(ev.client)) {
      this.stats.whitelistedEvents++;
      return;
    }
    const o = this.opts;
    const key = strikeKey(ev.client, o.ipv6Prefix);
    const e = this.entry(key, ev.ts);
    this.closeExpiredBlock(e, ev.ts);
    if (e.auth.hitsWithin(ev.ts, o.seconds) >= o.hitcount) {
      e.auth.add(ev.ts); // the seed's rule tags the refused SYN again
      this.reject(e, ev, 'auth', LogPrefix.authReject);
      this.blockUntil(e, ev.client, 'auth', ev.ts, e.auth.fullUntil(o.seconds), 1);
      return;
    }
    e.conn.add(ev.ts);
    if (e.conn.hitsWithin(ev.ts, o.connSeconds) >= o.connHitcount) {
      this.reject(e, ev, 'conn', LogPrefix.connReject);
      this.blockUntil(e, ev.client, 'conn', ev.ts, e.conn.fullUntil(o.connSeconds), 1);
    }
  }

  private reject(e: StrikeEntry, ev: ConnectEvent, rule: 'auth' | 'conn', prefix: string): void {
    this.rejectedFlows.add(ev.flow);
    this.stats.rejects++;
    if (e.block) e.block.rejects++;
    this.out.event({ type: 'reject', ts: ev.ts, client: ev.client, key: e.key, rule, prefix, wire: ev.wire });
  }

  /**
   * Starts a block or extends the standing one. `refused` is 1 when a refused connection starts it:
   * that reject was emitted before the block existed (the LOG line comes first, as in the kernel),
   * so a new block counts it here; a standing block has already counted it.
   */
  private blockUntil(e: StrikeEntry, client: string, rule: 'auth' | 'conn', ts: number, until: number, refused = 0): void {
    if (e.block && e.block.until >= ts) {
      if (until > e.block.until) e.block.until = until;
      return;
    }
    e.block = { key: e.key, client, rule, from: ts, until, rejects: refused };
    this.stats.blocks++;
    if (this.blocks.length < MAX_LISTED_BLOCKS) this.blocks.push(e.block);
    else this.stats.blocksNotListed++;
    this.out.event({ type: 'block', ts, client, key: e.key, rule, from: ts, until });
  }

  private closeExpiredBlock(e: StrikeEntry, ts: number): void {
    if (e.block && e.block.until < ts) e.block = null;
  }

  /**
   * Frees about a tenth of the table: first entries that no longer matter (no loss at all), then
   * the least recently seen unblocked ones, and blocked ones only if nothing else is left.
   */
  private makeRoom(): void {
    const target = Math.floor(this.opts.maxEntries * 0.9);
    for (const [k, e] of this.table) {
      if (e.idle(this.now, this.opts)) {
        this.table.delete(k);
        this.stats.expiredEntries++;
      }
    }
    if (this.table.size <= target) return;
    // Least recently seen first (sorting here, rarely, keeps the per-event path a plain lookup).
    const byAge = [...this.table.values()].sort((a, b) => a.lastSeen - b.lastSeen);
    for (const e of byAge) {
      if (this.table.size <= target) return;
      if (!e.block || e.block.until < this.now) {
        this.table.delete(e.key);
        this.stats.evictedStriking++;
      }
    }
    for (const e of byAge) {
      if (this.table.size <= target) return;
      if (this.table.delete(e.key)) this.stats.evictedBlocked++;
    }
  }

  /**
   * What must survive a restart: every entry that still matters at `now` (hits inside a window or
   * a block standing). Idle entries are left out: forgetting them changes no verdict.
   */
  exportState(now: number): StrikeState {
    const entries: StrikeState['entries'] = [];
    for (const e of this.table.values()) {
      if (e.idle(now, this.opts)) continue;
      entries.push({
        key: e.key, last_seen: e.lastSeen, auth: e.auth.toArray(), conn: e.conn.toArray(),
        block: e.block && e.block.until >= now ? { ...e.block } : null,
      });
    }
    return { version: 1, saved_at: now, entries };
  }

  /** Loads a state written by exportState; entries that no longer matter at `now` are skipped. */
  importState(state: StrikeState, now: number): { entries: number; blocks: BlockInterval[] } {
    if (state.version !== 1 || !Array.isArray(state.entries)) throw new Error('unknown state file version');
    const blocks: BlockInterval[] = [];
    for (const s of state.entries) {
      const e = new StrikeEntry(s.key, this.opts);
      for (const t of s.auth) e.auth.add(t);
      for (const t of s.conn) e.conn.add(t);
      e.lastSeen = s.last_seen;
      if (s.block && s.block.until >= now) {
        e.block = { ...s.block };
        blocks.push(e.block);
        if (this.blocks.length < MAX_LISTED_BLOCKS) this.blocks.push(e.block);
      }
      if (e.idle(now, this.opts)) continue;
      if (this.table.size >= this.opts.maxEntries) this.makeRoom();
      this.table.set(s.key, e);
    }
    this.now = now;
    return { entries: this.table.size, blocks };
  }

  /** Whether `client` stands blocked at time `ts`. */
  isBlocked(client: string, ts: number): boolean {
    const e = this.table.get(strikeKey(client, this.opts.ipv6Prefix));
    return !!e?.block && e.block.from <= ts && e.block.until >= ts;
  }
}
