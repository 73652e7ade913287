import type { AuthEvent, BlockEvent, EventSink, InferredBasis, PipelineEvent, RejectEvent, StartTlsEvent, StrikeEvent, WireSnapshot } from '../events.js';
import { basisNames } from '../tls/auth-exchange.js';
import { strikeLogLine } from '../strikes/iptables-log.js';
import { ByteLines, jsonBound, SLACK } from './json-bytes.js';

/** isoTime without the cache: the definition the cached one must equal. */
export function isoTimeUncached(ts: number): string {
  const totalUs = Math.round(ts * 1e6);
  const us = totalUs % 1000;
  return new Date((totalUs - us) / 1000).toISOString().replace('Z', `${String(us).padStart(3, '0')}Z`);
}

const pad3 = (n: number): string => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n));
let isoSecond = NaN;
let isoPrefix = '';

/** ISO 8601 UTC with microseconds, from packet seconds (the text up to the dot cached per second). */
export function isoTime(ts: number): string {
  const totalUs = Math.round(ts * 1e6);
  if (!(totalUs >= 0 && totalUs <= Number.MAX_SAFE_INTEGER)) return isoTimeUncached(ts);
  const us = totalUs % 1000;
  const ms = (totalUs - us) / 1000;
  const msPart = ms % 1000;
  const second = (ms - msPart) / 1000;
  if (second !== isoSecond) {
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 20); // YYYY-MM-DDTHH:MM:SS.
    isoSecond = second;
  }
  return isoPrefix + pad3(msPart) + pad3(us) + 'Z';
}

/** The documented JSON shape of each event type (snake_case, stable: other tools read it). */
export function eventJson(ev: PipelineEvent): Record<string, unknown> | null {
  const base = { type: ev.type, ts: round6(ev.ts), time: isoTime(ev.ts) };
  switch (ev.type) {
    case 'auth_failure':
    case 'auth_success':
    case 'auth_tempfail':
      return {
        ...base,
        client: ev.client,
        client_port: ev.clientPort,
        server: ev.server,
        server_port: ev.serverPort,
        code: ev.code,
        mech: ev.mech,
        user: ev.user,
        text: ev.text,
        ...(ev.matched ? { matched: true } : {}),
        ...(ev.inferred ? inferredJson(ev.inferred) : {}),
      };
    case 'starttls':
      return { ...base, client: ev.client, client_port: ev.clientPort, server: ev.server, server_port: ev.serverPort, implicit: ev.implicit };
    case 'strike':
      return {
        ...base,
        client: ev.client,
        key: ev.key,
        n: ev.n,
        hitcount: ev.hitcount,
        ...(ev.inferred ? { inferred: true } : {}),
        source: ev.source,
        log: strikeLogLine(ev),
      };
    case 'reject':
      return { ...base, client: ev.client, key: ev.key, rule: ev.rule, log: strikeLogLine(ev) };
    case 'block':
      return {
        ...base,
        client: ev.client,
        key: ev.key,
        rule: ev.rule,
        from: round6(ev.from),
        until: round6(ev.until),
        until_time: isoTime(ev.until),
        level: ev.level,
      };
    default:
      return null; // connect / flow_end are internal
  }
}

/** An outcome inferred inside TLS: what it rests on (src/tls/auth-exchange.ts BASIS_* bits). */
function inferredJson(i: InferredBasis): Record<string, unknown> {
  return { inferred: true, basis: basisNames(i.basis), record_len: i.recordLen, delay_s: round6(i.delay), known_size: i.known };
}

export function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

const TYPE_HEAD = {
  auth_failure: '{"type":"auth_failure"',
  auth_success: '{"type":"auth_success"',
  auth_tempfail: '{"type":"auth_tempfail"',
  starttls: '{"type":"starttls"',
  strike: '{"type":"strike"',
  reject: '{"type":"reject"',
  block: '{"type":"block"',
} as const;

/** The text up to the seconds' dot of one second, for isoInto: one for event times, one for block ends. */
interface IsoCache {
  second: number;
  prefix: string;
}
const eventSecond: IsoCache = { second: NaN, prefix: '' };
const untilSecond: IsoCache = { second: NaN, prefix: '' };

