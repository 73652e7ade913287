/**
 * One event's JSON line written as bytes (`writeEventJson`): the same bytes as
 * `JSON.stringify(eventJson(ev))` (json-lines.ts) encoded as UTF-8, made in place in a ByteLines
 * buffer (native-notes/replay-output.md, "Second round").
 */
import type { AuthEvent, BlockEvent, PipelineEvent, RejectEvent, StartTlsEvent, StrikeEvent, WireSnapshot } from '../events.js';
import { strikeLogLine } from '../strikes/iptables-log.js';
import { basisNames } from '../tls/auth-exchange.js';
import { ByteLines, bytesOf, jsonBound, SEC6_LIMIT, type Bytes } from './json-bytes.js';

/** isoTime without the cache: the definition the cached one must equal. */
export function isoTimeUncached(ts: number): string {
  const totalUs = Math.round(ts * 1e6);
  const us = totalUs % 1000;
  return new Date((totalUs - us) / 1000).toISOString().replace('Z', `${String(us).padStart(3, '0')}Z`);
}

/** The constant runs of the lines, as words (ByteLines.put). */
const K = {
  ts: bytesOf(',"ts":'),
  time: bytesOf(',"time":"'),
  Z: bytesOf('Z"'),
  client: bytesOf(',"client":'),
  client_port: bytesOf(',"client_port":'),
  server: bytesOf(',"server":'),
  server_port: bytesOf(',"server_port":'),
  code: bytesOf(',"code":'),
  mech: bytesOf(',"mech":'),
  null: bytesOf('null'),
  user: bytesOf(',"user":'),
  text: bytesOf(',"text":'),
  matched_true: bytesOf(',"matched":true'),
  inferred_true_basis: bytesOf(',"inferred":true,"basis":['),
  comma: bytesOf(','),
  record_len: bytesOf('],"record_len":'),
  delay_s: bytesOf(',"delay_s":'),
  close: bytesOf('}'),
  key: bytesOf(',"key":'),
  n: bytesOf(',"n":'),
  hitcount: bytesOf(',"hitcount":'),
  inferred_true: bytesOf(',"inferred":true'),
  source: bytesOf(',"source":'),
  log: bytesOf(',"log":'),
  rule: bytesOf(',"rule":'),
  from: bytesOf(',"from":'),
  until: bytesOf(',"until":'),
  until_time: bytesOf(',"until_time":"'),
  Z_level: bytesOf('Z","level":'),
  IN: bytesOf(' IN='),
  OUT_SRC: bytesOf(' OUT= SRC='),
  IN_OUT_SRC: bytesOf(' IN= OUT= SRC='),
  IN_OUT: bytesOf(' IN= OUT='),
  SRC: bytesOf(' SRC='),
  DST: bytesOf(' DST='),
  LEN: bytesOf(' LEN='),
  ID: bytesOf(' ID='),
  DPT: bytesOf(' DPT='),
  WINDOW: bytesOf(' WINDOW='),
  known_size_true: bytesOf(',"known_size":true'),
  known_size_false: bytesOf(',"known_size":false'),
  implicit_true: bytesOf(',"implicit":true}'),
  implicit_false: bytesOf(',"implicit":false}'),
  DF_PROTO_TCP_SPT: bytesOf(' DF PROTO=TCP SPT='),
  PROTO_TCP_SPT: bytesOf(' PROTO=TCP SPT='),
};

const TYPE_HEAD = {
  auth_failure: bytesOf('{"type":"auth_failure"'),
  auth_success: bytesOf('{"type":"auth_success"'),
  auth_tempfail: bytesOf('{"type":"auth_tempfail"'),
  starttls: bytesOf('{"type":"starttls"'),
  strike: bytesOf('{"type":"strike"'),
  reject: bytesOf('{"type":"reject"'),
  block: bytesOf('{"type":"block"'),
} as const;

