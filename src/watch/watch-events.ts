import type { PipelineEvent } from '../events.js';
import { strikeLogLine } from '../strikes/iptables-log.js';
import { escalatedSeconds } from '../strikes/escalation.js';
import {
  authLogLine,
  authLogProps,
  blockLogFields,
  blockLogMsg,
  blockLogProps,
  inferredAuthMsg,
  rejectLogFields,
  rejectLogProps,
  strikeLogFields,
  strikeLogProps,
} from './watch-log-fields.js';
import { localAddresses, netnsAddresses, ProtectedAddresses } from './own-addresses.js';
import { kernelTimeout, MAX_SKIP_WARNINGS } from './watch-settings.js';
import { WatchState } from './watch-state.js';

const OUTCOME_OF_EVENT = { auth_failure: 'failure', auth_success: 'success', auth_tempfail: 'tempfail' } as const;

/** Pipeline events → log lines and kernel blocks, never on the host's own addresses (re-read periodically and on SIGHUP). */
export abstract class WatchEvents extends WatchState {
  /**
   * Re-reads the host's addresses (the namespace's, with --netns). A failed read keeps the last
   * list (loopback is always in it) and is logged. Blocks that now hit an own address are lifted.
   */
  async refreshOwnAddresses(): Promise<void> {
    let addrs: string[];
    try {
      addrs = this.s.netns ? await netnsAddresses(this.runner) : localAddresses();
    } catch (e) {
      this.log.error(
        { event: 'own_addresses_failed', err: (e as Error).message },
        `cannot read this host's addresses; keeping the last list: ${(e as Error).message}`,
      );
      return;
    }
    const next = new ProtectedAddresses(addrs);
    const added = [...next.own].filter((a) => !this.own.own.has(a));
    const removed = [...this.own.own].filter((a) => !next.own.has(a));
    this.own = next;
    this.skipWarned.clear();
    if (added.length === 0 && removed.length === 0) return;
    this.log.info({ event: 'own_addresses', own: [...next.own], added, removed }, 'own addresses (never blocked) read');
    for (const e of this.pipeline.strikes.exportState(this.now()).entries) {
      const hit = e.block ? next.hit(e.key) : null;
      if (hit === null) continue;
      this.log.warn({ event: 'unblock_own_address', key: e.key, own: hit }, `unblocking ${e.key}: it now holds this host's address ${hit}`);
      this.batcher.push({ op: 'del', addr: e.key });
      this.links?.lifted(e.key, 'own_address');
    }
  }

  protected mayBlock(key: string): boolean {
    return this.own.hit(key) === null;
  }

  event(ev: PipelineEvent): void {
    switch (ev.type) {
      case 'strike':
        this.counts.strikes[ev.source]++;
        this.dirty = true;
        if (this.raw) this.raw.line(40, strikeLogProps(ev), strikeLogLine(ev));
        else this.log.warn(strikeLogFields(ev), strikeLogLine(ev));
        this.links?.authHit(ev.key, ev.client, ev.ts);
        break;
      case 'reject':
        this.counts.rejects[ev.rule]++;
        this.dirty = true;
        if (this.raw) this.raw.line(40, rejectLogProps(ev), strikeLogLine(ev));
        else this.log.warn(rejectLogFields(ev), strikeLogLine(ev));
        // A refused SYN refreshes the kernel timeout (queued ops coalesce); an escalated block's by
        // the time it has left when that is longer, so the refresh never shortens it.
        this.block(ev.key, false, ev.block && ev.block.level > 0 ? kernelTimeout(Math.max(this.s.blockSeconds, ev.block.until - ev.ts)) : this.s.blockSeconds);
        if (ev.rule === 'auth') this.links?.authHit(ev.key, ev.client, ev.ts); // the seed tags it again
        break;
      case 'block':
        this.counts.blocks[ev.rule]++;
        this.dirty = true;
        {
          const timeout = this.blockTimeout(ev.level);
          if (this.raw) this.raw.line(40, blockLogProps(ev, timeout), blockLogMsg(ev));
          else this.log.warn(blockLogFields(ev, timeout), blockLogMsg(ev));
          const applied = this.block(ev.key, true, timeout); // outside ?.: it must run without links too
          this.links?.ownBlock(ev, applied);
        }
        break;
      case 'auth_failure':
      case 'auth_success':
      case 'auth_tempfail':
        if (this.tarpit && this.pipeline.strikes.refusedFlow(ev.flow)) {
          // The kernel redirected this refused connection to the tarpit: the decoy's reply, not the server's.
          this.counts.tarpitWire++;
          this.log.debug(
            { event: 'tarpit_wire', client: ev.client, client_port: ev.clientPort, code: ev.code },
            `${ev.code} from the tarpit (redirected connection)`,
          );
          break;
        }
        this.counts.auth[ev.inferred ? 'inferred' : 'wire'][OUTCOME_OF_EVENT[ev.type]]++;
        if (this.raw) this.raw.line(30, authLogProps(ev), ev.inferred ? inferredAuthMsg(ev.code, ev.inferred.recordLen) : ev.text);
        else {
          const [fields, msg] = authLogLine(ev);
          this.log.info(fields, msg);
        }
        break;
      case 'starttls':
        this.log.debug({ event: 'starttls', client: ev.client, server_port: ev.serverPort }, 'session went opaque (TLS)');
        break;
      default:
        break;
    }
  }

  /** The kernel timeout of a new block at `level`: --block-seconds times the factor per level, at most the cap (strikes/escalation.ts). */
  private blockTimeout(level: number): number {
    const esc = this.pipeline.strikes.opts.escalation;
    if (level <= 0 || !esc) return this.s.blockSeconds;
    return kernelTimeout(escalatedSeconds(this.s.blockSeconds, level, esc));
  }

  /** Puts `key` in the kernel set (refreshing its timeout); a new block also ends its open sessions. False: an own address. */
  protected block(key: string, isNew: boolean, timeoutSec = this.s.blockSeconds): boolean {
    const hit = this.own.hit(key);
    if (hit !== null) {
      if (isNew) this.counts.blocksSkipped++;
      if (!this.skipWarned.has(key)) {
        if (this.skipWarned.size >= MAX_SKIP_WARNINGS) this.skipWarned.clear();
        this.skipWarned.add(key);
        this.log.warn(
          { event: 'block_skipped', key, own: hit, reason: 'own address' },
          `not blocking ${key}: it holds this host's own or loopback address ${hit}`,
        );
      }
      return false;
    }
    this.batcher.push({ op: 'add', addr: key, timeoutSec });
    if (isNew && this.s.killEstablished) this.killer.kill(key, this.log);
    return true;
  }
}
