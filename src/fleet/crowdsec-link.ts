import type { BlockEvent } from '../events.js';
import type { CrowdsecBan } from './crowdsec-bouncer.js';
import { CrowdsecBouncer, type BouncerStats } from './crowdsec-bouncer.js';
import type { CrowdsecConfig } from './crowdsec-config.js';
import { LapiHttp, smtpstrikeUserAgent } from './crowdsec-http.js';
import { silentLog, type CrowdsecLog } from './crowdsec-log.js';
import { OwnPushes } from './crowdsec-own-pushes.js';
import { CrowdsecPusher, type PusherStats } from './crowdsec-pusher.js';

/**
 * The one object watch holds for CrowdSec: a pusher when the config has machine credentials, a
 * bouncer when it has a bouncer key, sharing the memory of what we pushed (so our own bans do not
 * come back to us). It knows nothing of the blocker: bans and unbans go to the callbacks, and the
 * caller's mayApply says which addresses may never be blocked.
 */

export interface CrowdsecLinkOptions {
  config: CrowdsecConfig;
  /** Where the push queue is kept (watch: the state file's directory). */
  stateDir: string;
  onBan: (ban: CrowdsecBan) => void;
  onUnban: (ban: CrowdsecBan) => void;
  /** False for whitelisted, loopback and the host's own addresses. */
  mayApply: (ban: CrowdsecBan) => boolean;
  /** watch --dry-run: push alerts as simulated (no bouncer applies them). */
  simulated?: boolean;
  log?: CrowdsecLog;
  /** For the User-Agent (default: package.json's). */
  version?: string;
}

export interface CrowdsecLinkStats {
  push: (PusherStats & { queued: number; dropped: number; expired: number }) | null;
  bouncer: BouncerStats | null;
}

export class CrowdsecLink {
  readonly pusher: CrowdsecPusher | null = null;
  readonly bouncer: CrowdsecBouncer | null = null;

  constructor(opts: CrowdsecLinkOptions) {
    const c = opts.config;
    const http = new LapiHttp({ url: c.url, userAgent: smtpstrikeUserAgent(opts.version) });
    const own = new OwnPushes();
    const log = opts.log ?? silentLog;
    if (c.machineId !== undefined && c.password !== undefined) {
      this.pusher = new CrowdsecPusher({
        http,
        credentials: { machineId: c.machineId, password: c.password },
        stateDir: opts.stateDir,
        maxQueue: c.maxQueue,
        ownPushes: own,
        log,
        simulated: opts.simulated ?? false,
      });
    }
    if (c.bouncerKey !== undefined) {
      this.bouncer = new CrowdsecBouncer({
        http,
        apiKey: c.bouncerKey,
        intervalMs: c.pollInterval * 1000,
        ownPushes: own,
        log,
        onBan: opts.onBan,
        onUnban: opts.onUnban,
        mayApply: opts.mayApply,
        ...(c.origins ? { origins: c.origins } : {}),
        ...(c.scenariosContaining ? { scenariosContaining: c.scenariosContaining } : {}),
      });
    }
  }

  /** Loads the queue left by the last run (throws on an unreadable queue file) and starts polling. */
  start(): void {
    this.pusher?.start();
    this.bouncer?.start();
  }

  /**
   * A block of ours, from the strike engine (never one that came from the bouncer: that would echo
   * it back to the LAPI). `threshold`: the hitcount and window of its rule, for the alert's text.
   */
  block(ev: BlockEvent, threshold?: { hits: number; windowS: number }): void {
    this.pusher?.push({
      key: ev.key,
      client: ev.client,
      rule: ev.rule,
      from: ev.from,
      until: ev.until,
      ...(threshold ? { hits: threshold.hits, windowS: threshold.windowS } : {}),
    });
  }

  async stop(): Promise<void> {
    await Promise.all([this.pusher?.stop(), this.bouncer?.stop()]);
  }

  stats(): CrowdsecLinkStats {
    const p = this.pusher;
    return {
      push: p ? { ...p.stats, queued: p.queued, dropped: p.queue.counters.dropped, expired: p.queue.counters.expired } : null,
      bouncer: this.bouncer ? { ...this.bouncer.stats } : null,
    };
  }
}