/** isoTime(ts) without its `Z` (at most 40 bytes), the text up to the seconds made once per second (in `c`). */
function isoInto(w: ByteLines, ts: number, c: IsoCache): void {
  const totalUs = Math.round(ts * 1e6);
  if (!(totalUs >= 0 && totalUs <= Number.MAX_SAFE_INTEGER)) {
    w.raw(isoTimeUncached(ts).slice(0, -1)); // ASCII
    return;
  }
  // The second and the µs in it without a double's `%` (a call): the quotient's rounding corrected.
  let second = Math.floor(totalUs / 1e6);
  let rem = totalUs - second * 1e6;
  if (rem < 0) {
    second--;
    rem += 1e6;
  } else if (rem >= 1e6) {
    second++;
    rem -= 1e6;
  }
  if (second !== c.second) {
    c.prefix = new Date(second * 1000).toISOString().slice(0, 20); // YYYY-MM-DDTHH:MM:SS.
    c.second = second;
  }
  w.raw(c.prefix);
  w.digits(rem, 6);
}

/** Where the last `,"ts":…,"time":"…Z"` was written: the next event at the same time copies it. */
let tsLast = NaN;
let tsGen = -1;
let tsStart = 0;
let tsEnd = 0;

/** `,"ts":…,"time":"…Z"` (at most 100 bytes). */
function tsInto(w: ByteLines, ts: number): void {
  if (ts === tsLast && w.gen === tsGen) {
    w.buf.copyWithin(w.pos, tsStart, tsEnd);
    w.pos += tsEnd - tsStart;
    return;
  }
  const start = w.pos;
  w.raw(',"ts":');
  w.sec6(ts);
  w.raw(',"time":"');
  isoInto(w, ts, eventSecond);
  w.raw('Z"');
  tsLast = ts;
  tsGen = w.gen;
  tsStart = start;
  tsEnd = w.pos;
}

/** Bytes of a line beyond its texts' jsonBound: constants, numbers, times (a strike's LOG line: ~700 at most). */
const LINE_FIXED = 2048;

/**
 * `JSON.stringify(eventJson(ev))` into `w`, byte for byte as UTF-8 (keys in the same order),
 * without the object, the generic walk or a string per line (test/replay-output.test.ts compares
 * the two on every shipped capture and on hostile texts). False, and nothing written, for the
 * internal events.
 */
export function writeEventJson(w: ByteLines, ev: PipelineEvent): boolean {
  switch (ev.type) {
    case 'auth_failure':
    case 'auth_success':
    case 'auth_tempfail':
      w.reserve(
        LINE_FIXED +
          jsonBound(ev.client) +
          jsonBound(ev.server) +
          jsonBound(ev.text) +
          (ev.mech === null ? 0 : jsonBound(ev.mech)) +
          (ev.user === null ? 0 : jsonBound(ev.user)),
      );
      authInto(w, ev);
      return true;
    case 'starttls':
      w.reserve(LINE_FIXED + jsonBound(ev.client) + jsonBound(ev.server));
      startTlsInto(w, ev);
      return true;
    case 'strike':
    case 'reject':
      w.reserve(
        LINE_FIXED + jsonBound(ev.client) + jsonBound(ev.key) + 6 * (ev.prefix.length + ev.wire.iface.length + ev.wire.src.length + ev.wire.dst.length),
      );
      if (ev.type === 'strike') strikeInto(w, ev);
      else rejectInto(w, ev);
      return true;
    case 'block':
      w.reserve(LINE_FIXED + jsonBound(ev.client) + jsonBound(ev.key));
      blockInto(w, ev);
      return true;
    default:
      return false; // connect / flow_end are internal
  }
}

function authInto(w: ByteLines, ev: AuthEvent): void {
  w.raw(TYPE_HEAD[ev.type]);
  tsInto(w, ev.ts);
  w.raw(',"client":');
  w.str(ev.client);
  w.raw(',"client_port":');
  w.num(ev.clientPort);
  w.raw(',"server":');
  w.str(ev.server);
  w.raw(',"server_port":');
  w.num(ev.serverPort);
  w.raw(',"code":');
  w.num(ev.code);
  w.raw(',"mech":');
  if (ev.mech === null) w.raw('null');
  else w.str(ev.mech);
  w.raw(',"user":');
  if (ev.user === null) w.raw('null');
  else w.str(ev.user);
  w.raw(',"text":');
  w.str(ev.text);
  if (ev.matched) w.raw(',"matched":true');
  const i = ev.inferred;
  if (i) {
    w.raw(',"inferred":true,"basis":[');
    const names = basisNames(i.basis);
    for (let k = 0; k < names.length; k++) {
      if (k) w.raw(',');
      w.str(names[k]!);
    }
    w.raw('],"record_len":');
    w.num(i.recordLen);
    w.raw(',"delay_s":');
    w.sec6(i.delay);
    w.raw(i.known ? ',"known_size":true' : ',"known_size":false');
  }
  w.raw('}');
}

