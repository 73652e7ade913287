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

/**
 * The fields `writeEventJson` reads, packed as numbers into a shared Float64Array so that the
 * lines can be formatted on another thread (json-format-worker.ts; native-notes/replay-output.md,
 * "Fifth round"). Texts travel as numbers too: each distinct string is sent once (in the chunk's
 * `strings`, in order) and named by its place in a table both sides keep; a replay's texts repeat
 * (a handful of reply texts and servers, the clients' address texts, the usernames of a
 * dictionary), so a line's texts cost the main thread one Map lookup each instead of a copy.
 *
 * `--threads`' event-pack.ts packs into an array that a structured clone then walks value by
 * value, which cost the main thread as much as formatting the lines (the fourth round); this
 * packing is stores into shared memory and carries only what the JSON line shows.
 */

/** Doubles a chunk holds (256 KiB). */
const CHUNK_DOUBLES = 32 * 1024;
/** UTF-16 units of fresh texts (usernames, reply texts) a chunk holds after its doubles (128 KiB). */
const CHUNK_UNITS = 64 * 1024;
/** A chunk's size in bytes: the doubles, then the texts' units. */
export const CHUNK_BYTES = CHUNK_DOUBLES * 8 + CHUNK_UNITS * 2;
/** A record takes at most 32 doubles (a reject: 9 + 2 + the 14 of its packet); a chunk is handed on when fewer than this are left. */
const RECORD_ROOM = 64;
/** The most texts one record names: a new record starts a fresh table when fewer than this are left. */
const RECORD_TEXTS = 8;

const AUTH_FAILURE = 0;
const AUTH_SUCCESS = 1;
const AUTH_TEMPFAIL = 2;
const STARTTLS = 3;
const STRIKE = 4;
const REJECT = 5;
const BLOCK = 6;
/** Both tables start over (the sender's grew to its bound). */
const RESET = 7;
/** A line of text as it is (`JsonLinesWriter.line`). */
const LINE = 8;

/** A text sent in this chunk's `strings` (the next one; it takes the table's next place). */
const NEW_TEXT = -1;
const NULL_TEXT = -2;
/** The same text as this field's last one. */
const SAME_TEXT = -3;
/** The record's client address (a strike key, the packet's destination). */
const AS_CLIENT = -4;
/** A fresh text in the chunk's units at -(value - INLINE_TEXT): its length, then its units. */
const INLINE_TEXT = -5;
/** Fresh texts longer than this go by the table. */
const INLINE_MAX = 1024;

/**
 * The fields whose texts change from one record to the next (each keeps its last text): a copy of
 * a short text's units costs less than a Map lookup, and the table would fill with every address.
 */
const USER = 0;
const CLIENT = 1;
const KEY = 2;
const DST = 3;
const FRESH_FIELDS = 4;

/** The fields named through the table, each with its last text and name (one compare, no hashing, when it repeats). */
const PREFIX = 0;
const SOURCE = 1;
const RULE = 2;
const MECH = 3;
const IFACE = 4;
const LINE_TEXT = 5;
const REPLY = 6;
const SERVER = 7;
const SRC = 8;
const SLOTS = 9;

const INFERRED = 1;
const KNOWN = 2;
const MATCHED = 4;

/** The sending side: records into the chunk it is given, and the texts it has not sent before. */
export class JsonEventPacker {
  f: Float64Array<ArrayBufferLike> = new Float64Array(0);
  n = 0;
  private u: Uint16Array<ArrayBufferLike> = new Uint16Array(0);
  private t = 0;
  private readonly last: (string | null)[] = new Array<string | null>(FRESH_FIELDS).fill(null);
  /** The record's client (every record names it first). */
  private client = '';
  /** Texts named for the first time in this chunk, in the order they were named. */
  strings: string[] = [];
  private readonly ids = new Map<string, number>();
  private readonly slotText: (string | null)[] = new Array<string | null>(SLOTS).fill(null);
  private readonly slotId = new Array<number>(SLOTS).fill(0);

