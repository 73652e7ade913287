import type { AuthEvent, EventSink, PipelineEvent } from '../events.js';
import { AddressIndex } from './address-index.js';
import { COUNTS, type ClientRows, type DroppedClients } from './client-rows.js';
import { authDetailLine, DetailLines, strikeDetailLine } from './detail-lines.js';
import { LineStore } from './line-store.js';

export type { DroppedClients } from './client-rows.js';

/** Outcomes inferred inside TLS (never mixed into the counts read in the clear). */
export interface InferredCounts {
  failures: number;
  successes: number;
  tempfails: number;
}

export interface ClientCounts {
  failures: number;
  successes: number;
  tempfails: number;
  users: string[];
  inferred: InferredCounts;
}

/** One client as the reports see it (made on demand: the table itself keeps no object per client). */
export interface ClientView {
  failures: number;
  successes: number;
  tempfails: number;
  inferred: InferredCounts;
  /** Distinct usernames, first seen first, at most `usersPerClient`. */
  users: string[];
  /** The text report's lines for the client's first events (empty in counts-only mode). */
  details: string[];
  /** The client's outcomes without a detail line (past `eventsPerClient`, or all in counts-only mode). */
  eventsNotKept: number;
}

const NO_USER = -1;

/**
 * Per-client counts for a million clients and more: one row per client in typed-array columns
 * (address 16 B, three counters 12 B, first username 4 B, index slots ~8 B), usernames interned
 * once (a botnet shares one list), further usernames and event samples only in side maps for the
 * clients that have them. Iterates in first-seen order, as the Map it replaces did.
 */
export class ClientTable implements Iterable<[string, ClientView]> {
  private readonly index = new AddressIndex();
  private failures: Uint32Array = new Uint32Array(1024);
  private successes: Uint32Array = new Uint32Array(1024);
  private tempfails: Uint32Array = new Uint32Array(1024);
  /** Inferred outcomes: failures, successes, tempfails of row r at 3r, 3r+1, 3r+2. */
  private inferred: Uint32Array = new Uint32Array(3 * 1024);
  private firstUser: Int32Array = new Int32Array(1024).fill(NO_USER);
  private readonly moreUsers = new Map<number, number[]>();
  /** Made on the first detail line (counts-only outputs never pay for it). */
  private details: DetailLines | null = null;
  private readonly userIds = new Map<string, number>();
  private readonly userNames: string[] = [];
  /** The usernames' sort order and JSON texts for countsJson (made at the first call). */
  private order: { rank: Int32Array; json: string[] } | null = null;

  get size(): number {
    return this.index.size;
  }

  /** The row of `ip`, or -1; with `add`, a new row when absent. */
  row(ip: string, add: boolean): number {
    const r = this.index.find(ip);
    if (r >= 0 || !add) return r;
    const row = this.index.insert();
    if (row >= this.failures.length) this.growColumns(this.index.capacity);
    return row;
  }

  count(row: number, outcome: AuthEvent['type'], inferred = false): void {
    // Typed-array columns: `row` is a row of the index (insert grew them), so each cell exists.
    if (inferred) {
      const i = 3 * row + (outcome === 'auth_failure' ? 0 : outcome === 'auth_success' ? 1 : 2);
      this.inferred[i] = this.inferred[i]! + 1;
    } else if (outcome === 'auth_failure') this.failures[row] = this.failures[row]! + 1;
    else if (outcome === 'auth_success') this.successes[row] = this.successes[row]! + 1;
    else this.tempfails[row] = this.tempfails[row]! + 1;
  }

  /** Adds COUNTS numbers from `from[at…]` to the row (ClientRows.counts' order). */
  addCounts(row: number, from: ArrayLike<number>, at: number): void {
    this.failures[row] = this.failures[row]! + from[at]!;
    this.successes[row] = this.successes[row]! + from[at + 1]!;
    this.tempfails[row] = this.tempfails[row]! + from[at + 2]!;
    for (let i = 0; i < 3; i++) this.inferred[3 * row + i] = this.inferred[3 * row + i]! + from[at + 3 + i]!;
  }

  /** Every row in first-seen order, as plain data (for another thread). */
  rows(): ClientRows {
    const n = this.size;
    const ips: string[] = [];
    const users: string[][] = [];
    const counts = new Uint32Array(n * COUNTS);
    for (let r = 0; r < n; r++) {
      ips.push(this.ipOf(r));
      users.push(this.usersOf(r));
      const k = r * COUNTS;
      counts[k] = this.failures[r]!;
      counts[k + 1] = this.successes[r]!;
      counts[k + 2] = this.tempfails[r]!;
      for (let i = 0; i < 3; i++) counts[k + 3 + i] = this.inferred[3 * r + i]!;
    }
    return { ips, counts, users };
  }

