import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { parseBlockAddr, type BlockAddr } from '../blocker/address.js';
import { MAX_TIMEOUT_SEC } from '../blocker/types.js';
import type { BlockEvent } from '../events.js';
import type { FleetBlock } from '../fleet/block-stream.js';
import type { CrowdsecBan } from '../fleet/crowdsec-bouncer.js';
import type { CrowdsecConfig } from '../fleet/crowdsec-config.js';
import { CrowdsecLink } from '../fleet/crowdsec-link.js';
import { RedisFleet } from '../fleet/redis-fleet.js';
import type { FleetThreshold } from '../fleet/redis-fleet-types.js';
import type { StrikeEngine } from '../strikes/strike-engine.js';
import { BlockHooks, type BlockHookEvent } from './block-hooks.js';

/**
 * watch's links to the world beyond its own firewall (issue 13): the Redis fleet (strikes and new
 * connections counted fleet-wide, blocks shared on a stream), CrowdSec (our blocks pushed as alerts,
 * the LAPI's bans applied) and the --on-block / --on-unblock programs. WatchService keeps its one
 * block path (own-address check, batcher, --kill-established) and calls in here at a few places;
 * everything here is synchronous or fire-and-forget on the packet path.
 *
 * Which blocks go where:
 * - the strike engine's own blocks: hook, and one CrowdSec alert;
 * - a threshold the fleet reached on one of this host's hits: blocked here (the other hosts read it
 *   from the stream), hook, and one CrowdSec alert from the host that published it;
 * - another host's fleet block, a CrowdSec ban: blocked here for their time left, hook; never pushed
 *   to CrowdSec (that would echo them back as our alerts).
 * A block already standing here (from any of these) is not announced twice. Whitelisted, loopback
 * and own addresses are never blocked from the fleet or CrowdSec, as for our own blocks.
 */

export interface LinkSettings {
  /** --fleet URL. */
  fleet?: string;
  /** --fleet-host NAME (default: the hostname). */
  fleetHost?: string;
  /** Redis' time to answer a hit before it is decided locally (ms; tests). */
  fleetBudgetMs?: number;
  crowdsec?: CrowdsecConfig;
  onBlock?: string[];
  onUnblock?: string[];
}

/** The options the command line and the config file give (src/options/watch.ts). */
export interface LinkFlags {
  fleet?: string;
  fleetHost?: string;
  fleetBudgetMs?: number;
  crowdsec?: CrowdsecConfig;
  onBlock?: string[];
  onUnblock?: string[];
}

/** The link settings of the flags; undefined when none is set (watch runs as before). */
export function linkSettingsFrom(f: LinkFlags): LinkSettings | undefined {
  const s: LinkSettings = {
    ...(f.fleet !== undefined ? { fleet: f.fleet } : {}),
    ...(f.fleetHost !== undefined ? { fleetHost: f.fleetHost } : {}),
    ...(f.fleet !== undefined && f.fleetBudgetMs !== undefined ? { fleetBudgetMs: f.fleetBudgetMs } : {}),
    ...(f.crowdsec !== undefined ? { crowdsec: f.crowdsec } : {}),
    ...(f.onBlock !== undefined ? { onBlock: f.onBlock } : {}),
    ...(f.onUnblock !== undefined ? { onUnblock: f.onUnblock } : {}),
  };
  return Object.keys(s).length > 0 ? s : undefined;
}

/** What BlockLinks needs of WatchService. */
export interface LinkHost {
  /**
   * Puts `key` in the kernel set for `timeoutSec` through watch's own block path (its own-address
   * check, the batcher, --kill-established); false when the own-address check refused it.
   */
  apply(key: string, timeoutSec: number): boolean;
  /** Takes `key` out of the kernel set. */
  remove(key: string): void;
  /** The own or loopback address blocking `key` would hit, or null. */
  ownHit(key: string): string | null;
  /** The current logger (SIGHUP may replace it). */
  log(): Logger;
  /** The current --block-seconds. */
  blockSeconds(): number;
}

type Origin = 'own' | 'fleet' | 'crowdsec';

/** Blocks remembered (to announce each once and lift only CrowdSec's own), at most; expired ones go first. */
const MAX_TRACKED = 262_144;
/** How long shutdown waits for running --on-block programs. */
export const HOOKS_DRAIN_MS = 5000;

export interface LinkStats {
  /** Thresholds the fleet reached on this host's hits that blocked here. */
  fleetBlocks: number;
  /** Other hosts' fleet blocks applied here. */
  fleetApplied: number;
  /** CrowdSec bans applied, lifted; refused (IPv4 ranges, which no blocker set holds; protected). */
  crowdsecApplied: number;
  crowdsecLifted: number;
  crowdsecRefused: number;
  /** Blocks refused because the key is whitelisted here (fleet thresholds from other hosts' hits). */
  whitelistedSkipped: number;
  /** Tracked blocks forgotten early (MAX_TRACKED reached): they may be announced twice. */
  trackedDropped: number;
}