  constructor(
    /** Texts the table holds before both sides start over (memory bound: hostile usernames are unbounded). */
    private readonly maxTexts = 16384,
  ) {}

  /** Goes on in a new chunk (CHUNK_BYTES). */
  use(chunk: SharedArrayBuffer): void {
    this.f = new Float64Array(chunk, 0, CHUNK_DOUBLES);
    this.u = new Uint16Array(chunk, CHUNK_DOUBLES * 8, CHUNK_UNITS);
    this.n = 0;
    this.t = 0;
    this.strings = [];
  }

  /** Fewer doubles or units left than a record can take: hand the chunk on. */
  get full(): boolean {
    return this.n > CHUNK_DOUBLES - RECORD_ROOM || this.t > CHUNK_UNITS - FRESH_FIELDS * (INLINE_MAX + 1);
  }

  /**
   * A text made afresh for each event (a username, a reply): the same as the field's last one
   * (one string compare), or its units copied into the chunk. A Map would hash every fresh string;
   * the profile showed that costing as much as the packing saved.
   */
  private fresh(s: string, field: number): number {
    if (field === CLIENT) this.client = s;
    if (s === this.last[field]) return SAME_TEXT;
    this.last[field] = s;
    if (field !== CLIENT && s === this.client) return AS_CLIENT;
    const len = s.length;
    if (len > INLINE_MAX) return this.text(s, LINE_TEXT);
    const u = this.u;
    const at = this.t;
    u[at] = len;
    let t = at + 1;
    for (let i = 0; i < len; i++) u[t++] = s.charCodeAt(i);
    this.t = t;
    return INLINE_TEXT - at;
  }

