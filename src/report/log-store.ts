import { SERVICES, type Service } from '../accounts/types.js';
import { CHUNK_BITS, CHUNK_MASK, groupRows, Slabs, StringTable } from './columns.js';
import type { AttemptOutcome, LogAuth } from './types.js';

/**
 * The log lines that carry an AUTH outcome, kept in columns (typed-array chunks and string tables,
 * columns.ts), not as one object each: 22 bytes a line in place of ~600 for a LogAuth and what was
 * made of it (issue 15: 10,000,000 log lines in bounded memory). The report joins them address by
 * address (`groups()`), turning one address's lines into LogAuth objects only while it joins them.
 * The file and line number of each line are not kept: no verdict reads them.
 */

const OUTCOMES: readonly AttemptOutcome[] = ['failure', 'success', 'tempfail'];
const SERVICE_INDEX = new Map<Service, number>(SERVICES.map((s, i) => [s, i]));

/**
 * A row as a LogAuth, made with `new` rather than as an object literal (the literal's allocation
 * site is one V8 may "pretenure": see native-notes/report-memory.md).
 */
class LogRow implements LogAuth {
  ts: number;
  services: Service[];
  constructor(
    public wall: number,
    public guessed: boolean,
    public service: Service,
    public outcome: AttemptOutcome,
    public user: string | null,
    public ip: string,
    public method: string | null,
    public reason: string | null,
    public lines: number,
  ) {
    this.ts = wall;
    this.services = [service];
  }
}

export class LogStore {
  size = 0;
  private wall: Float64Array[] = [];
  /** bit 0: guessed; bits 1-2: outcome; bits 3-7: service. */
  private flags: Uint8Array[] = [];
  private user: Int32Array[] = [];
  private ip: Int32Array[] = [];
  /** method id (low 16 bits) and reason id (high 16 bits), each +1 (0: null). */
  private meta: Uint32Array[] = [];
  /** Log lines the entry stands for (0 for the extra logins of an `auth=N` line). */
  private lines: Uint8Array[] = [];
  private slabs = new Slabs();
  readonly ips = new StringTable();
  readonly users = new StringTable();
  private readonly metas = new StringTable();

  add(
    wall: number,
    guessed: boolean,
    service: Service,
    outcome: AttemptOutcome,
    user: string | null,
    ip: string,
    method: string | null,
    reason: string | null,
    lines: number,
  ): void {
    const i = this.size;
    const c = i >>> CHUNK_BITS;
    const j = i & CHUNK_MASK;
    if (j === 0 && c === this.wall.length) {
      const m = this.slabs;
      this.wall.push(m.f64());
      this.flags.push(m.u8());
      this.user.push(m.i32());
      this.ip.push(m.i32());
      this.meta.push(m.u32());
      this.lines.push(m.u8());
    }
    this.wall[c]![j] = wall;
    this.flags[c]![j] = (guessed ? 1 : 0) | (OUTCOMES.indexOf(outcome) << 1) | (SERVICE_INDEX.get(service)! << 3);
    this.user[c]![j] = this.users.id(user);
    this.ip[c]![j] = this.ips.id(ip);
    this.meta[c]![j] = (this.metas.id(method) + 1) | ((this.metas.id(reason) + 1) << 16);
    this.lines[c]![j] = lines;
    this.size = i + 1;
  }

  /** Drops the columns (the join is done); the string tables stay. */
  release(): void {
    this.wall = [];
    this.flags = [];
    this.user = [];
    this.ip = [];
    this.meta = [];
    this.lines = [];
    this.slabs = new Slabs();
    this.size = 0;
  }

  wallAt(i: number): number {
    return this.wall[i >>> CHUNK_BITS]![i & CHUNK_MASK]!;
  }
  guessedAt(i: number): boolean {
    return (this.flags[i >>> CHUNK_BITS]![i & CHUNK_MASK]! & 1) !== 0;
  }
  serviceAt(i: number): Service {
    return SERVICES[this.flags[i >>> CHUNK_BITS]![i & CHUNK_MASK]! >> 3]!;
  }
  ipIdAt(i: number): number {
    return this.ip[i >>> CHUNK_BITS]![i & CHUNK_MASK]!;
  }

  /** The entry as a LogAuth, `ts` = `wall` (placed by the caller). */
  get(i: number): LogAuth {
    const c = i >>> CHUNK_BITS;
    const j = i & CHUNK_MASK;
    const f = this.flags[c]![j]!;
    const m = this.meta[c]![j]!;
    const svc = SERVICES[f >> 3]!;
    const wall = this.wall[c]![j]!;
    return new LogRow(
      wall,
      (f & 1) !== 0,
      svc,
      OUTCOMES[(f >> 1) & 3]!,
      this.users.str(this.user[c]![j]!),
      this.ips.list[this.ip[c]![j]!]!,
      this.metas.str((m & 0xffff) - 1),
      this.metas.str((m >>> 16) - 1),
      this.lines[c]![j]!,
    );
  }

  /**
   * The entries grouped by address id, each group in input order: `order` holds entry indices,
   * group `g` is `order[start[g]] … order[start[g + 1] - 1]`, groups in address-id order.
   */
  groups(): { start: Uint32Array; order: Uint32Array } {
    return groupRows(this.size, this.ips.list.length, (i) => this.ipIdAt(i));
  }
}