export class BlockLinks {
  readonly fleet: RedisFleet | null = null;
  readonly crowdsec: CrowdsecLink | null = null;
  readonly hooks: BlockHooks | null = null;
  readonly stats: LinkStats = {
    fleetBlocks: 0,
    fleetApplied: 0,
    crowdsecApplied: 0,
    crowdsecLifted: 0,
    crowdsecRefused: 0,
    whitelistedSkipped: 0,
    trackedDropped: 0,
  };
  private readonly active = new Map<string, { untilMs: number; origin: Origin }>();

  constructor(
    s: LinkSettings,
    private readonly host: LinkHost,
    private readonly strikes: StrikeEngine,
    opts: { stateFile: string; dryRun: boolean },
  ) {
    // Through host.log() each time: SIGHUP may replace the logger.
    const log = {
      info: (o: object, m: string) => host.log().info(o, m),
      warn: (o: object, m: string) => host.log().warn(o, m),
      error: (o: object, m: string) => host.log().error(o, m),
    };
    if (s.onBlock || s.onUnblock) this.hooks = new BlockHooks({ onBlock: s.onBlock ?? null, onUnblock: s.onUnblock ?? null, log });
    if (s.fleet !== undefined) {
      const o = strikes.opts;
      this.fleet = new RedisFleet({
        url: s.fleet,
        ...(s.fleetHost !== undefined ? { host: s.fleetHost } : {}),
        ...(s.fleetBudgetMs !== undefined ? { budgetMs: s.fleetBudgetMs } : {}),
        auth: { hitcount: o.hitcount, seconds: o.seconds },
        conn: { hitcount: o.connHitcount, seconds: o.connSeconds },
        blockSeconds: host.blockSeconds(),
        maxLocalKeys: o.maxEntries,
        logger: log,
        onThreshold: (t) => this.fleetThreshold(t),
        onRemoteBlock: (b) => this.fleetBlock(b),
        mayBlock: (key, client) => this.mayBlock(key, client),
      });
      strikes.onConnHit = (key, client, ts) => this.fleet?.hit('conn', key, client, ts);
    }
    if (s.crowdsec) {
      this.crowdsec = new CrowdsecLink({
        config: s.crowdsec,
        stateDir: dirname(opts.stateFile),
        simulated: opts.dryRun,
        log,
        mayApply: (ban) => this.mayBlock(ban.value, ban.value),
        onBan: (ban) => this.crowdsecBan(ban),
        onUnban: (ban) => this.crowdsecUnban(ban),
      });
    }
  }

  /** After the blocker's init: connects to Redis (in the background) and CrowdSec (throws on an unreadable queue file). */
  start(): void {
    this.fleet?.start();
    this.crowdsec?.start();
    const log = this.host.log();
    if (this.fleet)
      log.info({ event: 'fleet_start', url: this.fleet.redacted, host: this.fleet.host }, `fleet: counting on ${this.fleet.redacted} as ${this.fleet.host}`);
    if (this.crowdsec)
      log.info(
        { event: 'crowdsec_start', machine: this.crowdsec.pusher !== null, bouncer: this.crowdsec.bouncer !== null },
        'crowdsec: linked to the Local API',
      );
  }

  /** A strike, or a SYN the auth rule refused (the seed tags it again): one fleet hit. Never waits. */
  authHit(key: string, client: string, ts: number): void {
    this.fleet?.hit('auth', key, client, ts);
  }

  /** A block the strike engine made; `applied`: watch put it in the kernel (not an own address). */
  ownBlock(ev: BlockEvent, applied: boolean): void {
    if (!applied) return;
    if (!this.track(ev.key, ev.until * 1000, 'own')) return;
    this.pushAlert(ev);
    this.fire({ event: 'block', address: ev.client, key: ev.key, rule: ev.rule, until: Math.round(ev.until) });
  }

  /** watch lifted a block itself (the key now holds an own address). */
  lifted(key: string, reason: string): void {
    this.active.delete(key);
    this.fire({ event: 'unblock', address: key, key, rule: reason, until: 0 });
  }

  /** Whether `key` (an address or IPv6 prefix) may be blocked here on others' word: not own, loopback or whitelisted. */
  mayBlock(key: string, client: string): boolean {
    if (this.host.ownHit(key) !== null) return false;
    if (this.whitelisted(key, client)) {
      this.stats.whitelistedSkipped++;
      return false;
    }
    return true;
  }

