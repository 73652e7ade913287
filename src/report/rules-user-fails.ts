// The columns VerdictAccumulator (rules.ts) keeps DISTRIBUTED's failures in.
import { CHUNK_BITS, CHUNK_MASK, Slabs, StringTable } from './columns.js';

/**
 * DISTRIBUTED's input: the failures of addresses under the threshold (account, time, address: one
 * row each, in columns — there may be millions), and per account the addresses over it.
 */
export class UserFails {
  size = 0;
  private user: Int32Array[] = [];
  private ip: Int32Array[] = [];
  private ts: Float64Array[] = [];
  /** Input position (computeVerdicts); not kept when streamed (ordered by time, then address). */
  readonly seq: number[] = [];
  readonly users = new StringTable();
  readonly ips = new StringTable();
  /** Failures from addresses over the threshold: (account id, address id) — the addresses are listed only in DISTRIBUTED rows. */
  overSize = 0;
  private overUser: Int32Array[] = [];
  private overIp: Int32Array[] = [];
  private slabs = new Slabs();

  /** The account's id (its failures are kept in the order their accounts were first met). */
  userId(user: string): number {
    return this.users.id(user);
  }

  add(u: number, ts: number, ip: string, seq: number | null): void {
    const i = this.size++;
    const c = i >>> CHUNK_BITS;
    const j = i & CHUNK_MASK;
    if (j === 0 && c === this.ts.length) {
      this.user.push(this.slabs.i32());
      this.ip.push(this.slabs.i32());
      this.ts.push(this.slabs.f64());
    }
    this.user[c]![j] = u;
    this.ip[c]![j] = this.ips.id(ip);
    this.ts[c]![j] = ts;
    if (seq !== null) this.seq.push(seq);
  }

  /** A failure of account `u` from `ip`, an address over the threshold (the same pair may come again). */
  addOver(u: number, ip: string): void {
    const i = this.overSize++;
    const c = i >>> CHUNK_BITS;
    const j = i & CHUNK_MASK;
    if (j === 0 && c === this.overUser.length) {
      this.overUser.push(this.slabs.i32());
      this.overIp.push(this.slabs.i32());
    }
    this.overUser[c]![j] = u;
    this.overIp[c]![j] = this.ips.id(ip);
  }

  /** Drops the rows (the verdicts are made). */
  release(): void {
    this.user = [];
    this.ip = [];
    this.ts = [];
    this.overUser = [];
    this.overIp = [];
    this.slabs = new Slabs();
    this.size = 0;
    this.overSize = 0;
  }

  overUserAt(i: number): number {
    return this.overUser[i >>> CHUNK_BITS]![i & CHUNK_MASK]!;
  }
  overIpAt(i: number): string {
    return this.ips.list[this.overIp[i >>> CHUNK_BITS]![i & CHUNK_MASK]!]!;
  }

  userAt(i: number): number {
    return this.user[i >>> CHUNK_BITS]![i & CHUNK_MASK]!;
  }
  tsAt(i: number): number {
    return this.ts[i >>> CHUNK_BITS]![i & CHUNK_MASK]!;
  }
  ipAt(i: number): string {
    return this.ips.list[this.ip[i >>> CHUNK_BITS]![i & CHUNK_MASK]!]!;
  }
}
