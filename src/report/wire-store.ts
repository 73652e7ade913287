import { CHUNK, CHUNK_BITS, CHUNK_MASK, pickRows, StringTable } from './columns.js';
import type { AttemptOutcome, WireAuth, WireSession } from './types.js';

/**
 * What the wire saw, in columns (columns.ts) rather than one object each: a 1 GB capture has
 * ~400,000 AUTH outcomes, each a WireAuth with its own username string, and ~90,000 sessions, ~65 MB
 * on the JS heap (issue 15: `report` in bounded memory); here ~31 bytes an outcome and ~49 a
 * session, outside it, with addresses and usernames kept once each (`clients`, `users`). The join
 * turns one address's rows into WireAuth / WireSession objects only while it joins them.
 */

const F64 = (n: number): Float64Array => new Float64Array(n);
const I32 = (n: number): Int32Array => new Int32Array(n);
const U16 = (n: number): Uint16Array => new Uint16Array(n);
const U8 = (n: number): Uint8Array => new Uint8Array(n);

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
  readonly users = new StringTable();
  private readonly mechs = new StringTable();

  constructor(readonly clients: StringTable) {}

  push(a: WireAuth): void {
    const i = this.size;
    const c = i >>> CHUNK_BITS;
    const j = i & CHUNK_MASK;
    if (j === 0 && c === this.ts.length) {
      this.ts.push(new Float64Array(CHUNK));
      this.flow.push(new Float64Array(CHUNK));
      this.client.push(new Int32Array(CHUNK));
      this.user.push(new Int32Array(CHUNK));
      this.mech.push(new Int32Array(CHUNK));
      this.port.push(new Uint16Array(CHUNK));
      this.bits.push(new Uint8Array(CHUNK));
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
    this.ts = pickRows(this.ts, rows, F64);
    this.flow = pickRows(this.flow, rows, F64);
    this.client = pickRows(this.client, rows, I32);
    this.user = pickRows(this.user, rows, I32);
    this.mech = pickRows(this.mech, rows, I32);
    this.port = pickRows(this.port, rows, U16);
    this.bits = pickRows(this.bits, rows, U8);
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
    this.flow.push(new Float64Array(CHUNK));
    this.start.push(new Float64Array(CHUNK));
    this.end.push(new Float64Array(CHUNK));
    this.tlsTs.push(new Float64Array(CHUNK));
    this.successTs.push(new Float64Array(CHUNK));
    this.client.push(new Int32Array(CHUNK));
    this.clientPort.push(new Uint16Array(CHUNK));
    this.serverPort.push(new Uint16Array(CHUNK));
    this.implicitTls.push(new Uint8Array(CHUNK));
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
    this.flow = pickRows(this.flow, rows, F64);
    this.start = pickRows(this.start, rows, F64);
    this.end = pickRows(this.end, rows, F64);
    this.tlsTs = pickRows(this.tlsTs, rows, F64);
    this.successTs = pickRows(this.successTs, rows, F64);
    this.client = pickRows(this.client, rows, I32);
    this.clientPort = pickRows(this.clientPort, rows, U16);
    this.serverPort = pickRows(this.serverPort, rows, U16);
    this.implicitTls = pickRows(this.implicitTls, rows, U8);
    this.size = rows.length;
  }
}
