import { SERVICES, type Service } from '../accounts/types.js';
import type { AttemptOutcome, LogAuth } from './types.js';

/**
 * The log lines that carry an AUTH outcome, kept in columns (typed arrays and string tables), not
 * as one object each: ~30 bytes a line in place of ~600 for a LogAuth and what was made of it
 * (issue 15: 10,000,000 log lines in bounded memory). The report joins them address by address
 * (`groups()`), turning one address's lines into LogAuth objects only while it joins them.
 */

const OUTCOMES: readonly AttemptOutcome[] = ['failure', 'success', 'tempfail'];
const SERVICE_INDEX = new Map<Service, number>(SERVICES.map((s, i) => [s, i]));

/** A growable column. */
class Column<A extends Float64Array | Int32Array | Uint32Array | Uint8Array> {
  data: A;
  constructor(private readonly make: (n: number) => A) {
    this.data = make(1024);
  }
  ensure(n: number): void {
    if (n <= this.data.length) return;
    let cap = this.data.length;
    while (cap < n) cap *= 2;
    const d = this.make(cap);
    d.set(this.data);
    this.data = d;
  }
  shrink(n: number): void {
    if (n < this.data.length) this.data = this.data.slice(0, Math.max(n, 1)) as A;
  }
}

/** Strings to small numbers and back (-1: null). */
export class StringTable {
  readonly ids = new Map<string, number>();
  readonly list: string[] = [];
  id(s: string | null): number {
    if (s === null) return -1;
    let i = this.ids.get(s);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(s);
      this.ids.set(s, i);
    }
    return i;
  }
  str(i: number): string | null {
    return i < 0 ? null : this.list[i]!;
  }
}

export class LogStore {
  size = 0;
  private readonly wall = new Column((n) => new Float64Array(n));
  /** bit 0: guessed; bits 1-2: outcome; bits 3-7: service. */
  private readonly flags = new Column((n) => new Uint8Array(n));
  private readonly user = new Column((n) => new Int32Array(n));
  private readonly ip = new Column((n) => new Int32Array(n));
  /** method id (low 16 bits) and reason id (high 16 bits), each +1 (0: null). */
  private readonly meta = new Column((n) => new Uint32Array(n));
  private readonly file = new Column((n) => new Int32Array(n));
  private readonly line = new Column((n) => new Uint32Array(n));
  /** Log lines the entry stands for (0 for the extra logins of an `auth=N` line). */
  private readonly lines = new Column((n) => new Uint8Array(n));
  readonly ips = new StringTable();
  readonly users = new StringTable();
  private readonly metas = new StringTable();
  private readonly files = new StringTable();

  add(
    wall: number,
    guessed: boolean,
    service: Service,
    outcome: AttemptOutcome,
    user: string | null,
    ip: string,
    method: string | null,
    reason: string | null,
    file: string,
    line: number,
    lines: number,
  ): void {
    const i = this.size;
    const n = i + 1;
    for (const c of [this.wall, this.flags, this.user, this.ip, this.meta, this.file, this.line, this.lines] as Column<
      Float64Array | Int32Array | Uint32Array | Uint8Array
    >[])
      c.ensure(n);
    this.wall.data[i] = wall;
    this.flags.data[i] = (guessed ? 1 : 0) | (OUTCOMES.indexOf(outcome) << 1) | (SERVICE_INDEX.get(service)! << 3);
    this.user.data[i] = this.users.id(user);
    this.ip.data[i] = this.ips.id(ip);
    this.meta.data[i] = (this.metas.id(method) + 1) | ((this.metas.id(reason) + 1) << 16);
    this.file.data[i] = this.files.id(file);
    this.line.data[i] = line;
    this.lines.data[i] = lines;
    this.size = n;
  }

  /** Gives back the columns' unused room once the logs are read. */
  trim(): void {
    for (const c of [this.wall, this.flags, this.user, this.ip, this.meta, this.file, this.line, this.lines] as Column<
      Float64Array | Int32Array | Uint32Array | Uint8Array
    >[])
      c.shrink(this.size);
  }

  wallAt(i: number): number {
    return this.wall.data[i]!;
  }
  guessedAt(i: number): boolean {
    return (this.flags.data[i]! & 1) !== 0;
  }
  serviceAt(i: number): Service {
    return SERVICES[this.flags.data[i]! >> 3]!;
  }
  ipIdAt(i: number): number {
    return this.ip.data[i]!;
  }

  /** The entry as a LogAuth, `ts` = `wall` (placed by the caller). */
  get(i: number): LogAuth {
    const f = this.flags.data[i]!;
    const m = this.meta.data[i]!;
    const svc = SERVICES[f >> 3]!;
    const wall = this.wall.data[i]!;
    return {
      ts: wall,
      wall,
      guessed: (f & 1) !== 0,
      service: svc,
      outcome: OUTCOMES[(f >> 1) & 3]!,
      user: this.users.str(this.user.data[i]!),
      ip: this.ips.list[this.ip.data[i]!]!,
      method: this.metas.str((m & 0xffff) - 1),
      reason: this.metas.str((m >>> 16) - 1),
      file: this.files.list[this.file.data[i]!]!,
      line: this.line.data[i]!,
      lines: this.lines.data[i]!,
      services: [svc],
    };
  }

  /**
   * The entries grouped by address id, each group in input order: `order` holds entry indices,
   * group `g` is `order[start[g]] … order[start[g + 1] - 1]`, groups in address-id order.
   */
  groups(): { start: Uint32Array; order: Uint32Array } {
    const k = this.ips.list.length;
    const start = new Uint32Array(k + 1);
    const ipd = this.ip.data;
    for (let i = 0; i < this.size; i++) start[ipd[i]! + 1] = start[ipd[i]! + 1]! + 1;
    for (let g = 0; g < k; g++) start[g + 1] = start[g + 1]! + start[g]!;
    const fill = start.slice(0, k);
    const order = new Uint32Array(this.size);
    for (let i = 0; i < this.size; i++) {
      const g = ipd[i]!;
      order[fill[g]!] = i;
      fill[g] = fill[g]! + 1;
    }
    return { start, order };
  }
}