function startTlsInto(w: ByteLines, ev: StartTlsEvent): void {
  w.raw(TYPE_HEAD.starttls);
  tsInto(w, ev.ts);
  w.raw(',"client":');
  w.str(ev.client);
  w.raw(',"client_port":');
  w.num(ev.clientPort);
  w.raw(',"server":');
  w.str(ev.server);
  w.raw(',"server_port":');
  w.num(ev.serverPort);
  w.raw(ev.implicit ? ',"implicit":true}' : ',"implicit":false}');
}

function strikeInto(w: ByteLines, ev: StrikeEvent): void {
  w.raw(TYPE_HEAD.strike);
  tsInto(w, ev.ts);
  w.raw(',"client":');
  w.str(ev.client);
  w.raw(',"key":');
  w.str(ev.key);
  w.raw(',"n":');
  w.num(ev.n);
  w.raw(',"hitcount":');
  w.num(ev.hitcount);
  if (ev.inferred) w.raw(',"inferred":true');
  w.raw(',"source":');
  w.str(ev.source);
  w.raw(',"log":');
  logInto(w, ev);
  w.raw('}');
}

function rejectInto(w: ByteLines, ev: RejectEvent): void {
  w.raw(TYPE_HEAD.reject);
  tsInto(w, ev.ts);
  w.raw(',"client":');
  w.str(ev.client);
  w.raw(',"key":');
  w.str(ev.key);
  w.raw(',"rule":');
  w.str(ev.rule);
  w.raw(',"log":');
  logInto(w, ev);
  w.raw('}');
}

function blockInto(w: ByteLines, ev: BlockEvent): void {
  w.raw(TYPE_HEAD.block);
  tsInto(w, ev.ts);
  w.raw(',"client":');
  w.str(ev.client);
  w.raw(',"key":');
  w.str(ev.key);
  w.raw(',"rule":');
  w.str(ev.rule);
  w.raw(',"from":');
  w.sec6(ev.from);
  w.raw(',"until":');
  w.sec6(ev.until);
  w.raw(',"until_time":"');
  isoInto(w, ev.until, untilSecond);
  w.raw('Z","level":');
  w.num(ev.level);
  w.raw('}');
}

/** strikeLogLine(ev) as a JSON string, made in place (the string itself only when a text needs escaping, or for IPv6). */
function logInto(w: ByteLines, ev: StrikeEvent | RejectEvent): void {
  const start = w.pos;
  w.buf[w.pos++] = 0x22;
  if (logTextInto(w, ev.prefix, ev.wire, ev.type === 'reject')) {
    w.buf[w.pos++] = 0x22;
    return;
  }
  w.pos = start; // reserved room: nothing moved
  w.str(strikeLogLine(ev));
}

/** ` TOS=0x.. PREC=0x.. TTL=` of each TOS byte (its low bit is in neither field). */
const TOS_TEXT = Array.from({ length: 256 }, (_, t) => ` TOS=0x${hex2(t & 0x1e)} PREC=0x${hex2(t & 0xe0)} TTL=`);
/** ` RES=0x00 … URGP=0` with the names of each set of TCP flags. */
const FLAGS_TEXT = Array.from({ length: 256 }, (_, f) => {
  const names = [' RES=0x00'];
  for (const [bit, name] of [
    [0x80, 'CWR'],
    [0x40, 'ECE'],
    [0x20, 'URG'],
    [0x10, 'ACK'],
    [0x08, 'PSH'],
    [0x04, 'RST'],
    [0x02, 'SYN'],
    [0x01, 'FIN'],
  ] as const)
    if (f & bit) names.push(` ${name}`);
  return `${names.join('')} URGP=0`;
});

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