  /** Adds `user` to the row's distinct usernames unless it holds `max` already. */
  addUser(row: number, user: string, max: number): void {
    let id = this.userIds.get(user);
    if (id === undefined) {
      id = this.userNames.length;
      this.userIds.set(user, id);
      this.userNames.push(user);
    }
    const first = this.firstUser[row]!;
    if (first === NO_USER) {
      if (max > 0) this.firstUser[row] = id;
      return;
    }
    if (first === id) return;
    let more = this.moreUsers.get(row);
    if (!more) {
      if (max < 2) return;
      this.moreUsers.set(row, (more = []));
    }
    if (more.length + 1 < max && !more.includes(id)) more.push(id);
  }

  /**
   * Keeps the detail line of `ev` while the row has fewer than `max` (the others are the row's
   * outcomes less its lines: nothing to count).
   */
  sample(row: number, ev: AuthEvent, max: number): void {
    const d = (this.details ??= new DetailLines(this.failures.length));
    if (d.count[row]! < max) d.add(row, authDetailLine(ev));
  }

  get(ip: string): ClientView | undefined {
    const r = this.index.find(ip);
    return r < 0 ? undefined : this.view(r);
  }

  /** Address of a row. */
  ipOf(row: number): string {
    return this.index.ipOf(row);
  }

  /**
   * Row numbers in report order: most failures first (read, then inferred), then by address
   * (numeric: 9.0.0.1 before 10.0.0.1). Sorts a typed array of rows, so a million clients need no
   * object each.
   */
  rowsByFailures(): Uint32Array {
    const rows = new Uint32Array(this.size);
    for (let r = 0; r < rows.length; r++) rows[r] = r;
    const f = this.failures;
    const i = this.inferred;
    return rows.sort((a, b) => f[b]! - f[a]! || i[3 * b]! - i[3 * a]! || this.index.compareRows(a, b));
  }

  view(row: number): ClientView {
    const d = this.details;
    const inferred = { failures: this.inferred[3 * row]!, successes: this.inferred[3 * row + 1]!, tempfails: this.inferred[3 * row + 2]! };
    const details = d ? d.linesOf(row) : [];
    const outcomes = this.failures[row]! + this.successes[row]! + this.tempfails[row]! + inferred.failures + inferred.successes + inferred.tempfails;
    return {
      failures: this.failures[row]!,
      successes: this.successes[row]!,
      tempfails: this.tempfails[row]!,
      inferred,
      users: this.usersOf(row),
      details,
      eventsNotKept: outcomes - details.length,
    };
  }

  usersOf(row: number): string[] {
    const first = this.firstUser[row]!;
    if (first === NO_USER) return [];
    const out = [this.userNames[first]!];
    for (const id of this.moreUsers.get(row) ?? []) out.push(this.userNames[id]!);
    return out;
  }

  /**
   * What ReplayTally.countsJson says (the fields in ClientCounts' order). The usernames are the
   * cost (214,464 of them over the bench capture's clients, a few distinct names shared by many
   * clients): each distinct name is escaped once, and a client's names are put in `sort()`'s order
   * by their rank among all names (distinct strings: the same order) instead of comparing strings.
   */
  countsJson(row: number): string {
    const first = this.firstUser[row]!;
    let u = '';
    if (first !== NO_USER) {
      const { rank, json } = this.userOrder();
      const more = this.moreUsers.get(row);
      if (!more) u = json[first]!;
      else {
        const ids = Int32Array.from(more);
        const all = new Int32Array(ids.length + 1);
        all[0] = first;
        all.set(ids, 1);
        all.sort((a, b) => rank[a]! - rank[b]!);
        for (let k = 0; k < all.length; k++) u += (k > 0 ? ',' : '') + json[all[k]!]!;
      }
    }
    const i = 3 * row;
    return (
      `{"failures":${this.failures[row]!},"successes":${this.successes[row]!},"tempfails":${this.tempfails[row]!},"users":[${u}],` +
      `"inferred":{"failures":${this.inferred[i]!},"successes":${this.inferred[i + 1]!},"tempfails":${this.inferred[i + 2]!}}}`
    );
  }

  /** Every username's rank in `sort()`'s order and its JSON text; remade when names were added since. */
  private userOrder(): { rank: Int32Array; json: string[] } {
    const names = this.userNames;
    let o = this.order;
    if (!o || o.json.length !== names.length) {
      const ids = names.map((_, id) => id).sort((a, b) => (names[a]! < names[b]! ? -1 : names[a]! > names[b]! ? 1 : 0));
      const rank = new Int32Array(names.length);
      ids.forEach((id, k) => (rank[id] = k));
      o = this.order = { rank, json: names.map((n) => JSON.stringify(n)) };
    }
    return o;
  }

  *[Symbol.iterator](): Iterator<[string, ClientView]> {
    for (let r = 0; r < this.index.size; r++) yield [this.index.ipOf(r), this.view(r)];
  }

  private growColumns(n: number): void {
    const u32 = (a: Uint32Array): Uint32Array => {
      const b = new Uint32Array(n);
      b.set(a);
      return b;
    };
    this.failures = u32(this.failures);
    this.successes = u32(this.successes);
    this.tempfails = u32(this.tempfails);
    const inf = new Uint32Array(3 * n);
    inf.set(this.inferred);
    this.inferred = inf;
    const f = new Int32Array(n).fill(NO_USER);
    f.set(this.firstUser);
    this.firstUser = f;
    this.details?.grow(n);
  }
}

