import type { Zone } from '../accounts/clock.js';
import { mergeBackendLines, SMTP_SERVICES, wallToEpoch } from './align.js';
import { joinAttempts, prefixMapper, type JoinStats } from './join.js';
import type { LogStore } from './log-store.js';
import { CHUNK_BITS, CHUNK_MASK, groupRows, Slabs, StringTable } from './columns.js';
import type { TimelineEvent } from './report-doc.js';
import type { Attempt, AttemptOutcome, LogAuth, Seen, WireAuth, WireSession } from './types.js';
import type { WireData } from './wire.js';

/**
 * The join address by address (issue 15: bounded memory). The old way made every log line an
 * object, merged the back ends' lines, joined everything and kept every attempt; here each join
 * address's log lines (from the columns of LogStore) become objects only while that address is
 * joined, with the same functions (mergeBackendLines, joinAttempts) on that address's share — which
 * is what those functions did per address anyway — and its attempts go to `each` and are dropped.
 */

/** Events listed in the document in all (the addresses most urgent first take them; the rest are counted). */
export const MAX_LISTED_EVENTS = 200_000;

/** The zone estimate's input: every `step`-th SMTP line without a zone, as estimateZone picks them (at most 3,000). */
export function zoneSample(store: LogStore): LogAuth[] {
  let cand = 0;
  const isCand = (i: number): boolean => store.guessedAt(i) && SMTP_SERVICES.has(store.serviceAt(i));
  for (let i = 0; i < store.size; i++) if (isCand(i)) cand++;
  const step = Math.max(1, Math.ceil(cand / 3000));
  const out: LogAuth[] = [];
  let k = 0;
  for (let i = 0; i < store.size; i++) {
    if (!isCand(i)) continue;
    if (k % step === 0) out.push(store.get(i));
    k++;
  }
  return out;
}

export function joinByAddress(
  wire: WireData,
  store: LogStore,
  zone: Zone,
  tolerance: number,
  each: (ip: string, attempts: Attempt[], stats: JoinStats, backendPairs: number) => void,
): void {
  const { auths, sessions } = wire;
  const clients = auths.clients; // one table for both (wire.ts)
  const nClients = clients.list.length;
  // The wire's rows per address, in their order; the addresses with AUTH outcomes in the order of their first one.
  const authRows = groupRows(auths.size, nClients, (i) => auths.clientIdAt(i));
  const sessionRows = groupRows(sessions.size, nClients, (i) => sessions.clientIdAt(i));
  const authClients: string[] = [];
  const met = new Uint8Array(nClients);
  for (let i = 0; i < auths.size; i++) {
    const c = auths.clientIdAt(i);
    if (met[c] === 0) {
      met[c] = 1;
      authClients.push(clients.list[c]!);
    }
  }
  const mapIp = prefixMapper(authClients);
  // The log's addresses per join address (an IPv6 prefix of a state file may gather several).
  const { start, order } = store.groups();
  const idsOf = new Map<string, number[]>();
  for (let id = 0; id < store.ips.list.length; id++) {
    const key = mapIp(store.ips.list[id]!);
    const l = idsOf.get(key);
    if (l) l.push(id);
    else idsOf.set(key, [id]);
  }
  const keys = new Set<string>(authClients);
  for (const k of idsOf.keys()) keys.add(k);
  for (const key of keys) {
    const ids = idsOf.get(key) ?? [];
    const idx: number[] = [];
    for (const id of ids) for (let p = start[id]!; p < start[id + 1]!; p++) idx.push(order[p]!);
    if (ids.length > 1) idx.sort((a, b) => a - b); // input order, as one list of every line had them
    const events: LogAuth[] = new Array<LogAuth>(idx.length);
    for (let k = 0; k < idx.length; k++) {
      const e = store.get(idx[k]!);
      if (e.guessed) e.ts = wallToEpoch(e.wall, zone);
      events[k] = e;
    }
    const { merged, pairs } = mergeBackendLines(events);
    const c = clients.ids.get(key);
    const w: WireAuth[] = [];
    const s: WireSession[] = [];
    if (c !== undefined) {
      for (let p = authRows.start[c]!; p < authRows.start[c + 1]!; p++) w.push(auths.get(authRows.order[p]!));
      for (let p = sessionRows.start[c]!; p < sessionRows.start[c + 1]!; p++) s.push(sessions.get(sessionRows.order[p]!));
    }
    const { attempts, stats } = joinAttempts(w, s, merged, tolerance);
    each(key, attempts, stats, pairs);
  }
}

const OUTCOME: readonly AttemptOutcome[] = ['failure', 'success', 'tempfail'];
const SEEN: readonly Seen[] = ['wire', 'log', 'both'];

/** Each address's first `perAddress` attempts in columns (time, account, outcome/seen/TLS), for the document's `events`. */
export class EventList {
  private size = 0;
  private ts: Float64Array[] = [];
  private user: Int32Array[] = [];
  /** outcome | seen << 2 | TLS << 4 */
  private bits: Uint8Array[] = [];
  private slabs = new Slabs();
  private readonly users = new StringTable();
  private readonly at = new Map<string, { from: number; n: number; total: number }>();

  constructor(private readonly perAddress: number) {}

  add(ip: string, attempts: readonly Attempt[]): void {
    const n = Math.min(this.perAddress, attempts.length);
    this.at.set(ip, { from: this.size, n, total: attempts.length });
    for (let k = 0; k < n; k++) {
      const a = attempts[k]!;
      const i = this.size++;
      const c = i >>> CHUNK_BITS;
      const j = i & CHUNK_MASK;
      if (j === 0 && c === this.ts.length) {
        this.ts.push(this.slabs.f64());
        this.user.push(this.slabs.i32());
        this.bits.push(this.slabs.u8());
      }
      this.ts[c]![j] = a.ts;
      this.user[c]![j] = this.users.id(a.user);
      this.bits[c]![j] = OUTCOME.indexOf(a.outcome) | (SEEN.indexOf(a.seen) << 2) | (a.tls ? 16 : 0);
    }
  }

  /** Drops the columns (the document has taken its events). */
  release(): void {
    this.ts = [];
    this.user = [];
    this.bits = [];
    this.slabs = new Slabs();
    this.size = 0;
    this.at.clear();
  }

  /** The address's events, at most `budget`; `notListed`: the rest of its attempts. */
  take(ip: string, budget: number): { events: TimelineEvent[]; notListed: number } {
    const e = this.at.get(ip);
    if (!e) return { events: [], notListed: 0 };
    const n = Math.max(0, Math.min(e.n, budget));
    const events: TimelineEvent[] = [];
    for (let i = e.from; i < e.from + n; i++) {
      const c = i >>> CHUNK_BITS;
      const j = i & CHUNK_MASK;
      const b = this.bits[c]![j]!;
      events.push({ ts: this.ts[c]![j]!, outcome: OUTCOME[b & 3]!, user: this.users.str(this.user[c]![j]!), seen: SEEN[(b >> 2) & 3]!, tls: (b & 16) !== 0 });
    }
    return { events, notListed: e.total - n };
  }
}
