import {
  NO_WIRE,
  type AuthEvent,
  type BlockEvent,
  type PipelineEvent,
  type RejectEvent,
  type StartTlsEvent,
  type StrikeEvent,
  type WireSnapshot,
} from '../events.js';
import {
  CHUNK_DOUBLES,
  CHUNK_UNITS,
  AUTH_FAILURE,
  AUTH_SUCCESS,
  AUTH_TEMPFAIL,
  STARTTLS,
  STRIKE,
  REJECT,
  BLOCK,
  RESET,
  LINE,
  NULL_TEXT,
  SAME_TEXT,
  AS_CLIENT,
  INLINE_TEXT,
  USER,
  CLIENT,
  KEY,
  DST,
  FRESH_FIELDS,
  INFERRED,
  KNOWN,
  MATCHED,
} from './json-pack-format.js';

/**
 * The receiving side: the events back from a chunk's records, with the fields the JSON line
 * shows (the others — the flow number, the auth event's packet — are zero or empty).
 */
export class JsonEventUnpacker {
  private readonly table: string[] = [];
  private readonly last: string[] = new Array<string>(FRESH_FIELDS).fill('');
  private client = '';
  private u: Uint16Array<ArrayBufferLike> = new Uint16Array(0);
  /** The same units as bytes: texts are read from it with no view made per text. */
  private ub: Buffer = Buffer.alloc(0);
  private f: Float64Array<ArrayBufferLike> = new Float64Array(0);
  private p = 0;
  private end = 0;
  private strings: readonly string[] = [];
  private nextString = 0;

  /** Reads the first `n` doubles of `chunk`, whose new texts are `strings`. */
  use(chunk: SharedArrayBuffer, n: number, strings: readonly string[]): void {
    this.f = new Float64Array(chunk, 0, CHUNK_DOUBLES);
    this.u = new Uint16Array(chunk, CHUNK_DOUBLES * 8, CHUNK_UNITS);
    this.ub = Buffer.from(chunk, CHUNK_DOUBLES * 8, CHUNK_UNITS * 2);
    this.p = 0;
    this.end = n;
    this.strings = strings;
    this.nextString = 0;
  }

  /** The next event or line of text, or null at the chunk's end. */
  next(): PipelineEvent | string | null {
    while (this.p < this.end) {
      const t = this.f[this.p++]!;
      switch (t) {
        case AUTH_FAILURE:
        case AUTH_SUCCESS:
        case AUTH_TEMPFAIL:
          return this.auth(t === AUTH_FAILURE ? 'auth_failure' : t === AUTH_SUCCESS ? 'auth_success' : 'auth_tempfail');
        case STARTTLS: {
          const ev: StartTlsEvent = {
            type: 'starttls',
            ts: this.num(),
            flow: 0,
            client: this.fresh(CLIENT),
            clientPort: this.num(),
            server: this.text(),
            serverPort: this.num(),
            implicit: this.num() === 1,
          };
          return ev;
        }
        case STRIKE: {
          const ev: StrikeEvent = {
            type: 'strike',
            ts: this.num(),
            client: this.fresh(CLIENT),
            key: this.fresh(KEY),
            n: this.num(),
            hitcount: this.num(),
            prefix: this.text(),
            inferred: this.num() === 1,
            source: this.text() as StrikeEvent['source'],
            wire: NO_WIRE,
          };
          ev.wire = this.wire();
          return ev;
        }
        case REJECT: {
          const ev: RejectEvent = {
            type: 'reject',
            ts: this.num(),
            client: this.fresh(CLIENT),
            key: this.fresh(KEY),
            rule: this.text() as RejectEvent['rule'],
            prefix: this.text(),
            wire: NO_WIRE,
            block: null,
          };
          if (this.num() === 1) ev.block = { level: this.num(), until: this.num() };
          ev.wire = this.wire();
          return ev;
        }
        case BLOCK: {
          const ev: BlockEvent = {
            type: 'block',
            ts: this.num(),
            client: this.fresh(CLIENT),
            key: this.fresh(KEY),
            rule: this.text() as BlockEvent['rule'],
            from: this.num(),
            until: this.num(),
            level: this.num(),
          };
          return ev;
        }
        case RESET:
          this.table.length = 0;
          break;
        case LINE:
          return this.text();
        default:
          throw new Error(`packed JSON event of unknown type ${t}`);
      }
    }
    return null;
  }

  private num(): number {
    return this.f[this.p++]!;
  }

  private text(): string {
    const id = this.f[this.p++]!;
    if (id >= 0) return this.table[id]!;
    const s = this.strings[this.nextString++]!;
    this.table.push(s);
    return s;
  }

  private textOrNull(): string | null {
    return this.f[this.p] === NULL_TEXT ? (this.p++, null) : this.text();
  }

  private fresh(field: number): string {
    const v = this.f[this.p]!;
    let s: string;
    if (v === SAME_TEXT) {
      this.p++;
      s = this.last[field]!;
    } else if (v === AS_CLIENT) {
      this.p++;
      s = this.last[field] = this.client;
    } else if (v <= INLINE_TEXT) {
      this.p++;
      const at = INLINE_TEXT - v;
      // UCS-2 as it is (lone surrogates too: test/json-offload.test.ts), not TextDecoder's UTF-16, which replaces them.
      const from = 2 * (at + 1);
      s = this.last[field] = this.ub.toString('ucs2', from, from + 2 * this.u[at]!);
    } else s = this.last[field] = this.text();
    if (field === CLIENT) this.client = s;
    return s;
  }

  private auth(type: AuthEvent['type']): AuthEvent {
    const ev: AuthEvent = {
      type,
      ts: this.num(),
      flow: 0,
      client: this.fresh(CLIENT),
      clientPort: this.num(),
      server: this.text(),
      serverPort: this.num(),
      code: this.num(),
      mech: this.textOrNull(),
      user: this.f[this.p] === NULL_TEXT ? (this.p++, null) : this.fresh(USER),
      text: this.text(),
      matched: false,
      inferred: null,
      wire: NO_WIRE,
    };
    const flags = this.num();
    ev.matched = (flags & MATCHED) !== 0;
    if (flags & INFERRED) ev.inferred = { basis: this.num(), recordLen: this.num(), delay: this.num(), known: (flags & KNOWN) !== 0 };
    return ev;
  }

  private wire(): WireSnapshot {
    return {
      ipVersion: this.num() as 4 | 6,
      src: this.text(),
      dst: this.fresh(DST),
      ipLen: this.num(),
      tos: this.num(),
      ttl: this.num(),
      ipId: this.num(),
      df: this.num() === 1,
      flowLabel: this.num(),
      sport: this.num(),
      dport: this.num(),
      window: this.num(),
      tcpFlags: this.num(),
      iface: this.text(),
    };
  }
}