export interface TallyLimits {
  /** Clients tracked at most (an attack from millions of addresses must not exhaust memory). */
  maxClients: number;
  /** Detail lines kept per client for the text report (`--details-per-client`); the rest are counted. */
  eventsPerClient: number;
  /** Strike/reject log lines kept for the text report. */
  logLines: number;
  /** Distinct usernames kept per client. */
  usersPerClient: number;
}

export const defaultTallyLimits: TallyLimits = { maxClients: 1_000_000, eventsPerClient: 20, logLines: 100_000, usersPerClient: 100 };

/** For outputs that print no event detail (JSON summary, streamed JSON): counts only. */
export const countsOnlyLimits: TallyLimits = { ...defaultTallyLimits, eventsPerClient: 0, logLines: 0 };

/**
 * The end of the pipeline for `replay`: counts per client, keeps what the text report prints and
 * passes every event on to an optional streaming writer (JSON lines).
 */
export class ReplayTally implements EventSink {
  readonly clients = new ClientTable();
  /** The text report's strike log: the first `logLines` strike and reject lines, made as they come. */
  readonly log = new LineStore();
  totals = {
    failures: 0,
    successes: 0,
    tempfails: 0,
    starttls: 0,
    strikes: 0,
    rejects: 0,
    blocks: 0,
    inferred_failures: 0,
    inferred_successes: 0,
    inferred_tempfails: 0,
  };
  /** What the cap on kept clients left out of `clients` (the totals still count it). */
  readonly dropped: DroppedClients = { clients: 0, exact: true, failures: 0, successes: 0, tempfails: 0, inferred: 0 };
  /** Tells dropped clients apart (capped at `maxClients` rows too). */
  private readonly droppedIndex = new AddressIndex();
  logLinesNotKept = 0;

  constructor(
    private readonly next: EventSink | null,
    readonly limits: TallyLimits = defaultTallyLimits,
  ) {}

  event(ev: PipelineEvent): void {
    switch (ev.type) {
      case 'auth_failure':
      case 'auth_success':
      case 'auth_tempfail': {
        if (ev.inferred !== null) {
          if (ev.type === 'auth_failure') this.totals.inferred_failures++;
          else if (ev.type === 'auth_success') this.totals.inferred_successes++;
          else this.totals.inferred_tempfails++;
        } else if (ev.type === 'auth_failure') this.totals.failures++;
        else if (ev.type === 'auth_success') this.totals.successes++;
        else this.totals.tempfails++;
        this.client(ev);
        break;
      }
      case 'starttls':
        this.totals.starttls++;
        break;
      case 'strike':
      case 'reject':
      case 'block':
        if (ev.type === 'strike') this.totals.strikes++;
        else if (ev.type === 'reject') this.totals.rejects++;
        else this.totals.blocks++;
        if (ev.type !== 'block') {
          if (this.log.size < this.limits.logLines) this.log.add(strikeDetailLine(ev));
          else this.logLinesNotKept++;
        }
        break;
      default:
        break;
    }
    this.next?.event(ev);
  }

  /** The per-client part of an outcome: its client's row, counts and usernames (or the dropped counts). */
  private client(ev: AuthEvent): void {
    const c = this.clients;
    const row = c.row(ev.client, c.size < this.limits.maxClients);
    if (row < 0) return this.drop(ev);
    c.count(row, ev.type, ev.inferred !== null);
    if (ev.user) c.addUser(row, ev.user, this.limits.usersPerClient);
    if (this.limits.eventsPerClient > 0) c.sample(row, ev, this.limits.eventsPerClient);
  }

  private drop(ev: AuthEvent): void {
    const d = this.dropped;
    if (ev.inferred !== null) d.inferred++;
    else if (ev.type === 'auth_failure') d.failures++;
    else if (ev.type === 'auth_success') d.successes++;
    else d.tempfails++;
    if (this.droppedIndex.find(ev.client) >= 0) return;
    if (this.droppedIndex.size < this.limits.maxClients) {
      this.droppedIndex.insert();
      d.clients++;
    } else d.exact = false;
  }

  /** The JSON form of one client (users sorted). */
  countsOf(row: number): ClientCounts {
    const c = this.clients;
    const v = c.view(row);
    return { failures: v.failures, successes: v.successes, tempfails: v.tempfails, users: v.users.sort(), inferred: v.inferred };
  }

  /**
   * `JSON.stringify(this.countsOf(row))`, the same text, written directly: the JSON summary writes
   * one per client (37,683 on the bench capture, up to a million at the cap), and the view, its
   * arrays and the generic stringify of each object cost ~3 µs a client there (~5 % of a
   * `--json --summary-only` run). Counts are integers; only the usernames need JSON's escaping.
   */
  countsJson(row: number): string {
    return this.clients.countsJson(row);
  }

  counts(): Record<string, ClientCounts> {
    const out: Record<string, ClientCounts> = {};
    for (let r = 0; r < this.clients.size; r++) out[this.clients.ipOf(r)] = this.countsOf(r);
    return out;
  }
}
