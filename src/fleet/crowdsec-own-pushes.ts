import { parseDecisionAddress } from './crowdsec-address.js';

/**
 * What this host pushed and until when, so its own bouncer does not hand our bans back to us.
 * Origin and scenario cannot tell: every smtpstrike host pushes origin `crowdsec` with the same
 * scenarios, and the decision stream carries no machine id — skipping by scenario would also skip
 * the other hosts' bans, which are the point. Bounded: past `max` the oldest entry goes (that
 * ban then comes back once from the stream; applying it again is harmless, only wasted).
 */
export class OwnPushes {
  private readonly until = new Map<string, number>();

  constructor(private readonly max = 100_000) {}

  /** `key` (as pushed) is banned by us until `untilMs`; kept in the bouncer's canonical form. */
  add(key: string, untilMs: number): void {
    const value = parseDecisionAddress(key)?.value ?? key;
    this.until.delete(value); // re-insert: Map order is insertion order, the oldest first
    this.until.set(value, untilMs);
    if (this.until.size > this.max) {
      const first = this.until.keys().next();
      if (!first.done) this.until.delete(first.value);
    }
  }

  /** Whether a decision for `value` (canonical, as CrowdsecBan.value) is one of ours that has not ended. */
  has(value: string, nowMs: number): boolean {
    const u = this.until.get(value);
    if (u === undefined) return false;
    if (u <= nowMs) {
      this.until.delete(value);
      return false;
    }
    return true;
  }

  get size(): number {
    return this.until.size;
  }
}
