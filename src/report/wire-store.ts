import { CHUNK, CHUNK_BITS, CHUNK_MASK, StringTable } from './columns.js';
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
  private rebuild(rows: Uint32Array): void {
    const old = { ts: this.ts, flow: this.flow, client: this.client, user: this.user, mech: this.mech, port: this.port, bits: this.bits };
    this.ts = [];
    this.flow = [];
    this.client = [];
    this.user = [];
    this.mech = [];
    this.port = [];
    this.bits = [];
    this.size = 0;
    for (let k = 0; k < rows.length; k++) {
      const i = rows[k]!;
      const oc = i >>> CHUNK_BITS;
      const oj = i & CHUNK_MASK;
      const c = k >>> CHUNK_BITS;
      const j = k & CHUNK_MASK;
      if (j === 0) {
        this.ts.push(new Float64Array(CHUNK));
        this.flow.push(new Float64Array(CHUNK));
        this.client.push(new Int32Array(CHUNK));
        this.user.push(new Int32Array(CHUNK));
        this.mech.push(new Int32Array(CHUNK));
        this.port.push(new Uint16Array(CHUNK));
        this.bits.push(new Uint8Array(CHUNK));
      }
      this.ts[c]![j] = old.ts[oc]![oj]!;
      this.flow[c]![j] = old.flow[oc]![oj]!;
      this.client[c]![j] = old.client[oc]![oj]!;
      this.user[c]![j] = old.user[oc]![oj]!;
      this.mech[c]![j] = old.mech[oc]![oj]!;
      this.port[c]![j] = old.port[oc]![oj]!;
      this.bits[c]![j] = old.bits[oc]![oj]!;
    }
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

  private rebuild(rows: readonly number[]): void {
    const old = this.rowsOf(rows);
    this.flow = [];
    this.start = [];
    this.end = [];
    this.tlsTs = [];
    this.successTs = [];
    this.client = [];
    this.clientPort = [];
    this.serverPort = [];
    this.implicitTls = [];
    this.size = 0;
    for (const s of old) this.push(s);
  }

  private rowsOf(rows: readonly number[]): WireSession[] {
    return rows.map((i) => this.get(i));
  }
}
