import { CHUNK_BITS, CHUNK_MASK, pickRows, Slabs, StringTable } from './columns.js';
import type { AttemptOutcome, WireAuth, WireSession } from './types.js';

/**
 * What the wire saw, in columns (columns.ts) rather than one object each: a 1 GB capture has
 * ~400,000 AUTH outcomes, each a WireAuth with its own username string, and ~90,000 sessions, ~65 MB
 * on the JS heap (issue 15: `report` in bounded memory); here ~31 bytes an outcome and ~49 a
 * session, outside it, with addresses and usernames kept once each (`clients`, `users`). The join
 * turns one address's rows into WireAuth / WireSession objects only while it joins them.
 */

const OUTCOMES: readonly AttemptOutcome[] = ['failure', 'success', 'tempfail'];
const OUTCOME_INDEX: Readonly<Record<AttemptOutcome, number>> = { failure: 0, success: 1, tempfail: 2 };

/** A stable permutation of `0 … size-1` by `key` (equal keys keep their order). */
function stableOrder(size: number, key: (i: number) => number): Uint32Array {
  const idx = new Uint32Array(size);
  for (let i = 0; i < size; i++) idx[i] = i;
  const keys = new Float64Array(size);
  for (let i = 0; i < size; i++) keys[i] = key(i);
  // TypedArray sort is not guaranteed stable with a comparator on every engine: break ties by index.
  return idx.sort((a, b) => keys[a]! - keys[b]! || a - b);
}

/** The wire's AUTH outcomes (and a state file's failure stamps), in arrival order. */
export class WireAuths {
  size = 0;
  private ts: Float64Array[] = [];
  private flow: Float64Array[] = [];
  private client: Int32Array[] = [];
  private user: Int32Array[] = [];
  private mech: Int32Array[] = [];
  private port: Uint16Array[] = [];
  /** bits 0-1: outcome; bit 2: from a state file. */
  private bits: Uint8Array[] = [];
  private slabs = new Slabs();
  readonly users = new StringTable();
  private readonly mechs = new StringTable();

  constructor(readonly clients: StringTable) {}

  push(a: WireAuth): void {
    const i = this.size;
    const c = i >>> CHUNK_BITS;
    const j = i & CHUNK_MASK;
    if (j === 0 && c === this.ts.length) {
      const m = this.slabs;
      this.ts.push(m.f64());
      this.flow.push(m.f64());
      this.client.push(m.i32());
      this.user.push(m.i32());
      this.mech.push(m.i32());
      this.port.push(m.u16());
      this.bits.push(m.u8());
    }
    this.ts[c]![j] = a.ts;
    this.flow[c]![j] = a.flow;
    this.client[c]![j] = this.clients.id(a.client);
    this.user[c]![j] = this.users.id(a.user);
    this.mech[c]![j] = this.mechs.id(a.mech);
    this.port[c]![j] = a.serverPort;
    this.bits[c]![j] = OUTCOME_INDEX[a.outcome] | (a.source === 'state' ? 4 : 0);
    this.size = i + 1;
  }

  tsAt(i: number): number {
    return this.ts[i >>> CHUNK_BITS]![i & CHUNK_MASK]!;
  }
  flowAt(i: number): number {
    return this.flow[i >>> CHUNK_BITS]![i & CHUNK_MASK]!;
  }
  clientIdAt(i: number): number {
    return this.client[i >>> CHUNK_BITS]![i & CHUNK_MASK]!;
  }
  outcomeAt(i: number): AttemptOutcome {
    return OUTCOMES[this.bits[i >>> CHUNK_BITS]![i & CHUNK_MASK]! & 3]!;
  }

  get(i: number): WireAuth {
    const c = i >>> CHUNK_BITS;
    const j = i & CHUNK_MASK;
    const b = this.bits[c]![j]!;
    return {
      ts: this.ts[c]![j]!,
      client: this.clients.list[this.client[c]![j]!]!,
      outcome: OUTCOMES[b & 3]!,
      user: this.users.str(this.user[c]![j]!),
      mech: this.mechs.str(this.mech[c]![j]!),
      serverPort: this.port[c]![j]!,
      flow: this.flow[c]![j]!,
      source: (b & 4) !== 0 ? 'state' : 'capture',
    };
  }

  *[Symbol.iterator](): IterableIterator<WireAuth> {
    for (let i = 0; i < this.size; i++) yield this.get(i);
  }

  /** Keeps the rows `keep` says, in their order. */
  filter(keep: (i: number) => boolean): void {
    this.rebuild(Uint32Array.from({ length: this.size }, (_, i) => i).filter((i) => keep(i)));
  }

  /** Puts the rows in time order (stable: rows of one time keep their order). */
  sortByTime(): void {
    this.rebuild(stableOrder(this.size, (i) => this.tsAt(i)));
  }

  /** Drops the rows (the join is done); the string tables stay. */
  release(): void {
    this.rebuild(new Uint32Array(0));
  }

