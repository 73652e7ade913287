import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { isValidBlock, type CrowdsecBlock } from './crowdsec-alert.js';

/**
 * Blocks not yet accepted by the LAPI: bounded (oldest dropped first and counted: the oldest ban
 * ends soonest, so it is worth least), and kept in `STATE_DIR/crowdsec-queue.json` so a restart
 * while the LAPI is down loses nothing. Written atomically (temp file, fsync, rename) like the
 * state file; the pusher saves it at most once a second while it changes, and at stop.
 */

export const QUEUE_FILE = 'crowdsec-queue.json';

export interface QueueCounters {
  /** Blocks dropped because the queue was full. */
  dropped: number;
  /** Blocks dropped because their ban had ended before the LAPI took them. */
  expired: number;
  /** Entries of the queue file that were not blocks (hand-edited, damaged). */
  badEntries: number;
}

export class BlockQueue {
  readonly counters: QueueCounters = { dropped: 0, expired: 0, badEntries: 0 };
  private items: CrowdsecBlock[] = [];
  /** Index of the first live item: shift() on a big array is O(n), so the head moves instead. */
  private head = 0;
  private dirty = false;
  readonly path: string;

  constructor(
    stateDir: string,
    readonly max = 10_000,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new Error(`crowdsec queue size must be a whole number ≥ 1, got ${max}`);
    this.path = join(stateDir, QUEUE_FILE);
  }

  get length(): number {
    return this.items.length - this.head;
  }

  get changed(): boolean {
    return this.dirty;
  }

  push(b: CrowdsecBlock): void {
    this.items.push(b);
    this.dirty = true;
    while (this.length > this.max) {
      this.head++;
      this.counters.dropped++;
    }
    this.compact();
  }

  /** Up to n of the oldest blocks, still queued until ack(). */
  peek(n: number): CrowdsecBlock[] {
    return this.items.slice(this.head, this.head + n);
  }

  /**
   * These blocks (from peek()) were taken by the LAPI or refused for good: remove them. By
   * identity, not count: while a batch was in flight, overflow may have dropped some of it from
   * the head already, and a count would then remove blocks that were never sent.
   */
  ack(sent: readonly CrowdsecBlock[]): void {
    const done = new Set(sent);
    while (this.head < this.items.length && done.has(this.items[this.head]!)) this.head++;
    this.dirty = true;
    this.compact();
  }

  /** Drops blocks whose ban ended before `nowS`; returns how many. */
  dropExpired(nowS: number): number {
    const before = this.length;
    const live = this.items.slice(this.head).filter((b) => b.until > nowS);
    const gone = before - live.length;
    if (gone > 0) {
      this.items = live;
      this.head = 0;
      this.counters.expired += gone;
      this.dirty = true;
    }
    return gone;
  }

  /** Loads the file left by a previous run (none: empty queue). Throws only on an unreadable file. */
  load(): void {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new Error(`${this.path}: not JSON; move it away to start with an empty CrowdSec queue`);
    }
    const blocks = typeof doc === 'object' && doc !== null && 'blocks' in doc && Array.isArray(doc.blocks) ? (doc.blocks as unknown[]) : null;
    if (blocks === null) throw new Error(`${this.path}: not a CrowdSec queue file`);
    for (const v of blocks) {
      const b = toBlock(v);
      if (b) this.push(b);
      else this.counters.badEntries++;
    }
    this.dirty = false;
  }

  /** Writes the queue when it changed since the last save. */
  save(): void {
    if (!this.dirty) return;
    mkdirSync(join(this.path, '..'), { recursive: true, mode: 0o750 });
    const tmp = `${this.path}.tmp-${process.pid}`;
    const fd = openSync(tmp, 'w', 0o640);
    try {
      writeSync(fd, JSON.stringify({ version: 1, blocks: this.items.slice(this.head) }));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    this.dirty = false;
  }

  private compact(): void {
    // Let the dead head go once it is half the array: amortised O(1) per item.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

function toBlock(v: unknown): CrowdsecBlock | null {
  if (typeof v !== 'object' || v === null) return null;
  const r = v as Record<string, unknown>;
  if (typeof r.key !== 'string' || typeof r.client !== 'string' || (r.rule !== 'auth' && r.rule !== 'conn')) return null;
  if (typeof r.from !== 'number' || typeof r.until !== 'number') return null;
  const b: CrowdsecBlock = { key: r.key, client: r.client, rule: r.rule, from: r.from, until: r.until };
  if (typeof r.hits === 'number') b.hits = r.hits;
  if (typeof r.windowS === 'number') b.windowS = r.windowS;
  return isValidBlock(b) ? b : null;
}