/** The text up to the seconds' dot of one second, for isoInto: one for event times, one for block ends. */
interface IsoCache {
  second: number;
  prefix: Bytes;
}
const eventSecond: IsoCache = { second: NaN, prefix: bytesOf('') };
const untilSecond: IsoCache = { second: NaN, prefix: bytesOf('') };

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
    c.prefix = bytesOf(new Date(second * 1000).toISOString().slice(0, 20)); // YYYY-MM-DDTHH:MM:SS.
    c.second = second;
  }
  w.put(c.prefix);
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
  const us = Math.round(ts * 1e6);
  if (us >= 0 && us < SEC6_LIMIT) {
    // sec6 and isoInto with the split made once (both round ts to µs the same way).
    let second = Math.floor(us / 1e6);
    let rem = us - second * 1e6; // exact: below 2^53
    if (rem < 0) {
      second--;
      rem += 1e6;
    } else if (rem >= 1e6) {
      second++;
      rem -= 1e6;
    }
    w.put(K.ts);
    w.secParts(second, rem);
    w.put(K.time);
    const c = eventSecond;
    if (second !== c.second) {
      c.prefix = bytesOf(new Date(second * 1000).toISOString().slice(0, 20)); // YYYY-MM-DDTHH:MM:SS.
      c.second = second;
    }
    w.put(c.prefix);
    w.digits(rem, 6);
  } else {
    w.put(K.ts);
    w.sec6(ts);
    w.put(K.time);
    isoInto(w, ts, eventSecond);
  }
  w.put(K.Z);
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
  w.put(TYPE_HEAD[ev.type]);
  tsInto(w, ev.ts);
  w.put(K.client);
  w.str(ev.client);
  w.put(K.client_port);
  w.num(ev.clientPort);
  w.put(K.server);
  w.str(ev.server);
  w.put(K.server_port);
  w.num(ev.serverPort);
  w.put(K.code);
  w.num(ev.code);
  w.put(K.mech);
  if (ev.mech === null) w.put(K.null);
  else w.str(ev.mech);
  w.put(K.user);
  if (ev.user === null) w.put(K.null);
  else w.str(ev.user);
  w.put(K.text);
  w.str(ev.text);
  if (ev.matched) w.put(K.matched_true);
  const i = ev.inferred;
  if (i) {
    w.put(K.inferred_true_basis);
    const names = basisNames(i.basis);
    for (let k = 0; k < names.length; k++) {
      if (k) w.put(K.comma);
      w.str(names[k]!);
    }
    w.put(K.record_len);
    w.num(i.recordLen);
    w.put(K.delay_s);
    w.sec6(i.delay);
    w.put(i.known ? K.known_size_true : K.known_size_false);
  }
  w.put(K.close);
}

function startTlsInto(w: ByteLines, ev: StartTlsEvent): void {
  w.put(TYPE_HEAD.starttls);
  tsInto(w, ev.ts);
  w.put(K.client);
  w.str(ev.client);
  w.put(K.client_port);
  w.num(ev.clientPort);
  w.put(K.server);
  w.str(ev.server);
  w.put(K.server_port);
  w.num(ev.serverPort);
  w.put(ev.implicit ? K.implicit_true : K.implicit_false);
}

/** What a strike, reject and block line begin with: the type, the times, the client and its strike key. */
function keyedHeadInto(w: ByteLines, head: Bytes, ev: StrikeEvent | RejectEvent | BlockEvent): void {
  w.put(head);
  tsInto(w, ev.ts);
  w.put(K.client);
  w.str(ev.client);
  w.put(K.key);
  w.str(ev.key);
}

function strikeInto(w: ByteLines, ev: StrikeEvent): void {
  keyedHeadInto(w, TYPE_HEAD.strike, ev);
  w.put(K.n);
  w.num(ev.n);
  w.put(K.hitcount);
  w.num(ev.hitcount);
  if (ev.inferred) w.put(K.inferred_true);
  w.put(K.source);
  w.str(ev.source);
  w.put(K.log);
  logInto(w, ev);
  w.put(K.close);
}

function rejectInto(w: ByteLines, ev: RejectEvent): void {
  keyedHeadInto(w, TYPE_HEAD.reject, ev);
  w.put(K.rule);
  w.str(ev.rule);
  w.put(K.log);
  logInto(w, ev);
  w.put(K.close);
}

function blockInto(w: ByteLines, ev: BlockEvent): void {
  keyedHeadInto(w, TYPE_HEAD.block, ev);
  w.put(K.rule);
  w.str(ev.rule);
  w.put(K.from);
  w.sec6(ev.from);
  w.put(K.until);
  w.sec6(ev.until);
  w.put(K.until_time);
  isoInto(w, ev.until, untilSecond);
  w.put(K.Z_level);
  w.num(ev.level);
  w.put(K.close);
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
const TOS_TEXT = Array.from({ length: 256 }, (_, t) => bytesOf(` TOS=0x${hex2(t & 0x1e)} PREC=0x${hex2(t & 0xe0)} TTL=`));
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
  return bytesOf(`${names.join('')} URGP=0`);
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
    w.put(K.IN);
    if (!w.plain(x.iface)) return false;
    w.put(K.OUT_SRC);
  } else if (x.iface === '') w.put(K.IN_OUT_SRC);
  else {
    w.put(K.IN_OUT);
    if (!w.plain(x.iface)) return false;
    w.put(K.SRC);
  }
  if (!w.plain(x.src)) return false;
  w.put(K.DST);
  if (!w.plain(x.dst)) return false;
  w.put(K.LEN);
  w.textNum(x.ipLen);
  w.put(TOS_TEXT[x.tos & 0xfe]!);
  w.textNum(x.ttl);
  w.put(K.ID);
  w.textNum(x.ipId);
  w.put(x.df ? K.DF_PROTO_TCP_SPT : K.PROTO_TCP_SPT);
  w.textNum(x.sport);
  w.put(K.DPT);
  w.textNum(x.dport);
  w.put(K.WINDOW);
  w.textNum(x.window);
  w.put(FLAGS_TEXT[x.tcpFlags & 0xff]!);
  return true;
}
