import type { PipelineEvent, WireSnapshot } from '../events.js';
import {
  CHUNK_DOUBLES,
  CHUNK_UNITS,
  RECORD_ROOM,
  RECORD_TEXTS,
  AUTH_FAILURE,
  AUTH_SUCCESS,
  AUTH_TEMPFAIL,
  STARTTLS,
  STRIKE,
  REJECT,
  BLOCK,
  RESET,
  LINE,
  NEW_TEXT,
  NULL_TEXT,
  SAME_TEXT,
  AS_CLIENT,
  INLINE_TEXT,
  INLINE_MAX,
  USER,
  CLIENT,
  KEY,
  DST,
  FRESH_FIELDS,
  PREFIX,
  SOURCE,
  RULE,
  MECH,
  IFACE,
  LINE_TEXT,
  REPLY,
  SERVER,
  SRC,
  SLOTS,
  INFERRED,
  KNOWN,
  MATCHED,
} from './json-pack-format.js';

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