/**
 * iptablesLogLine(prefix, x, inbound) (src/strikes/iptables-log.ts) written in place, IPv4 only;
 * false (part written) when a text would need escaping in JSON, or for IPv6: the caller goes back.
 */
function logTextInto(w: ByteLines, prefix: string, x: WireSnapshot, inbound: boolean): boolean {
  if (x.ipVersion !== 4 || !w.plain(prefix)) return false;
  if (inbound) {
    w.raw(' IN=');
    if (!w.plain(x.iface)) return false;
    w.raw(' OUT= SRC=');
  } else if (x.iface === '') w.raw(' IN= OUT= SRC=');
  else {
    w.raw(' IN= OUT=');
    if (!w.plain(x.iface)) return false;
    w.raw(' SRC=');
  }
  if (!w.plain(x.src)) return false;
  w.raw(' DST=');
  if (!w.plain(x.dst)) return false;
  w.raw(' LEN=');
  w.textNum(x.ipLen);
  w.raw(TOS_TEXT[x.tos & 0xfe]!);
  w.textNum(x.ttl);
  w.raw(' ID=');
  w.textNum(x.ipId);
  w.raw(x.df ? ' DF PROTO=TCP SPT=' : ' PROTO=TCP SPT=');
  w.textNum(x.sport);
  w.raw(' DPT=');
  w.textNum(x.dport);
  w.raw(' WINDOW=');
  w.textNum(x.window);
  w.raw(FLAGS_TEXT[x.tcpFlags & 0xff]!);
  return true;
}

const scratch = new ByteLines(4096, null);

/** `JSON.stringify(eventJson(ev))` (writeEventJson as a string); null for the internal events. */
export function eventJsonLine(ev: PipelineEvent): string | null {
  scratch.reset();
  return writeEventJson(scratch, ev) ? scratch.buf.toString('utf8', 0, scratch.pos) : null;
}

/** Where JSON lines go: text, or bytes when the output takes them (`Output.writeBytes`). */
export interface JsonLinesOut {
  write(s: string): unknown;
  /** Hands `bytes` on; `done` once the stream no longer needs them (the buffer is then written over). */
  writeBytes?(bytes: Uint8Array, done: () => void): void;
}

/** The pieces the writer hands on: ~256 KiB of lines each. */
const PIECE = 256 * 1024;

/**
 * Streams events as JSON lines into `out` in ~256 KiB pieces, written straight into a reused
 * buffer (a few, in turn, while the stream still holds one). The writer is synchronous; the caller
 * waits for the stream between packets (replay.ts), so a slow reader holds the replay back
 * instead of filling memory.
 */
export class JsonLinesWriter implements EventSink {
  private readonly bytes: ByteLines;
  /** Buffers the stream has given back. */
  private readonly free: Buffer[] = [];

  constructor(private readonly out: JsonLinesOut) {
    this.bytes = new ByteLines(PIECE, (buf, end) => this.hand(buf, end));
  }

  event(ev: PipelineEvent): void {
    const w = this.bytes;
    w.lineStart = w.pos;
    if (!writeEventJson(w, ev)) return;
    w.buf[w.pos++] = 0x0a; // LINE_FIXED has room for it
    if (w.pos >= PIECE) this.flush();
  }

  line(obj: unknown): void {
    const w = this.bytes;
    w.lineStart = w.pos;
    w.utf8(`${JSON.stringify(obj)}\n`);
    if (w.pos >= PIECE) this.flush();
  }

  flush(): void {
    const w = this.bytes;
    if (w.pos === 0) return;
    w.buf = this.hand(w.buf, w.pos);
    w.reset();
  }

  /** Hands buf[0, end) to the output; returns the buffer to write on in. */
  private hand(buf: Buffer, end: number): Buffer {
    const out = this.out;
    if (!out.writeBytes) {
      out.write(buf.toString('utf8', 0, end));
      return buf;
    }
    const next = this.free.pop() ?? Buffer.allocUnsafeSlow(PIECE + SLACK);
    out.writeBytes(buf.subarray(0, end), () => {
      if (this.free.length < 4 && buf.length === PIECE + SLACK) this.free.push(buf); // not one grown for a long line
    });
    return next;
  }
}