  private text(s: string, slot: number): number {
    if (s === this.slotText[slot]) return this.slotId[slot]!;
    let id = this.ids.get(s);
    this.slotText[slot] = s;
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(s, id);
      this.slotId[slot] = id;
      this.strings.push(s);
      return NEW_TEXT;
    }
    this.slotId[slot] = id;
    return id;
  }

  private room(): void {
    if (this.ids.size <= this.maxTexts - RECORD_TEXTS) return;
    this.ids.clear();
    this.slotText.fill(null);
    this.f[this.n++] = RESET;
  }

  /** Appends a line of text (with its newline) to be written as it is. */
  line(s: string): void {
    this.room();
    this.f[this.n] = LINE;
    this.f[this.n + 1] = this.text(s, LINE_TEXT);
    this.n += 2;
  }

  /** Appends `ev`'s record; false (nothing written) for the internal events. */
  pack(ev: PipelineEvent): boolean {
    if (ev.type === 'connect' || ev.type === 'flow_end') return false;
    this.room();
    const f = this.f;
    let n = this.n;
    switch (ev.type) {
      case 'auth_failure':
      case 'auth_success':
      case 'auth_tempfail': {
        f[n] = ev.type === 'auth_failure' ? AUTH_FAILURE : ev.type === 'auth_success' ? AUTH_SUCCESS : AUTH_TEMPFAIL;
        f[n + 1] = ev.ts;
        f[n + 2] = this.fresh(ev.client, CLIENT);
        f[n + 3] = ev.clientPort;
        f[n + 4] = this.text(ev.server, SERVER);
        f[n + 5] = ev.serverPort;
        f[n + 6] = ev.code;
        f[n + 7] = ev.mech === null ? NULL_TEXT : this.text(ev.mech, MECH);
        f[n + 8] = ev.user === null ? NULL_TEXT : this.fresh(ev.user, USER);
        f[n + 9] = this.text(ev.text, REPLY);
        const i = ev.inferred;
        f[n + 10] = (ev.matched ? MATCHED : 0) | (i === null ? 0 : INFERRED | (i.known ? KNOWN : 0));
        n += 11;
        if (i !== null) {
          f[n] = i.basis;
          f[n + 1] = i.recordLen;
          f[n + 2] = i.delay;
          n += 3;
        }
        break;
      }
      case 'starttls':
        f[n] = STARTTLS;
        f[n + 1] = ev.ts;
        f[n + 2] = this.fresh(ev.client, CLIENT);
        f[n + 3] = ev.clientPort;
        f[n + 4] = this.text(ev.server, SERVER);
        f[n + 5] = ev.serverPort;
        f[n + 6] = ev.implicit ? 1 : 0;
        n += 7;
        break;
      case 'strike':
        f[n] = STRIKE;
        f[n + 1] = ev.ts;
        f[n + 2] = this.fresh(ev.client, CLIENT);
        f[n + 3] = this.fresh(ev.key, KEY);
        f[n + 4] = ev.n;
        f[n + 5] = ev.hitcount;
        f[n + 6] = this.text(ev.prefix, PREFIX);
        f[n + 7] = ev.inferred ? 1 : 0;
        f[n + 8] = this.text(ev.source, SOURCE);
        n = this.wire(ev.wire, n + 9);
        break;
      case 'reject': {
        f[n] = REJECT;
        f[n + 1] = ev.ts;
        f[n + 2] = this.fresh(ev.client, CLIENT);
        f[n + 3] = this.fresh(ev.key, KEY);
        f[n + 4] = this.text(ev.rule, RULE);
        f[n + 5] = this.text(ev.prefix, PREFIX);
        const b = ev.block;
        f[n + 6] = b === null ? 0 : 1;
        n += 7;
        if (b !== null) {
          f[n] = b.level;
          f[n + 1] = b.until;
          n += 2;
        }
        n = this.wire(ev.wire, n);
        break;
      }
      case 'block':
        f[n] = BLOCK;
        f[n + 1] = ev.ts;
        f[n + 2] = this.fresh(ev.client, CLIENT);
        f[n + 3] = this.fresh(ev.key, KEY);
        f[n + 4] = this.text(ev.rule, RULE);
        f[n + 5] = ev.from;
        f[n + 6] = ev.until;
        f[n + 7] = ev.level;
        n += 8;
        break;
    }
    this.n = n;
    return true;
  }

  private wire(w: WireSnapshot, n: number): number {
    const f = this.f;
    f[n] = w.ipVersion;
    f[n + 1] = this.text(w.src, SRC);
    f[n + 2] = this.fresh(w.dst, DST);
    f[n + 3] = w.ipLen;
    f[n + 4] = w.tos;
    f[n + 5] = w.ttl;
    f[n + 6] = w.ipId;
    f[n + 7] = w.df ? 1 : 0;
    f[n + 8] = w.flowLabel;
    f[n + 9] = w.sport;
    f[n + 10] = w.dport;
    f[n + 11] = w.window;
    f[n + 12] = w.tcpFlags;
    f[n + 13] = this.text(w.iface, IFACE);
    return n + 14;
  }
}

/**
 * The receiving side: the events back from a chunk's records, with the fields the JSON line
 * shows (the others — the flow number, the auth event's packet — are zero or empty).
 */
export class JsonEventUnpacker {
  private readonly table: string[] = [];
  private readonly last: string[] = new Array<string>(FRESH_FIELDS).fill('');
  private client = '';
  private u: Uint16Array<ArrayBufferLike> = new Uint16Array(0);
  private f: Float64Array<ArrayBufferLike> = new Float64Array(0);
  private p = 0;
  private end = 0;
  private strings: readonly string[] = [];
  private nextString = 0;

  /** Reads the first `n` doubles of `chunk`, whose new texts are `strings`. */
  use(chunk: SharedArrayBuffer, n: number, strings: readonly string[]): void {
    this.f = new Float64Array(chunk, 0, CHUNK_DOUBLES);
    this.u = new Uint16Array(chunk, CHUNK_DOUBLES * 8, CHUNK_UNITS);
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
      const u = this.u;
      s = this.last[field] = Buffer.from(u.buffer, u.byteOffset + 2 * (at + 1), 2 * u[at]!).toString('ucs2');
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
