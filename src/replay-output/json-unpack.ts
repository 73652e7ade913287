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

/** An event of each kind, written over for each record (the formatter reads one at a time). */
function reusable(): { auth: AuthEvent; starttls: StartTlsEvent; strike: StrikeEvent; reject: RejectEvent; block: BlockEvent } {
  const wire = (): WireSnapshot => ({ ...NO_WIRE });
  const base = { ts: 0, client: '', key: '' };
  return {
    auth: {
      type: 'auth_failure',
      ts: 0,
      flow: 0,
      client: '',
      clientPort: 0,
      server: '',
      serverPort: 0,
      code: 0,
      mech: null,
      user: null,
      text: '',
      matched: false,
      inferred: null,
      wire: NO_WIRE,
    },
    starttls: { type: 'starttls', ts: 0, flow: 0, client: '', clientPort: 0, server: '', serverPort: 0, implicit: false },
    strike: { type: 'strike', ...base, n: 0, hitcount: 0, prefix: '', inferred: false, source: 'wire', wire: wire() },
    reject: { type: 'reject', ...base, rule: 'auth', prefix: '', wire: wire(), block: null },
    block: { type: 'block', ...base, rule: 'auth', from: 0, until: 0, level: 0 },
  };
}

/**
 * The receiving side: the events back from a chunk's records, with the fields the JSON line
 * shows (the others — the flow number, the auth event's packet — are zero or empty). An event is
 * the reader's own, good until the next call: one object of each kind is written over for each
 * record (a new one per record kept the formatter thread's collector busy beside the replay).
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
  private readonly ev = reusable();
  private readonly inferred = { basis: 0, recordLen: 0, delay: 0, known: false };
  private readonly rejectBlock = { level: 0, until: 0 };

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

  /** The next event (good until the next call) or line of text, or null at the chunk's end. */
  next(): PipelineEvent | string | null {
    while (this.p < this.end) {
      const t = this.f[this.p++]!;
      switch (t) {
        case AUTH_FAILURE:
        case AUTH_SUCCESS:
        case AUTH_TEMPFAIL:
          return this.auth(t === AUTH_FAILURE ? 'auth_failure' : t === AUTH_SUCCESS ? 'auth_success' : 'auth_tempfail');
        case STARTTLS: {
          const ev = this.ev.starttls;
          ev.ts = this.num();
          ev.client = this.fresh(CLIENT);
          ev.clientPort = this.num();
          ev.server = this.text();
          ev.serverPort = this.num();
          ev.implicit = this.num() === 1;
          return ev;
        }
        case STRIKE: {
          const ev = this.ev.strike;
          ev.ts = this.num();
          ev.client = this.fresh(CLIENT);
          ev.key = this.fresh(KEY);
          ev.n = this.num();
          ev.hitcount = this.num();
          ev.prefix = this.text();
          ev.inferred = this.num() === 1;
          ev.source = this.text() as StrikeEvent['source'];
          this.wire(ev.wire);
          return ev;
        }
        case REJECT: {
          const ev = this.ev.reject;
          ev.ts = this.num();
          ev.client = this.fresh(CLIENT);
          ev.key = this.fresh(KEY);
          ev.rule = this.text() as RejectEvent['rule'];
          ev.prefix = this.text();
          ev.block = null;
          if (this.num() === 1) {
            const b = (ev.block = this.rejectBlock);
            b.level = this.num();
            b.until = this.num();
          }
          this.wire(ev.wire);
          return ev;
        }
        case BLOCK: {
          const ev = this.ev.block;
          ev.ts = this.num();
          ev.client = this.fresh(CLIENT);
          ev.key = this.fresh(KEY);
          ev.rule = this.text() as BlockEvent['rule'];
          ev.from = this.num();
          ev.until = this.num();
          ev.level = this.num();
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
    const ev = this.ev.auth;
    ev.type = type;
    ev.ts = this.num();
    ev.client = this.fresh(CLIENT);
    ev.clientPort = this.num();
    ev.server = this.text();
    ev.serverPort = this.num();
    ev.code = this.num();
    ev.mech = this.textOrNull();
    ev.user = this.f[this.p] === NULL_TEXT ? (this.p++, null) : this.fresh(USER);
    ev.text = this.text();
    const flags = this.num();
    ev.matched = (flags & MATCHED) !== 0;
    ev.inferred = null;
    if (flags & INFERRED) {
      const i = (ev.inferred = this.inferred);
      i.basis = this.num();
      i.recordLen = this.num();
      i.delay = this.num();
      i.known = (flags & KNOWN) !== 0;
    }
    return ev;
  }

  private wire(w: WireSnapshot): void {
    w.ipVersion = this.num() as 4 | 6;
    w.src = this.text();
    w.dst = this.fresh(DST);
    w.ipLen = this.num();
    w.tos = this.num();
    w.ttl = this.num();
    w.ipId = this.num();
    w.df = this.num() === 1;
    w.flowLabel = this.num();
    w.sport = this.num();
    w.dport = this.num();
    w.window = this.num();
    w.tcpFlags = this.num();
    w.iface = this.text();
  }
}