  private whitelisted(key: string, client: string): boolean {
    const wl = this.strikes.opts.whitelist;
    if (wl.entries.length === 0) return false;
    if (wl.has(client) || (!key.includes('/') && wl.has(key))) return true;
    if (!key.includes('/')) return false;
    // An IPv6 prefix key: refused when it holds a whitelisted network or lies inside one.
    let k: BlockAddr;
    try {
      k = parseBlockAddr(key);
    } catch {
      return false;
    }
    for (const e of wl.entries) {
      let w: BlockAddr;
      try {
        w = parseBlockAddr(e, { ipv4Prefix: true });
      } catch {
        continue;
      }
      if (w.family === k.family && samePrefix(w.bytes, k.bytes, Math.min(w.prefix, k.prefix))) return true;
    }
    return false;
  }

  private fleetThreshold(t: FleetThreshold): void {
    if (this.standing(t.key, t.untilMs)) return; // the engine (or the stream) blocked it already
    if (!this.mayBlock(t.key, t.client)) return;
    const timeoutSec = timeLeft(t.untilMs);
    if (timeoutSec === 0) return;
    this.host.log().warn(
      {
        event: 'block',
        rule: t.rule,
        client: t.client,
        key: t.key,
        source: `fleet_${t.source}`,
        count: t.count,
        until: t.untilMs / 1000,
        timeout_s: timeoutSec,
      },
      `blocking ${t.key} (fleet: ${t.count} ${t.rule === 'auth' ? 'failures' : 'connections'} in the window)`,
    );
    if (!this.host.apply(t.key, timeoutSec)) return;
    this.stats.fleetBlocks++;
    this.track(t.key, t.untilMs, t.published ? 'own' : 'fleet');
    const nowS = Date.now() / 1000;
    // The host that published the block pushes its alert; the others read it from the stream.
    if (t.published) this.pushAlert({ type: 'block', ts: nowS, client: t.client, key: t.key, rule: t.rule, from: nowS, until: t.untilMs / 1000, level: 0 });
    this.fire({ event: 'block', address: t.client, key: t.key, rule: t.rule, until: Math.round(t.untilMs / 1000) });
  }

  /** Another host's block (RedisFleet asked mayBlock already). */
  private fleetBlock(b: FleetBlock): void {
    if (this.standing(b.key, b.untilMs)) return;
    const timeoutSec = timeLeft(b.untilMs);
    if (timeoutSec === 0) return;
    this.host
      .log()
      .warn(
        { event: 'fleet_block', from_host: b.host, rule: b.rule, client: b.client, key: b.key, count: b.count, until: b.untilMs / 1000, timeout_s: timeoutSec },
        `blocking ${b.key} (fleet block from ${b.host})`,
      );
    if (!this.host.apply(b.key, timeoutSec)) return;
    this.stats.fleetApplied++;
    this.track(b.key, b.untilMs, 'fleet');
    this.fire({ event: 'block', address: b.client, key: b.key, rule: b.rule, until: Math.round(b.untilMs / 1000) });
  }

  private crowdsecBan(ban: CrowdsecBan): void {
    let key: string;
    try {
      key = parseBlockAddr(ban.value).addr;
    } catch (e) {
      // IPv4 ranges (CAPI lists hold /24s): no blocker set holds IPv4 prefixes.
      this.stats.crowdsecRefused++;
      this.host.log().info({ event: 'crowdsec_ban_skipped', value: ban.value, reason: (e as Error).message }, `crowdsec: not applying ${ban.value}`);
      return;
    }
    if (this.standing(key, ban.untilMs)) return;
    const timeoutSec = timeLeft(ban.untilMs);
    if (timeoutSec === 0) return;
    this.host
      .log()
      .warn(
        { event: 'crowdsec_block', key, scenario: ban.scenario, origin: ban.origin, until: ban.untilMs / 1000, timeout_s: timeoutSec },
        `blocking ${key} (crowdsec ${ban.origin}: ${ban.scenario})`,
      );
    if (!this.host.apply(key, timeoutSec)) {
      this.stats.crowdsecRefused++;
      return;
    }
    this.stats.crowdsecApplied++;
    this.track(key, ban.untilMs, 'crowdsec');
    this.fire({ event: 'block', address: key, key, rule: 'crowdsec', until: Math.round(ban.untilMs / 1000) });
  }

  /** Lifted only when the block here is CrowdSec's: our own and the fleet's blocks run their time. */
  private crowdsecUnban(ban: CrowdsecBan): void {
    let key: string;
    try {
      key = parseBlockAddr(ban.value).addr;
    } catch {
      return;
    }
    const a = this.active.get(key);
    if (!a || a.origin !== 'crowdsec' || a.untilMs <= Date.now()) return;
    this.active.delete(key);
    this.stats.crowdsecLifted++;
    this.host.log().warn({ event: 'crowdsec_unblock', key, scenario: ban.scenario }, `unblocking ${key} (crowdsec decision deleted)`);
    this.host.remove(key);
    this.fire({ event: 'unblock', address: key, key, rule: 'crowdsec', until: 0 });
  }