  /** The rows `rows` (indices into the current rows), in that order. */
  private rebuild(rows: ArrayLike<number>): void {
    const m = new Slabs(); // the old chunks' slabs go with them
    this.ts = pickRows(this.ts, rows, () => m.f64());
    this.flow = pickRows(this.flow, rows, () => m.f64());
    this.client = pickRows(this.client, rows, () => m.i32());
    this.user = pickRows(this.user, rows, () => m.i32());
    this.mech = pickRows(this.mech, rows, () => m.i32());
    this.port = pickRows(this.port, rows, () => m.u16());
    this.bits = pickRows(this.bits, rows, () => m.u8());
    this.slabs = m;
    this.size = rows.length;
  }
}

/** The wire's SMTP sessions that matter to the join (with AUTH replies, or gone opaque), in the order they ended. */
export class WireSessions {
  size = 0;
  private flow: Float64Array[] = [];
  private start: Float64Array[] = [];
  private end: Float64Array[] = [];
  /** NaN: null. */
  private tlsTs: Float64Array[] = [];
  /** NaN: null. */
  private successTs: Float64Array[] = [];
  private client: Int32Array[] = [];
  private clientPort: Uint16Array[] = [];
  private serverPort: Uint16Array[] = [];
  private implicitTls: Uint8Array[] = [];
  private slabs = new Slabs();

  constructor(readonly clients: StringTable) {}

  push(s: WireSession): void {
    const i = this.size;
    const c = i >>> CHUNK_BITS;
    const j = i & CHUNK_MASK;
    if (j === 0 && c === this.flow.length) this.addChunk();
    this.flow[c]![j] = s.flow;
    this.start[c]![j] = s.start;
    this.end[c]![j] = s.end;
    this.tlsTs[c]![j] = s.tlsTs ?? NaN;
    this.successTs[c]![j] = s.successTs ?? NaN;
    this.client[c]![j] = this.clients.id(s.client);
    this.clientPort[c]![j] = s.clientPort;
    this.serverPort[c]![j] = s.serverPort;
    this.implicitTls[c]![j] = s.implicitTls ? 1 : 0;
    this.size = i + 1;
  }

  private addChunk(): void {
    const m = this.slabs;
    this.flow.push(m.f64());
    this.start.push(m.f64());
    this.end.push(m.f64());
    this.tlsTs.push(m.f64());
    this.successTs.push(m.f64());
    this.client.push(m.i32());
    this.clientPort.push(m.u16());
    this.serverPort.push(m.u16());
    this.implicitTls.push(m.u8());
  }

  flowAt(i: number): number {
    return this.flow[i >>> CHUNK_BITS]![i & CHUNK_MASK]!;
  }
  clientIdAt(i: number): number {
    return this.client[i >>> CHUNK_BITS]![i & CHUNK_MASK]!;
  }
  /** Whether the session went opaque (STARTTLS, or TLS from the first byte). */
  opaqueAt(i: number): boolean {
    return !Number.isNaN(this.tlsTs[i >>> CHUNK_BITS]![i & CHUNK_MASK]!);
  }

  get(i: number): WireSession {
    const c = i >>> CHUNK_BITS;
    const j = i & CHUNK_MASK;
    const tls = this.tlsTs[c]![j]!;
    const ok = this.successTs[c]![j]!;
    return {
      flow: this.flow[c]![j]!,
      client: this.clients.list[this.client[c]![j]!]!,
      clientPort: this.clientPort[c]![j]!,
      serverPort: this.serverPort[c]![j]!,
      start: this.start[c]![j]!,
      end: this.end[c]![j]!,
      tlsTs: Number.isNaN(tls) ? null : tls,
      implicitTls: this.implicitTls[c]![j]! === 1,
      successTs: Number.isNaN(ok) ? null : ok,
    };
  }

  *[Symbol.iterator](): IterableIterator<WireSession> {
    for (let i = 0; i < this.size; i++) yield this.get(i);
  }

  /** Keeps the rows `keep` says, in their order. */
  filter(keep: (i: number) => boolean): void {
    const rows: number[] = [];
    for (let i = 0; i < this.size; i++) if (keep(i)) rows.push(i);
    this.rebuild(rows);
  }

  /** Drops the rows (the join is done). */
  release(): void {
    this.rebuild([]);
  }

  /** The rows `rows` (indices into the current rows), in that order. */
  private rebuild(rows: ArrayLike<number>): void {
    const m = new Slabs(); // the old chunks' slabs go with them
    this.flow = pickRows(this.flow, rows, () => m.f64());
    this.start = pickRows(this.start, rows, () => m.f64());
    this.end = pickRows(this.end, rows, () => m.f64());
    this.tlsTs = pickRows(this.tlsTs, rows, () => m.f64());
    this.successTs = pickRows(this.successTs, rows, () => m.f64());
    this.client = pickRows(this.client, rows, () => m.i32());
    this.clientPort = pickRows(this.clientPort, rows, () => m.u16());
    this.serverPort = pickRows(this.serverPort, rows, () => m.u16());
    this.implicitTls = pickRows(this.implicitTls, rows, () => m.u8());
    this.slabs = m;
    this.size = rows.length;
  }
}
