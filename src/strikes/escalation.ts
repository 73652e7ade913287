/**
 * Repeat offenders (issue 14): each new block of a key (an address, or an IPv6 prefix) lasts the
 * base time times `factor` per earlier block of that key that began within `lookbackSeconds`,
 * at most `capSeconds` — the behaviour of fail2ban's `bantime.increment`, sshguard's
 * `BLOCK_TIME_MULTIPLIER` and CrowdSec's `duration_expr`. A core module: it imports nothing.
 */

/**
 * The longest kernel timeout every blocker takes (the outer blocker room's MAX_TIMEOUT_SEC, copied
 * here because a core room imports no outer one; test/escalation.test.ts checks they are equal).
 */
export const ESCALATION_MAX_CAP_SECONDS = 2_147_483;

/** Earlier block starts kept per key, at most: 2^16 times any base is far past every cap. */
export const MAX_STAMPS_PER_KEY = 16;

export interface EscalationOptions {
  /** Each earlier block within the lookback multiplies the block time by this (>1, ≤16). */
  factor: number;
  /** No block lasts longer than this (seconds; at most ESCALATION_MAX_CAP_SECONDS). */
  capSeconds: number;
  /** Earlier blocks count while they began at most this long ago (seconds). */
  lookbackSeconds: number;
}

export const defaultEscalationOptions = (): EscalationOptions => ({ factor: 2, capSeconds: 604_800, lookbackSeconds: 604_800 });

/** The escalated length of a block at `level` (0: `base` itself), at most the cap. */
export function escalatedSeconds(base: number, level: number, o: EscalationOptions): number {
  if (level <= 0) return base;
  return Math.min(base * o.factor ** level, Math.max(base, o.capSeconds));
}

/** The saved form of the history (the state file's `history`). */
export interface EscalationHistoryItem {
  key: string;
  /** Start times of the key's blocks, oldest first. */
  blocks: number[];
}

/**
 * The start times of each key's earlier blocks within the lookback, bounded: at most
 * MAX_STAMPS_PER_KEY per key (older ones can no longer change a capped level) and at most
 * `maxKeys` keys (the least recently used dropped first, counted in `dropped`).
 */
export class EscalationHistory {
  /** Map order is recency: a key touched is moved to the end. */
  private readonly byKey = new Map<string, number[]>();
  /** Keys dropped for room while they still held stamps. */
  dropped = 0;

  constructor(
    public opts: EscalationOptions | null,
    public maxKeys: number,
  ) {}

  get size(): number {
    return this.byKey.size;
  }

  /** The level a new block of `key` at `now` gets: earlier blocks that began within the lookback. */
  level(key: string, now: number): number {
    const o = this.opts;
    if (!o) return 0;
    const stamps = this.byKey.get(key);
    if (!stamps) return 0;
    let n = 0;
    for (const t of stamps) if (t <= now && now - t <= o.lookbackSeconds) n++;
    return n;
  }

  /** Notes a block of `key` that began at `start`. */
  record(key: string, start: number): void {
    if (!this.opts) return;
    let stamps = this.byKey.get(key);
    if (stamps) this.byKey.delete(key);
    else stamps = [];
    this.prune(stamps, start);
    stamps.push(start);
    if (stamps.length > MAX_STAMPS_PER_KEY) stamps.splice(0, stamps.length - MAX_STAMPS_PER_KEY);
    this.byKey.set(key, stamps);
    this.trim();
  }

  /** The stamps still within the lookback at `now`, per key, least recently used first. */
  export(now: number): EscalationHistoryItem[] {
    const out: EscalationHistoryItem[] = [];
    if (!this.opts) return out;
    for (const [key, stamps] of this.byKey) {
      const kept = stamps.filter((t) => now - t <= this.opts!.lookbackSeconds);
      if (kept.length > 0) out.push({ key, blocks: kept });
    }
    return out;
  }

  /** Loads saved items (a later item for a key replaces an earlier one); stamps past the lookback are left out. */
  import(items: readonly EscalationHistoryItem[], now: number): void {
    if (!this.opts) return;
    for (const it of items) {
      const stamps = it.blocks.filter((t) => now - t <= this.opts!.lookbackSeconds).sort((a, b) => a - b);
      if (stamps.length > MAX_STAMPS_PER_KEY) stamps.splice(0, stamps.length - MAX_STAMPS_PER_KEY);
      this.byKey.delete(it.key);
      if (stamps.length > 0) this.byKey.set(it.key, stamps);
    }
    this.trim();
  }

  private prune(stamps: number[], now: number): void {
    const lb = this.opts!.lookbackSeconds;
    let i = 0;
    while (i < stamps.length && now - stamps[i]! > lb) i++;
    if (i > 0) stamps.splice(0, i);
  }

  private trim(): void {
    while (this.byKey.size > this.maxKeys) {
      const oldest = this.byKey.keys().next();
      if (oldest.done) return;
      this.byKey.delete(oldest.value);
      this.dropped++;
    }
  }
}
