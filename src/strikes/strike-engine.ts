import { NO_WIRE, type AuthEvent, type ConnectEvent, type EventSink, type PipelineEvent, type StrikeSource, type WireSnapshot } from '../events.js';
import { parseIp } from '../net/ip-text.js';
import { strikeKey } from './address-key.js';
import { MAX_LISTED_BLOCKS, type LoggedOutcome, type StrikeOptions, type StrikeResult, type StrikeState, type StrikeStats } from './strike-options.js';
import { LogPrefix } from './iptables-log.js';
import { inRecentWindow } from './recent-window.js';
import { StrikeTable, type BlockInterval } from './strike-table.js';
import { EscalationHistory, escalatedSeconds } from './escalation.js';

export type { BlockInterval } from './strike-table.js';

export {
  defaultStrikeOptions,
  MAX_LISTED_BLOCKS,
  type LoggedOutcome,
  type StrikeOptions,
  type StrikeResult,
  type StrikeState,
  type StrikeStats,
} from './strike-options.js';

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
    strikes: 0,
    rejects: 0,
    blocks: 0,
    whitelistedEvents: 0,
    failuresOnRejectedConnections: 0,
    expiredEntries: 0,
    evictedStriking: 0,
    evictedBlocked: 0,
    blocksNotListed: 0,
    inferredNotStruck: 0,
    logStrikes: 0,
    escalationHistoryDropped: 0,
    escalatedRejects: 0,
  };
  readonly blocks: BlockInterval[] = [];
  private readonly table: StrikeTable;
  /** Repeat offenders: each key's earlier block starts (strikes/escalation.ts). */
  readonly history: EscalationHistory;
  private readonly rejectedFlows = new Set<number>();
  private now = 0;
  /**
   * Told of every new connection the connection rule counts (not whitelisted, not refused by the
   * auth rule): watch's fleet counts them fleet-wide too (src/watch/block-links.ts). Null: nothing.
   */
  onConnHit: ((key: string, client: string, ts: number) => void) | null = null;

  constructor(
    readonly opts: StrikeOptions,
    private readonly out: EventSink,
  ) {
    this.table = new StrikeTable(opts.hitcount, opts.connHitcount, opts.maxEntries);
    this.history = new EscalationHistory(opts.escalation, opts.maxEntries);
  }

  /** Options changed in place (watch's SIGHUP): the history follows the escalation settings. */
  private syncHistory(): void {
    this.history.opts = this.opts.escalation;
    this.history.maxKeys = this.opts.maxEntries;
  }

  get entries(): number {
    return this.table.size;
  }

  event(ev: PipelineEvent): void {
    switch (ev.type) {
      case 'auth_failure':
      case 'auth_tempfail':
        this.auth(ev);
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

  /**
   * Whether `flow` is a connection the rules refused (until its flow_end). Under `watch --tarpit` the
   * kernel sends such a connection to the decoy server, whose 535s and decoy 235s the capture still
   * sees as the SMTP port's: they strike nothing here, and watch does not count them as the server's.
   */
  refusedFlow(flow: number): boolean {
    return this.rejectedFlows.has(flow);
  }

  /** An AUTH outcome read (or inferred) on the wire: passed on, and a failure strikes; says what became of it. */
  auth(ev: AuthEvent): StrikeResult {
    this.out.event(ev);
    if (ev.type === 'auth_failure' || (ev.type === 'auth_tempfail' && this.opts.tempfailStrikes)) return this.failure(ev);
    return 'not_struck';
  }

  /**
   * An AUTH outcome the sensor merge already counted from the other sensor (the log saw it first):
   * passed on (the event is reported), strikes nothing.
   */
  passOn(ev: AuthEvent): void {
    this.out.event(ev);
  }

  /**
   * A failure (or a tempfail, with --tempfail-strikes) known from the server's log only: strikes like
   * a 535 on the wire, with the prefix `SMTP_AUTH_FAIL: Strike N (log):` and a LOG line that has no
   * packet behind it (logSnapshot). Successes strike nothing. The refused-connection rule cannot apply:
   * a log line names no connection.
   */
  logged(a: LoggedOutcome): StrikeResult {
    if (a.outcome === 'success' || (a.outcome === 'tempfail' && !this.opts.tempfailStrikes)) return 'not_struck';
    if (this.opts.whitelist.has(a.client)) {
      this.stats.whitelistedEvents++;
      return 'not_struck';
    }
    this.stats.logStrikes++;
    this.strike(a.ts, a.client, 'log', logSnapshot(a.client, a.serverPort));
    return 'struck';
  }

  /** The slot of `key` (made if absent), its last-seen time set to `ts`. */
  private entry(key: string, ts: number): number {
    this.now = ts;
    const t = this.table;
    let e = t.find(key);
    if (e < 0) {
      if (t.size >= this.opts.maxEntries) this.makeRoom();
      e = t.add(key);
    }
    t.lastSeen[e] = ts;
    return e;
  }

  /** Nothing inside any window and no block standing: forgetting the slot changes no verdict. */
  private idle(e: number, now: number): boolean {
    const t = this.table;
    const b = t.blockOf[e];
    return (!b || b.until < now) && !inRecentWindow(t.auth.newest(e), now, this.opts.seconds) && !inRecentWindow(t.conn.newest(e), now, this.opts.connSeconds);
  }

  private failure(ev: AuthEvent): StrikeResult {
    const inf = ev.inferred;
    if (inf !== null && (!this.opts.inferredStrikes || !inf.known)) {
      this.stats.inferredNotStruck++;
      // On a connection the rules refused it would not strike either: the log must not strike it then.
      return this.rejectedFlows.has(ev.flow) ? 'not_struck' : 'inferred_not_struck';
    }
    if (this.opts.whitelist.has(ev.client)) {
      this.stats.whitelistedEvents++;
      return 'not_struck';
    }
    if (this.rejectedFlows.has(ev.flow)) {
      this.stats.failuresOnRejectedConnections++;
      return 'not_struck';
    }
    this.strike(ev.ts, ev.client, inf !== null ? 'inferred' : 'wire', ev.wire);
    return 'struck';
  }

  /** `--set --name SMTP_AUTH_ERROR` for `client` at `ts`, the `Strike N` event, and the block at the threshold. */
  private strike(ts: number, client: string, source: StrikeSource, wire: WireSnapshot): void {
    const o = this.opts;
    const t = this.table;
    const key = strikeKey(client, o.ipv6Prefix);
    const e = this.entry(key, ts);
    this.closeExpiredBlock(e, ts);
    t.auth.add(e, ts);
    const n = Math.min(t.auth.hitsWithin(e, ts, o.seconds), o.hitcount);
    this.stats.strikes++;
    this.out.event({
      type: 'strike',
      ts,
      client,
      key,
      n,
      hitcount: o.hitcount,
      prefix: LogPrefix.strikeFrom(source, n),
      inferred: source === 'inferred',
      source,
      wire,
    });
    if (n >= o.hitcount) this.blockUntil(e, client, 'auth', ts, t.auth.fullUntil(e, o.seconds));
  }

  private connect(ev: ConnectEvent): void {
    if (this.opts.whitelist.has(ev.client)) {
      this.stats.whitelistedEvents++;
      return;
    }
    const o = this.opts;
    const t = this.table;
    const key = strikeKey(ev.client, o.ipv6Prefix);
    const e = this.entry(key, ev.ts);
    this.closeExpiredBlock(e, ev.ts);
    const standing = t.blockOf[e];
    if (standing && standing.level > 0 && t.auth.hitsWithin(e, ev.ts, o.seconds) < o.hitcount) {
      // An escalated block outlasts the recent lists' windows: the block itself refuses the SYN
      // (tagged on neither list, as a kernel set's drop would not be). Level 0 keeps xt_recent's rules.
      this.stats.escalatedRejects++;
      this.reject(e, ev, standing.rule, standing.rule === 'auth' ? LogPrefix.authReject : LogPrefix.connReject);
      return;
    }
    if (t.auth.hitsWithin(e, ev.ts, o.seconds) >= o.hitcount) {
      t.auth.add(e, ev.ts); // the seed's rule tags the refused SYN again
      this.reject(e, ev, 'auth', LogPrefix.authReject);
      this.blockUntil(e, ev.client, 'auth', ev.ts, t.auth.fullUntil(e, o.seconds), 1);
      return;
    }
    t.conn.add(e, ev.ts);
    this.onConnHit?.(key, ev.client, ev.ts);
    if (t.conn.hitsWithin(e, ev.ts, o.connSeconds) >= o.connHitcount) {
      this.reject(e, ev, 'conn', LogPrefix.connReject);
      this.blockUntil(e, ev.client, 'conn', ev.ts, t.conn.fullUntil(e, o.connSeconds), 1);
    }
  }

  private reject(e: number, ev: ConnectEvent, rule: 'auth' | 'conn', prefix: string): void {
    this.rejectedFlows.add(ev.flow);
    this.stats.rejects++;
    const b = this.table.blockOf[e];
    if (b) {
      b.rejects++;
      // The refused SYN refreshes the block: xt_recent's tag does (blockUntil, after this); an
      // escalated one stands at least the base time from now, never shorter than it stood.
      if (b.level > 0) b.until = Math.max(b.until, ev.ts + this.baseSeconds(b.rule));
    }
    const block = b ? { level: b.level, until: b.until } : null;
    this.out.event({ type: 'reject', ts: ev.ts, client: ev.client, key: this.table.keyOf(e), rule, prefix, wire: ev.wire, block });
  }

  /** The time a block of `rule` lasts before escalation: --block-seconds, else the rule's window. */
  private baseSeconds(rule: 'auth' | 'conn'): number {
    return this.opts.blockSeconds ?? (rule === 'auth' ? this.opts.seconds : this.opts.connSeconds);
  }

  /**
   * Starts a block or extends the standing one. `refused` is 1 when a refused connection starts it:
   * that reject was emitted before the block existed (the LOG line comes first, as in the kernel),
   * so a new block counts it here; a standing block has already counted it.
   */
  private blockUntil(e: number, client: string, rule: 'auth' | 'conn', ts: number, until: number, refused = 0): void {
    const t = this.table;
    const old = t.blockOf[e];
    if (old && old.until >= ts) {
      if (until > old.until) old.until = until;
      return;
    }
    const key = t.keyOf(e);
    this.syncHistory();
    const level = this.history.level(key, ts);
    const o = this.opts.escalation;
    if (level > 0 && o) until = Math.max(until, ts + escalatedSeconds(this.baseSeconds(rule), level, o));
    this.history.record(key, ts);
    this.stats.escalationHistoryDropped = this.history.dropped;
    const b: BlockInterval = { key, client, rule, from: ts, until, rejects: refused, level };
    t.blockOf[e] = b;
    this.stats.blocks++;
    if (this.blocks.length < MAX_LISTED_BLOCKS) this.blocks.push(b);
    else this.stats.blocksNotListed++;
    this.out.event({ type: 'block', ts, client, key, rule, from: ts, until, level });
  }

  private closeExpiredBlock(e: number, ts: number): void {
    const b = this.table.blockOf[e];
    if (b && b.until < ts) this.table.blockOf[e] = null;
  }

  /**
   * Frees about a tenth of the table: first entries that no longer matter (no loss at all), then
   * the least recently seen unblocked ones, and blocked ones only if nothing else is left.
   */
  private makeRoom(): void {
    const t = this.table;
    const target = Math.floor(this.opts.maxEntries * 0.9);
    for (const e of t.slots()) {
      if (this.idle(e, this.now)) {
        t.delete(e);
        this.stats.expiredEntries++;
      }
    }
    if (t.size <= target) return;
    // Least recently seen first, ties in insertion order (sorting here, rarely, keeps the
    // per-event path a plain lookup).
    const byAge = t.slots().sort((a, b) => t.lastSeen[a]! - t.lastSeen[b]!);
    for (const e of byAge) {
      if (t.size <= target) return;
      const b = t.blockOf[e];
      if (!b || b.until < this.now) {
        t.delete(e);
        this.stats.evictedStriking++;
      }
    }
    for (const e of byAge) {
      if (t.size <= target) return;
      if (t.delete(e)) this.stats.evictedBlocked++;
    }
  }

  /**
   * What must survive a restart: every entry that still matters at `now` (hits inside a window or
   * a block standing). Idle entries are left out: forgetting them changes no verdict.
   */
  /** Blocks standing at `now` (until ≥ now), by rule: a walk over the table's block slots (freed slots hold null) (metrics, at scrape). */
  activeBlocks(now: number): { auth: number; conn: number } {
    let auth = 0;
    let conn = 0;
    for (const b of this.table.blockOf) {
      if (!b || b.until < now) continue;
      if (b.rule === 'auth') auth++;
      else conn++;
    }
    return { auth, conn };
  }

  exportState(now: number): StrikeState {
    const t = this.table;
    const entries: StrikeState['entries'] = [];
    for (const e of t.slots()) {
      if (this.idle(e, now)) continue;
      const b = t.blockOf[e];
      entries.push({
        key: t.keyOf(e),
        last_seen: t.lastSeen[e]!,
        auth: t.auth.toArray(e),
        conn: t.conn.toArray(e),
        block: b && b.until >= now ? { ...b } : null,
      });
    }
    this.syncHistory();
    return { version: 1, saved_at: now, entries, history: this.history.export(now) };
  }

  /** Loads a state written by exportState; entries that no longer matter at `now` are skipped. */
  importState(state: StrikeState, now: number): { entries: number; blocks: BlockInterval[] } {
    if (state.version !== 1 || !Array.isArray(state.entries)) throw new Error('unknown state file version');
    const t = this.table;
    const o = this.opts;
    const blocks: BlockInterval[] = [];
    for (const s of state.entries) {
      const block = s.block && s.block.until >= now ? { ...s.block, level: s.block.level ?? 0 } : null;
      if (block) {
        blocks.push(block);
        if (this.blocks.length < MAX_LISTED_BLOCKS) this.blocks.push(block);
      }
      // The newest stamp a ring keeps is the last one written to it.
      const newestAuth = s.auth.length ? s.auth[s.auth.length - 1]! : -Infinity;
      const newestConn = s.conn.length ? s.conn[s.conn.length - 1]! : -Infinity;
      if (!block && !inRecentWindow(newestAuth, now, o.seconds) && !inRecentWindow(newestConn, now, o.connSeconds)) continue;
      const old = t.find(s.key);
      if (old >= 0)
        t.delete(old); // a later entry for the same key replaces the earlier one
      else if (t.size >= o.maxEntries) this.makeRoom();
      const e = t.add(s.key);
      for (const x of s.auth) t.auth.add(e, x);
      for (const x of s.conn) t.conn.add(e, x);
      t.lastSeen[e] = s.last_seen;
      t.blockOf[e] = block;
    }
    this.syncHistory();
    if (Array.isArray(state.history)) this.history.import(state.history, now);
    this.stats.escalationHistoryDropped = this.history.dropped;
    this.now = now;
    return { entries: t.size, blocks };
  }

  /** Whether `client` stands blocked at time `ts`. */
  isBlocked(client: string, ts: number): boolean {
    const e = this.table.find(strikeKey(client, this.opts.ipv6Prefix));
    const b = e < 0 ? null : this.table.blockOf[e];
    return !!b && b.from <= ts && b.until >= ts;
  }
}

/**
 * The LOG line's fields for a strike that no packet carried (the log sensor): laid out as the 535
 * reply's line is (OUTPUT chain, the client is DST), so whoever reads offenders out of `Strike` lines
 * finds them in the same field; SRC is the unspecified address, DPT 0, the server port (SPT) when the
 * log named it, and every header field zero.
 */
export function logSnapshot(client: string, serverPort: number | null): WireSnapshot {
  const v6 = parseIp(client)?.length === 16 && !client.startsWith('::ffff:');
  return { ...NO_WIRE, ipVersion: v6 ? 6 : 4, src: v6 ? '::' : '0.0.0.0', dst: client, sport: serverPort ?? 0 };
}
