import type { PipelineEvent } from '../events.js';
import { COUNTS, type ClientRows } from '../replay-output/client-rows.js';
import { ReplayTally, type TallyLimits } from '../replay-output/client-tally.js';

/**
 * The summary-only tally of a threaded replay, run IN the shards: a client's events all come from
 * the shard of its strike key, in the one-thread order, so its counts and usernames are complete
 * there. Each shard tallies its own clients and sends back, once at the end, each client's counts
 * with the place of its first outcome in the one-thread order (key, sub: shard-protocol.ts Phase)
 * and the place of each of its blocks; the main thread merges the clients by that place (the
 * one-thread table's first-seen order), re-applies the `maxClients` cap over the whole run and sums
 * the totals. No event crosses the threads (native-notes/replay-threads.md).
 */

export interface ShardTallyResult extends ClientRows {
  /** Two per client: the key and sub of its first outcome. */
  first: Float64Array;
  /** Two per block event, in the shard's order: key, sub. */
  blocks: Float64Array;
  totals: ReplayTally['totals'];
  dropped: ReplayTally['dropped'];
}

/** Shard side: the ordinary ReplayTally (no output behind it) plus where each client and block first came. */
export class ShardTally {
  readonly tally: ReplayTally;
  /** Three per client: key, sub, the event's ordinal (a sweep rewrites the keys of its later events). */
  private first: number[] = [];
  /** Three per block event: key, sub, ordinal. */
  private blocks: number[] = [];

  constructor(limits: TallyLimits) {
    this.tally = new ReplayTally(null, limits);
  }

  /** One event at (key, sub), the shard's `ordinal`-th sent event. */
  event(ev: PipelineEvent, key: number, sub: number, ordinal: number): void {
    const before = this.tally.clients.size;
    this.tally.event(ev);
    if (this.tally.clients.size !== before) this.first.push(key, sub, ordinal);
    else if (ev.type === 'block') this.blocks.push(key, sub, ordinal);
  }

  /** A sweep's events from `ordinal` on came from its expired gaps: key `gapsKey`, sub negated (Shard.purge). */
  rekey(fromOrdinal: number, gapsKey: number): void {
    for (const a of [this.first, this.blocks]) {
      for (let i = a.length - 3; i >= 0 && a[i + 2]! >= fromOrdinal; i -= 3) {
        a[i] = gapsKey;
        a[i + 1] = -a[i + 1]!;
      }
    }
  }

  result(): ShardTallyResult {
    const t = this.tally;
    return { ...t.clients.rows(), first: pairs(this.first), blocks: pairs(this.blocks), totals: t.totals, dropped: t.dropped };
  }
}

function pairs(a: number[]): Float64Array {
  const out = new Float64Array((a.length / 3) * 2);
  for (let i = 0, j = 0; i < a.length; i += 3, j += 2) {
    out[j] = a[i]!;
    out[j + 1] = a[i + 1]!;
  }
  return out;
}

/** Heads merge of the shards' (key, sub) lists, ties to the lower shard: the shard of each entry in the one-thread order. */
export function mergeOrder(lists: Float64Array[]): Int32Array {
  const n = lists.length;
  const pos = new Int32Array(n);
  let total = 0;
  for (const l of lists) total += l.length / 2;
  const out = new Int32Array(total);
  for (let o = 0; o < total; o++) {
    let best = -1;
    let bk = 0;
    let bs = 0;
    for (let s = 0; s < n; s++) {
      const q = pos[s]!;
      const l = lists[s]!;
      if (q >= l.length) continue;
      const k = l[q]!;
      const sub = l[q + 1]!;
      if (best < 0 || k < bk || (k === bk && sub < bs)) {
        best = s;
        bk = k;
        bs = sub;
      }
    }
    out[o] = best;
    pos[best] = pos[best]! + 2;
  }
  return out;
}

/**
 * Main side: the shards' tallies into `into` (empty), as the one-thread tally would have made it:
 * clients in first-seen order up to `maxClients`, the rest counted as dropped; the totals summed.
 * Returns the shard of each block in the one-thread order (threaded-replay.ts sumInto).
 */
export function mergeTallies(into: ReplayTally, parts: ShardTallyResult[]): Int32Array {
  const order = mergeOrder(parts.map((p) => p.first));
  const next = new Int32Array(parts.length);
  const c = into.clients;
  const d = into.dropped;
  const max = into.limits.maxClients;
  const perUser = into.limits.usersPerClient;
  let droppedClients = 0;
  for (const s of order) {
    const p = parts[s]!;
    const r = next[s]!++;
    const k = r * COUNTS;
    const row = c.row(p.ips[r]!, c.size < max);
    if (row < 0) {
      // Kept by its shard, but past the cap over the whole run: all its outcomes are dropped ones.
      d.failures += p.counts[k]!;
      d.successes += p.counts[k + 1]!;
      d.tempfails += p.counts[k + 2]!;
      d.inferred += p.counts[k + 3]! + p.counts[k + 4]! + p.counts[k + 5]!;
      droppedClients++;
      continue;
    }
    c.addCounts(row, p.counts, k);
    for (const u of p.users[r]!) c.addUser(row, u, perUser);
  }
  let exact = true;
  for (const p of parts) {
    const pd = p.dropped;
    d.failures += pd.failures;
    d.successes += pd.successes;
    d.tempfails += pd.tempfails;
    d.inferred += pd.inferred;
    droppedClients += pd.clients;
    if (!pd.exact) exact = false;
    for (const key of Object.keys(into.totals) as (keyof ReplayTally['totals'])[]) into.totals[key] += p.totals[key];
  }
  // One thread tells dropped clients apart up to maxClients of them (ReplayTally.drop).
  if (!exact || droppedClients > max) {
    d.clients = max;
    d.exact = false;
  } else d.clients = droppedClients;
  return mergeOrder(parts.map((p) => p.blocks));
}