  private pushAlert(ev: BlockEvent): void {
    if (!this.crowdsec) return;
    const o = this.strikes.opts;
    this.crowdsec.block(ev, ev.rule === 'auth' ? { hits: o.hitcount, windowS: o.seconds } : { hits: o.connHitcount, windowS: o.connSeconds });
  }

  private fire(ev: BlockHookEvent): void {
    this.hooks?.fire(ev);
  }

  /** A block of `key` stands here until at least `untilMs`. */
  private standing(key: string, untilMs: number): boolean {
    const a = this.active.get(key);
    return a !== undefined && a.untilMs >= untilMs - 1000;
  }

  /** Remembers a block; false when one was standing already (announced then). */
  private track(key: string, untilMs: number, origin: Origin): boolean {
    const now = Date.now();
    const a = this.active.get(key);
    if (a && a.untilMs > now) {
      if (untilMs > a.untilMs) a.untilMs = untilMs;
      return false;
    }
    if (this.active.size >= MAX_TRACKED) {
      for (const [k, v] of this.active) if (v.untilMs <= now) this.active.delete(k);
      if (this.active.size >= MAX_TRACKED) {
        const oldest = this.active.keys().next().value;
        if (oldest !== undefined) this.active.delete(oldest);
        this.stats.trackedDropped++;
      }
    }
    this.active.set(key, { untilMs, origin });
    return true;
  }

  /** Stops counting with Redis and talking to CrowdSec (its queue is saved); before the batcher's last drain. */
  async close(): Promise<void> {
    await this.fleet?.close();
    await this.crowdsec?.stop();
  }

  /** Waits for running --on-block programs, at most `ms`; true when they all ended. */
  async drained(ms = HOOKS_DRAIN_MS): Promise<boolean> {
    if (!this.hooks) return true;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const done = await Promise.race([this.hooks.drained().then(() => true), late]);
    clearTimeout(timer);
    return done;
  }

  /** For watch's `event: "stats"` line. */
  statsLine(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const f = this.fleet;
    if (f) {
      out.fleet = {
        health: f.health,
        queued: f.queued,
        hits: f.stats.hits,
        fleet_hits: f.stats.fleetHits,
        local_hits: f.stats.localHits,
        late_replies: f.stats.lateReplies,
        replayed: f.stats.replayed,
        thresholds: { fleet: f.stats.thresholdsFleet, local: f.stats.thresholdsLocal, reconciled: f.stats.thresholdsReconciled },
        published: f.stats.published,
        remote_blocks: f.stats.remoteBlocks,
        remote_skipped: f.stats.remoteSkipped,
        remote_expired: f.stats.remoteExpired,
        journal_dropped: f.stats.journalDropped,
        errors: f.stats.errors,
        degraded_episodes: f.stats.degradedEpisodes,
        reconciliations: f.stats.reconciliations,
        latency_ms: f.latency.count > 0 ? { p50: f.latency.quantile(0.5), p99: f.latency.quantile(0.99) } : null,
        blocks_here: this.stats.fleetBlocks,
        applied: this.stats.fleetApplied,
      };
    }
    if (this.crowdsec) {
      const c = this.crowdsec.stats();
      out.crowdsec = {
        push: c.push ? snakeKeys(c.push) : null,
        bouncer: c.bouncer ? snakeKeys(c.bouncer) : null,
        applied: this.stats.crowdsecApplied,
        lifted: this.stats.crowdsecLifted,
        refused: this.stats.crowdsecRefused,
      };
    }
    if (this.hooks) {
      const h = this.hooks.stats;
      out.hooks = {
        started: h.started,
        succeeded: h.succeeded,
        failed: h.failed,
        timed_out: h.timedOut,
        dropped: h.dropped,
        running: h.running,
        queued: h.queued,
      };
    }
    out.links = { whitelisted_skipped: this.stats.whitelistedSkipped, tracked: this.active.size, tracked_dropped: this.stats.trackedDropped };
    return out;
  }
}

/** Whole seconds from now to `untilMs`, at least 1 while it runs, at most a kernel timeout; 0 when over. */
function timeLeft(untilMs: number): number {
  const ms = untilMs - Date.now();
  if (ms <= 0) return 0;
  return Math.min(Math.max(1, Math.ceil(ms / 1000)), MAX_TIMEOUT_SEC);
}

/** The log's snake_case: `consecutiveFailures` → `consecutive_failures`. */
function snakeKeys(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]));
}

/** Whether the first `bits` bits of `a` and `b` agree. */
function samePrefix(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  for (let i = 0; i * 8 < bits; i++) {
    const keep = Math.min(8, bits - 8 * i);
    const m = (0xff << (8 - keep)) & 0xff;
    if (((a[i] ?? 0) & m) !== ((b[i] ?? 0) & m)) return false;
  }
  return true;
}
