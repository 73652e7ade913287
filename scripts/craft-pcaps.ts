/**
 * Writes the crafted edge-case captures and their ground truth:
 *
 *   npx tsc -p . && node dist/scripts/craft-pcaps.js [outdir=pcaps/crafted]
 *
 * Deterministic: fixed timestamps (from 2026-01-10T10:00:00Z), fixed ISNs, fixed ports, a seeded
 * PRNG; running it twice gives the same bytes (the two gzip files depend on the zlib build of the
 * Node that runs it). Every truth below is written by hand from the scenario next to it (what the
 * simulated client and server did, and the documented policies for gaps and overlaps); no
 * smtpstrike code is run here. Only file offsets for the broken files are taken from the writer
 * that laid the file out.
 *
 * Policies the truths rely on (see pcaps/crafted/README.md):
 *  - overlapping TCP bytes: FIRST COPY WINS (bytes first received for a sequence range are the
 *    ones delivered; later overlapping bytes are dropped, non-overlapping new bytes are kept);
 *  - a reply line is counted only when the whole line, up to its CRLF, was delivered; a line that
 *    a sequence gap (lost or snaplen-cut bytes) interrupts is discarded and the line splitter
 *    resynchronises at the next CRLF;
 *  - a stream whose start was not captured starts being parsed after its first CRLF.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isIPv6 } from 'node:net';
import { constants as zc, gunzipSync, gzipSync } from 'node:zlib';
import { LinkType } from '../src/decode/link-layer.js';
import { PcapWriter } from '../src/source/pcap-writer.js';
import { TcpConversation, TPID, linkTypeOf, type FrameSink, type Link } from './lib/frames.js';
import { BlockType, PcapngWriter, tsresolPow10, tsresolPow2 } from './lib/pcapng-writer.js';
import { ClassicPcapBuilder } from './lib/pcap-variants.js';

// ---------------------------------------------------------------------------------------------
// Constants of the simulated world

/** 2026-01-10T10:00:00Z in microseconds. */
const T0 = Date.UTC(2026, 0, 10, 10, 0, 0) * 1000;
/** Nanosecond variants carry this many ns below the microsecond, so µs and ns files agree to the µs. */
const SUB_US_NS = 123n;
const STEP = 2000; // µs between the messages of a session
const SERVER4 = '192.0.2.25';
const SERVER6 = '2001:db8::25';

const CRLF = '\r\n';
const GREETING = '220 mail.example.test ESMTP Postfix (Debian/GNU)\r\n';
const EHLO = 'EHLO client.example.test\r\n';
const EHLO_REPLY = '250-mail.example.test\r\n250-AUTH PLAIN LOGIN\r\n250-STARTTLS\r\n250 8BITMIME\r\n';
const USER_PROMPT = '334 VXNlcm5hbWU6\r\n';
const PASS_PROMPT = '334 UGFzc3dvcmQ6\r\n';
const FAIL = '535 5.7.8 Error: authentication failed: (reason unavailable)\r\n';
const OK235 = '235 2.7.0 Authentication successful\r\n';
const TEMPFAIL = '454 4.7.0 Temporary authentication failure: Connection lost to authentication server\r\n';
const BYE = '221 2.0.0 Bye\r\n';
/** Same length as FAIL, different bytes: the hostile second copy in overlap-conflict. */
const DECOY250 = '250 2.0.0 Ok: hostile overlap, same range as the 535 line'.padEnd(60, '.') + CRLF;

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const plainB64 = (user: string, pass: string, authz = ''): string => b64(`${authz}\0${user}\0${pass}`);

// ---------------------------------------------------------------------------------------------
// Frames and sessions

type Bytes = string | Uint8Array;
const bytesOf = (d: Bytes): Buffer => (typeof d === 'string' ? Buffer.from(d, 'latin1') : Buffer.from(d));

interface Rec {
  frame: Buffer;
  tsUsec: number;
  link: Link;
}

/** Collects frames; `capturing` false drops them (the part of a session before a capture starts). */
class Capture {
  readonly recs: Rec[] = [];
  capturing = true;
  private sessions = 0;
  constructor(readonly link: Link = 'en10mb') {}
  sink(link: Link): FrameSink {
    return (frame, tsUsec) => {
      if (this.capturing) this.recs.push({ frame, tsUsec, link });
    };
  }
  nextIndex(): number {
    return this.sessions++;
  }
  /** Frames in time order (stable: equal timestamps keep emission order). */
  sorted(): Rec[] {
    return this.recs
      .map((r, i) => ({ r, i }))
      .sort((a, b) => a.r.tsUsec - b.r.tsUsec || a.i - b.i)
      .map((x) => x.r);
  }
}

interface SessionSpec {
  client: string;
  /** Seconds after T0 at which the SYN is sent. */
  at: number;
  port?: number;
  cport?: number;
  link?: Link;
  vlan?: number[];
  tpids?: number[];
  isnC?: number;
  isnS?: number;
}

/** A piece of a send: bytes [from, to) of the data (or `bytes` instead, same length) at seq base+from. */
interface Piece {
  from: number;
  to: number;
  bytes?: Bytes;
}

/** One SMTP connection; every message moves the clock by STEP. */
class Smtp {
  readonly conv: TcpConversation;
  t: number;
  constructor(
    readonly cap: Capture,
    spec: SessionSpec,
  ) {
    const i = cap.nextIndex();
    const link = spec.link ?? cap.link;
    const server = isIPv6(spec.client) ? SERVER6 : SERVER4;
    this.conv = new TcpConversation(
      link,
      { ip: spec.client, port: spec.cport ?? 40001 + i * 2 },
      { ip: server, port: spec.port ?? 25 },
      cap.sink(link),
      spec.isnC ?? 0x3b9a0000 + i * 0x00101000,
      spec.isnS ?? 0x7a120000 + i * 0x00102000,
      spec.vlan,
      spec.tpids,
    );
    this.t = T0 + Math.round(spec.at * 1e6);
  }
  tick(us = STEP): void {
    this.t += us;
  }
  c(d: Bytes, cuts?: number[]): number {
    const s = this.conv.fromClient(d, this.t, cuts);
    this.tick();
    return s;
  }
  s(d: Bytes, cuts?: number[]): number {
    const s = this.conv.fromServer(d, this.t, cuts);
    this.tick();
    return s;
  }
  open(): this {
    this.conv.open(this.t);
    this.tick(1000);
    return this;
  }
  banner(): this {
    this.s(GREETING);
    this.c(EHLO);
    this.s(EHLO_REPLY);
    return this;
  }
  start(): this {
    return this.open().banner();
  }
  /** AUTH LOGIN with prompts; `reply` null leaves the server's answer to the caller. */
  login(user: string, pass: string, reply: Bytes | null, cuts?: number[]): this {
    this.c('AUTH LOGIN\r\n');
    this.s(USER_PROMPT);
    this.c(b64(user) + CRLF);
    this.s(PASS_PROMPT);
    this.c(b64(pass) + CRLF);
    if (reply !== null) this.s(reply, cuts);
    return this;
  }
  /** AUTH PLAIN with initial response. */
  plain(user: string, pass: string, reply: Bytes | null, cuts?: number[]): this {
    this.c(`AUTH PLAIN ${plainB64(user, pass)}\r\n`);
    if (reply !== null) this.s(reply, cuts);
    return this;
  }
  quit(): this {
    this.c('QUIT\r\n');
    this.s(BYE);
    return this;
  }
  close(): this {
    this.conv.close(this.t);
    this.tick(1000);
    return this;
  }
  finish(): this {
    return this.quit().close();
  }
  /** Emits pieces of `data` at explicit sequence numbers, in the order given, then advances past it. */
  pieces(fromClient: boolean, data: Bytes, list: Piece[]): number {
    const base = fromClient ? this.conv.cseq : this.conv.sseq;
    const buf = bytesOf(data);
    for (const p of list) {
      const b = p.bytes !== undefined ? bytesOf(p.bytes) : buf.subarray(p.from, p.to);
      if (b.length !== p.to - p.from || p.to > buf.length) throw new Error(`bad piece ${p.from}-${p.to}`);
      this.conv.raw(fromClient, (base + p.from) >>> 0, b, this.t);
      this.tick();
    }
    this.conv.advance(fromClient, buf.length);
    return base;
  }
}

// ---------------------------------------------------------------------------------------------
// Ground truth

interface ClientTruth {
  failures: number;
  successes: number;
  tempfails: number;
  users: string[];
}
interface Truth {
  capture: string | string[];
  made_by: string;
  clients: Record<string, ClientTruth>;
  opaque_flows: number;
  expect_error: { offset: number; packets_before: number } | null;
  ports?: number[];
  args?: string[];
  strikes?: string[];
  skipped?: Record<string, number>;
  notes: string;
}
const ct = (failures: number, successes: number, tempfails: number, users: string[]): ClientTruth => {
  const sorted = [...users].sort();
  if (sorted.join('\0') !== users.join('\0')) throw new Error(`users not sorted: ${users.join(',')}`);
  return { failures, successes, tempfails, users };
};

interface Case {
  /** Capture file name(s); the truth file is <stem>.truth.json. */
  files: string[];
  truthStem: string;
  what: string;
  tshark: string;
  truth: Omit<Truth, 'capture' | 'made_by' | 'notes'> & { notes: string };
  caseName: string;
}
const cases: Case[] = [];

let OUT = 'pcaps/crafted';

const stemOf = (f: string): string => f.replace(/\.(pcap|pcapng|pcap\.gz)$/, '');
const tsNsOf = (tsUsec: number): bigint => BigInt(tsUsec) * 1000n;

function record(caseName: string, files: string[], what: string, tshark: string, truth: Case['truth'], truthStem = stemOf(files[0]!)): void {
  cases.push({ files, truthStem, what, tshark, truth, caseName });
}

function writeTruthFiles(): void {
  for (const c of cases) {
    const t: Truth = {
      capture: c.files.length === 1 ? c.files[0]! : c.files,
      made_by: `scripts/craft-pcaps.ts (case ${c.caseName})`,
      clients: c.truth.clients,
      opaque_flows: c.truth.opaque_flows,
      expect_error: c.truth.expect_error,
      ...(c.truth.ports ? { ports: c.truth.ports } : {}),
      ...(c.truth.args ? { args: c.truth.args } : {}),
      ...(c.truth.strikes ? { strikes: c.truth.strikes } : {}),
      ...(c.truth.skipped ? { skipped: c.truth.skipped } : {}),
      notes: c.truth.notes + (c.tshark ? ` tshark/tcpdump cross-check: ${c.tshark}` : ''),
    };
    writeFileSync(join(OUT, `${c.truthStem}.truth.json`), JSON.stringify(t, null, 2) + '\n');
  }
}

// ---------------------------------------------------------------------------------------------
// File writers

/** Classic µs little-endian pcap through the product's PcapWriter, checked against ClassicPcapBuilder. */
async function writePcap(name: string, cap: Capture): Promise<Buffer> {
  const recs = cap.sorted();
  const link = recs[0]?.link ?? cap.link;
  if (recs.some((r) => r.link !== link)) throw new Error(`${name}: mixed link types`);
  const path = join(OUT, name);
  const w = new PcapWriter(path, linkTypeOf[link]);
  const b = new ClassicPcapBuilder({ linktype: linkTypeOf[link] });
  for (const r of recs) {
    await w.write(r.frame, Math.floor(r.tsUsec / 1e6), r.tsUsec % 1e6);
    b.add(r.frame, tsNsOf(r.tsUsec));
  }
  await w.close();
  const bytes = readFileSync(path);
  if (!bytes.equals(b.toBuffer())) throw new Error(`${name}: PcapWriter and ClassicPcapBuilder disagree`);
  return bytes;
}

function classicOf(cap: Capture, o: { nanosecond?: boolean; bigEndian?: boolean; snaplen?: number; linktype?: number }): ClassicPcapBuilder {
  const recs = cap.sorted();
  const link = recs[0]?.link ?? cap.link;
  const b = new ClassicPcapBuilder({ linktype: o.linktype ?? linkTypeOf[link], ...o });
  for (const r of recs) b.add(r.frame, tsNsOf(r.tsUsec) + (o.nanosecond ? SUB_US_NS : 0n));
  return b;
}

function writeFile(name: string, bytes: Buffer): void {
  writeFileSync(join(OUT, name), bytes);
}

// ---------------------------------------------------------------------------------------------
// Cases

async function split2(): Promise<void> {
  const cap = new Capture();
  // session 1: "535 5.7.8 Err" | "or: authentication failed: (reason unavailable)\r\n"
  new Smtp(cap, { client: '198.51.100.11', at: 0 }).start().login('alice', 'wrong1', FAIL, [13]).finish();
  // session 2: "53" | "5 5.7.8 Error: ..."
  new Smtp(cap, { client: '198.51.100.12', at: 1 }).start().login('bob', 'wrong2', FAIL, [2]).finish();
  await writePcap('split2.pcap', cap);
  record(
    'split2',
    ['split2.pcap'],
    'a 535 line split across 2 TCP segments (after "535 5.7.8 Err"; between "53" and "5 ")',
    'tshark: one 535 per session (2 frames), users alice and bob; agrees.',
    {
      clients: { '198.51.100.11': ct(1, 0, 0, ['alice']), '198.51.100.12': ct(1, 0, 0, ['bob']) },
      opaque_flows: 0,
      expect_error: null,
      notes:
        'Two AUTH LOGIN sessions, one 535 each. Session 1 (.11) sends "535 5.7.8 Err" and the rest of the line in the next segment; session 2 (.12) splits between "53" and "5 5.7.8 ...". A per-packet matcher finds neither.',
    },
  );
}

async function split3(): Promise<void> {
  const cap = new Capture();
  new Smtp(cap, { client: '198.51.100.13', at: 0 }).start().login('carol', 'wrong1', FAIL, [2, 1]).finish(); // "53"|"5"|" 5.7.8 ..."
  new Smtp(cap, { client: '198.51.100.14', at: 1 }).start().login('dave', 'wrong2', FAIL, [1, 12]).finish(); // "5"|"35 5.7.8 Err"|"or: ..."
  new Smtp(cap, { client: '198.51.100.15', at: 2 }).start().login('erin', 'wrong3', FAIL, [4, 57]).finish(); // "535 "|"5.7.8 ... )\r"|"\n"
  await writePcap('split3.pcap', cap);
  record(
    'split3',
    ['split3.pcap'],
    'a 535 line split across 3 segments, one of them 1 byte ("5", "5" first, or the final "\\n")',
    'tshark: 3 frames with 535, agrees on counts; its username decoding is off for .14 and .15 (it shows the password as the username: its AUTH LOGIN state goes wrong around the split reply), so compare users with the truth, not tshark.',
    {
      clients: {
        '198.51.100.13': ct(1, 0, 0, ['carol']),
        '198.51.100.14': ct(1, 0, 0, ['dave']),
        '198.51.100.15': ct(1, 0, 0, ['erin']),
      },
      opaque_flows: 0,
      expect_error: null,
      notes:
        'Three sessions, one 535 each, cut in three segments: .13 "53"|"5"|" 5.7.8 ...", .14 "5"|"35 5.7.8 Err"|"or: ...", .15 "535 "|"5.7.8 ... unavailable)\\r"|"\\n" (the CRLF itself is split; the 1-byte last segment completes the line).',
    },
  );
}

async function ooo(): Promise<void> {
  const cap = new Capture();
  const a = new Smtp(cap, { client: '198.51.100.16', at: 0 }).start().login('alice', 'wrong1', null);
  a.pieces(false, FAIL, [
    { from: 31, to: 62 },
    { from: 0, to: 31 },
  ]); // second half first
  a.finish();
  const b = new Smtp(cap, { client: '198.51.100.17', at: 1 }).start().login('bob', 'wrong2', null);
  b.pieces(false, FAIL, [
    { from: 40, to: 62 },
    { from: 0, to: 20 },
    { from: 20, to: 40 },
  ]); // order 3,1,2
  b.finish();
  await writePcap('ooo.pcap', cap);
  record(
    'ooo',
    ['ooo.pcap'],
    'out-of-order delivery of a 535 line: halves swapped; three segments in order 3,1,2',
    'tshark with default preferences shows no 535 at all (out-of-order reassembly is off by default, the out-of-order pieces are not reassembled); with -o tcp.reassemble_out_of_order:TRUE it shows one 535 per session (2); agrees then.',
    {
      clients: { '198.51.100.16': ct(1, 0, 0, ['alice']), '198.51.100.17': ct(1, 0, 0, ['bob']) },
      opaque_flows: 0,
      expect_error: null,
      notes:
        'Session .16: bytes 31-62 of the 535 line arrive before bytes 0-31. Session .17: pieces [40,62) [0,20) [20,40) in that order. Reassembly must deliver each line once, in order: one failure per client.',
    },
  );
}

async function retrans(): Promise<void> {
  const cap = new Capture();
  const a = new Smtp(cap, { client: '198.51.100.18', at: 0 }).start().login('alice', 'wrong1', null);
  a.pieces(false, FAIL, [
    { from: 0, to: 62 },
    { from: 0, to: 62 },
  ]); // the same segment twice
  a.finish();
  const b = new Smtp(cap, { client: '198.51.100.19', at: 1 }).start().login('bob', 'wrong2', null);
  b.pieces(false, FAIL, [
    { from: 0, to: 31 },
    { from: 31, to: 62 },
    { from: 26, to: 36 },
  ]); // A, B, then R over A's tail + B's head
  b.finish();
  const c = new Smtp(cap, { client: '198.51.100.20', at: 2 }).start().login('carol', 'wrong3', null);
  c.pieces(false, FAIL, [
    { from: 0, to: 31 },
    { from: 26, to: 36 },
    { from: 31, to: 62 },
  ]); // A, R, B
  c.finish();
  const d = new Smtp(cap, { client: '198.51.100.21', at: 3 }).start().login('dave', 'wrong4', null);
  const at = d.s(FAIL);
  d.quit();
  d.conv.raw(false, at, FAIL, d.t); // a late duplicate of the 535, after the 221 was delivered
  d.tick();
  d.close();
  await writePcap('retrans.pcap', cap);
  record(
    'retrans',
    ['retrans.pcap'],
    "retransmitted 535: exact duplicate; overlap of one segment's tail and the next one's head (both orders); late duplicate after the 221",
    'tshark flags the copies as retransmissions and never dissects a 535 twice; with default preferences it finds 3 (it misses .20, where the overlapping retransmission arrives before the second half), with -o tcp.reassemble_out_of_order:TRUE 4; agrees then. Its username for .21 is wrong (it shows the password).',
    {
      clients: {
        '198.51.100.18': ct(1, 0, 0, ['alice']),
        '198.51.100.19': ct(1, 0, 0, ['bob']),
        '198.51.100.20': ct(1, 0, 0, ['carol']),
        '198.51.100.21': ct(1, 0, 0, ['dave']),
      },
      opaque_flows: 0,
      expect_error: null,
      notes:
        'Each client got exactly one 535; every extra copy is a retransmission of bytes already seen and counts once. .18: the whole 62-byte 535 segment twice. .19: [0,31) [31,62) then a retransmission [26,36). .20: [0,31) [26,36) [31,62). .21: the 535 segment retransmitted after QUIT/221 (old sequence numbers).',
    },
  );
}

async function overlapConflict(): Promise<void> {
  const cap = new Capture();
  // 1: in order, first copy 535, then a different 250 copy of the same range
  const a = new Smtp(cap, { client: '198.51.100.22', at: 0 }).start().login('alice', 'wrong1', null);
  a.pieces(false, FAIL, [
    { from: 0, to: 62 },
    { from: 0, to: 62, bytes: DECOY250 },
  ]);
  a.finish();
  // 2: the other way round: first copy 250, then 535
  const b = new Smtp(cap, { client: '198.51.100.23', at: 1 }).start().login('bob', 'wrong2', null);
  b.pieces(false, FAIL, [
    { from: 0, to: 62, bytes: DECOY250 },
    { from: 0, to: 62 },
  ]);
  b.finish();
  // 3 and 4: the conflict happens while both copies wait behind a hole (client pipelined NOOP + AUTH)
  const NOOP_OK = '250 2.0.0 Ok\r\n';
  const burst = NOOP_OK + FAIL;
  const n = NOOP_OK.length;
  const c = new Smtp(cap, { client: '198.51.100.24', at: 2 }).start();
  c.c(`NOOP\r\nAUTH PLAIN ${plainB64('carol', 'wrong3')}\r\n`);
  c.pieces(false, burst, [
    { from: n, to: n + 62 },
    { from: n, to: n + 62, bytes: DECOY250 },
    { from: 0, to: n },
  ]);
  c.finish();
  const d = new Smtp(cap, { client: '198.51.100.25', at: 3 }).start();
  d.c(`NOOP\r\nAUTH PLAIN ${plainB64('dave', 'wrong4')}\r\n`);
  d.pieces(false, burst, [
    { from: n, to: n + 62, bytes: DECOY250 },
    { from: n, to: n + 62 },
    { from: 0, to: n },
  ]);
  d.finish();
  // 5: partial overlap: first copy is the first 21 bytes of the 535 line; the second copy covers the
  // whole line with different first 21 bytes: only its new bytes [21,62) are kept.
  const e = new Smtp(cap, { client: '198.51.100.26', at: 4 }).start().login('frank', 'wrong5', null);
  const longer = DECOY250.slice(0, 21) + FAIL.slice(21);
  e.pieces(false, FAIL, [
    { from: 0, to: 21 },
    { from: 0, to: 62, bytes: longer },
  ]);
  e.finish();
  await writePcap('overlap-conflict.pcap', cap);
  record(
    'overlap-conflict',
    ['overlap-conflict.pcap'],
    'hostile overlaps: same sequence range, different bytes (535 vs 250), both orders, in order and while buffered behind a hole; partial overlap with new bytes',
    'tshark with default preferences finds 535 for .22 and .24 only (2); with -o tcp.reassemble_out_of_order:TRUE for .22, .24 and .26 (3): it also keeps the first copy, so it agrees with the truth. Neither mode matches the second-arriving 535 copies of .23/.25.',
    {
      clients: {
        '198.51.100.22': ct(1, 0, 0, ['alice']),
        '198.51.100.24': ct(1, 0, 0, ['carol']),
        '198.51.100.26': ct(1, 0, 0, ['frank']),
      },
      opaque_flows: 0,
      expect_error: null,
      notes:
        'smtpstrike\'s documented policy is FIRST COPY WINS: the bytes first received for a sequence range are delivered, later overlapping bytes are dropped (non-overlapping new bytes are kept). .22: 535 copy first, then a 250 copy of the same 62 bytes -> 1 failure. .23: 250 copy first, then the 535 copy -> 0 (the client is absent: all zeros). .24/.25: the same two orders while both copies wait behind a hole (the "250 2.0.0 Ok" NOOP reply before them arrives last) -> .24 1 failure, .25 0. .26: first copy "535 5.7.8 Error: auth" (21 bytes), second copy 62 bytes starting "250 2.0.0 Ok: hostile" whose tail equals the rest of the 535 line: delivered line is the full 535 -> 1 failure. A last-copy-wins reassembler gets .23 .25 instead.',
    },
  );
}

async function pipelined(): Promise<void> {
  const cap = new Capture();
  const a = new Smtp(cap, { client: '198.51.100.27', at: 0 }).start();
  a.c(`AUTH PLAIN ${plainB64('alice', 'wrong1')}\r\nQUIT\r\n`); // one segment
  a.s(FAIL + BYE); // one segment
  a.close();
  const b = new Smtp(cap, { client: '198.51.100.28', at: 1 }).start();
  b.c('AUTH LOGIN\r\n');
  b.s(USER_PROMPT);
  b.c(b64('bob') + CRLF);
  b.s(PASS_PROMPT); // a segment holding 334
  b.c(b64('wrong2') + CRLF + 'QUIT\r\n');
  b.s(FAIL + BYE); // next segment: 535 + 221
  b.close();
  await writePcap('pipelined.pcap', cap);
  record(
    'pipelined',
    ['pipelined.pcap'],
    'several replies in one segment: 535+221 after a pipelined AUTH PLAIN+QUIT; 334 then 535+221',
    'tshark: 2 frames with 535 (each also holding the 221); agrees.',
    {
      clients: { '198.51.100.27': ct(1, 0, 0, ['alice']), '198.51.100.28': ct(1, 0, 0, ['bob']) },
      opaque_flows: 0,
      expect_error: null,
      notes:
        '.27 sends "AUTH PLAIN <b64 \\0alice\\0wrong1>\\r\\nQUIT\\r\\n" in one segment and gets "535 ...\\r\\n221 2.0.0 Bye\\r\\n" in one segment. .28: AUTH LOGIN, the 334 password prompt alone in a segment, then password+QUIT pipelined and 535+221 in one segment. One failure each.',
    },
  );
}

async function multiline(): Promise<void> {
  const cap = new Capture();
  new Smtp(cap, { client: '198.51.100.29', at: 0 }).start().login('alice', 'wrong1', '535-5.7.8 first line\r\n535 5.7.8 second line\r\n').finish();
  const gm =
    '535-5.7.8 Username and Password not accepted. For more information, go to\r\n' +
    '535 5.7.8  https://support.example.test/mail/?p=BadCredentials a1b2c3 - gsmtp\r\n';
  new Smtp(cap, { client: '198.51.100.30', at: 1 })
    .start()
    .login('bob', 'wrong2', gm, [gm.indexOf('\n') + 1])
    .finish(); // the two lines in two segments
  await writePcap('multiline-535.pcap', cap);
  record(
    'multiline-535',
    ['multiline-535.pcap'],
    'multi-line 535 reply ("535-" continuation then "535 "): one failure, in one segment and split at the line boundary',
    'tshark: 3 frames with 535 for 2 replies (.29: one frame holding both lines; .30: one frame per line); agrees once lines are grouped into replies.',
    {
      clients: { '198.51.100.29': ct(1, 0, 0, ['alice']), '198.51.100.30': ct(1, 0, 0, ['bob']) },
      opaque_flows: 0,
      expect_error: null,
      notes:
        'A multi-line reply is one reply: "535-..." lines continue it and the "535 " line ends it, so each is one failure. .29: "535-5.7.8 first line\\r\\n535 5.7.8 second line\\r\\n" in one segment. .30: a two-line 535 (Gmail-like text) with each line in its own segment.',
    },
  );
}

async function seqwrap(): Promise<void> {
  const cap = new Capture();
  // Session 1: the server's sequence number wraps 13 bytes into the 535 line, which is cut there
  // ("535 5.7.8 Err" ends at 2^32-1, "or: ..." starts at 0); the client's wraps inside "AUTH LOGIN\r\n".
  const preS = 1 + GREETING.length + EHLO_REPLY.length + USER_PROMPT.length + PASS_PROMPT.length;
  const preC = 1 + EHLO.length;
  const a = new Smtp(cap, { client: '198.51.100.31', at: 0, isnS: (2 ** 32 - 13 - preS) >>> 0, isnC: (2 ** 32 - 5 - preC) >>> 0 });
  a.start();
  if (a.conv.cseq !== 2 ** 32 - 5) throw new Error('seqwrap: client seq not where planned');
  a.login('alice', 'wrong1', null);
  if (a.conv.sseq !== 2 ** 32 - 13) throw new Error('seqwrap: server seq not where planned');
  a.s(FAIL, [13]);
  a.finish();
  // Session 2: both ISNs 0xffffffff: the SYN takes the last sequence number, data starts at 0.
  new Smtp(cap, { client: '198.51.100.32', at: 1, isnS: 0xffffffff, isnC: 0xffffffff }).start().plain('bob', 'wrong2', FAIL).finish();
  await writePcap('seqwrap.pcap', cap);
  record(
    'seqwrap',
    ['seqwrap.pcap'],
    "TCP sequence numbers wrap past 2^32 inside the 535 line (split at the wrap) and inside the client's AUTH LOGIN line; ISN 0xffffffff",
    'tcpdump -S shows the AUTH LOGIN segment as seq 4294967291:7 and the 535 pieces as 4294967283:0 and 0:49; tshark reassembles across the wrap: one 535 per session, users alice and bob; agrees.',
    {
      clients: { '198.51.100.31': ct(1, 0, 0, ['alice']), '198.51.100.32': ct(1, 0, 0, ['bob']) },
      opaque_flows: 0,
      expect_error: null,
      notes:
        '.31: server ISN chosen so "535 5.7.8 Err" occupies seq 2^32-13..2^32-1 and "or: authentication failed: ..." starts at seq 0 (two segments); client ISN chosen so the 12-byte "AUTH LOGIN\\r\\n" segment starts at 2^32-5 and wraps inside one segment (a reassembler that mishandles it loses the AUTH and the user alice). .32: client and server ISN 0xffffffff, first data byte at seq 0, AUTH PLAIN bob -> 535.',
    },
  );
}

async function decoyData(): Promise<void> {
  const cap = new Capture();
  const s = new Smtp(cap, { client: '198.51.100.33', at: 0, port: 587 }).start();
  s.plain('alice', 'secret', OK235);
  s.c('MAIL FROM:<alice@mail.example.test>\r\n');
  s.s('250 2.1.0 Ok\r\n');
  s.c('RCPT TO:<root@mail.example.test>\r\n');
  s.s('250 2.1.5 Ok\r\n');
  s.c('DATA\r\n');
  s.s('354 End data with <CR><LF>.<CR><LF>\r\n');
  const head = 'From: alice@mail.example.test\r\nTo: root@mail.example.test\r\nSubject: what the server said\r\n\r\nLast night the server said:\r\n';
  const decoys =
    '535 5.7.8 Error: authentication failed: (reason unavailable)\r\n' +
    '535 5.7.8 Error: authentication failed\r\n' +
    '235 2.7.0 Authentication successful\r\n' +
    '454 4.7.0 Temporary authentication failure: Connection lost to authentication server\r\n' +
    `AUTH PLAIN ${plainB64('mallory', 'x')}\r\n` +
    'STARTTLS\r\n' +
    '220 2.0.0 Ready to start TLS\r\n';
  const body = head + decoys + 'Bye.\r\n.\r\n';
  s.c(body, [head.length, decoys.length]); // a segment starting exactly with "535 ..."
  s.s('250 2.0.0 Ok: queued as 535ABC\r\n');
  s.finish();
  await writePcap('decoy-data.pcap', cap);
  record(
    'decoy-data',
    ['decoy-data.pcap'],
    'DATA body (client data) with lines "535 ...", "235 ...", "454 ...", "AUTH PLAIN ...", "STARTTLS"; server reply containing 535 not at line start',
    'tshark: no frame with 535 (the body is client data, dissected as IMF; "queued as 535ABC" is a 250), 1 with 235, user alice only; agrees.',
    {
      clients: { '198.51.100.33': ct(0, 1, 0, ['alice']) },
      opaque_flows: 0,
      expect_error: null,
      notes:
        'One submission (port 587): AUTH PLAIN alice -> 235, MAIL/RCPT/DATA, a body whose lines start with "535 5.7.8 Error: authentication failed", "235 ", "454 ", "AUTH PLAIN <b64 \\0mallory\\0x>", "STARTTLS" and "220 2.0.0 Ready to start TLS" (client->server data, one body segment begins exactly at "535 "), then "250 2.0.0 Ok: queued as 535ABC". Failures 0, successes 1, tempfails 0; users only alice (the AUTH line inside DATA is message text, not a command), and the flow never goes opaque.',
    },
  );
}

async function ipv6(): Promise<void> {
  const cap = new Capture();
  new Smtp(cap, { client: '2001:db8:1::a', at: 0 }).start().login('alice', 'wrong1', FAIL).login('alice', 'wrong2', FAIL).finish();
  new Smtp(cap, { client: '2001:db8:1::b', at: 1, port: 587 }).start().plain('bob', 'wrong3', FAIL).finish();
  new Smtp(cap, { client: '2001:db8:1:2::c', at: 2 }).start().login('carol', 'wrong4', FAIL).plain('carol', 'secret', OK235).finish();
  await writePcap('ipv6.pcap', cap);
  record(
    'ipv6',
    ['ipv6.pcap'],
    'IPv6 (server 2001:db8::25): two clients in 2001:db8:1::/64, one in 2001:db8:1:2::/64',
    'tshark: 4 frames with 535, 1 with 235, users alice, bob, carol; agrees.',
    {
      clients: {
        '2001:db8:1::a': ct(2, 0, 0, ['alice']),
        '2001:db8:1::b': ct(1, 0, 0, ['bob']),
        '2001:db8:1:2::c': ct(1, 1, 0, ['carol']),
      },
      opaque_flows: 0,
      expect_error: null,
      notes:
        'Client keys are RFC 5952 text. 2001:db8:1::a fails twice in one connection (port 25), 2001:db8:1::b once (port 587), 2001:db8:1:2::c fails once then succeeds. With --ipv6-prefix 64 the first two aggregate to 2001:db8:1::/64 (3 failures) and the third stays apart.',
    },
  );
}

async function vlan(): Promise<void> {
  const cap = new Capture();
  new Smtp(cap, { client: '198.51.100.40', at: 0, vlan: [100] }).start().login('alice', 'wrong1', FAIL).plain('alice', 'secret', OK235).finish();
  await writePcap('vlan.pcap', cap);
  record(
    'vlan',
    ['vlan.pcap'],
    'Ethernet with one 802.1Q tag (VLAN 100)',
    'tcpdump -e shows "ethertype 802.1Q (0x8100) ... vlan 100"; tshark: one 535, one 235; agrees.',
    {
      clients: { '198.51.100.40': ct(1, 1, 0, ['alice']) },
      opaque_flows: 0,
      expect_error: null,
      notes: 'Every frame carries an 802.1Q tag (TPID 0x8100, VLAN 100). AUTH LOGIN alice -> 535, AUTH PLAIN alice -> 235.',
    },
  );
  const q = new Capture();
  new Smtp(q, { client: '198.51.100.41', at: 0, vlan: [200, 100], tpids: [TPID.DOT1AD, TPID.DOT1Q] }).start().login('alice', 'wrong1', FAIL).finish();
  new Smtp(q, { client: '198.51.100.42', at: 1, vlan: [300, 30], tpids: [TPID.DOT1Q, TPID.DOT1Q] }).start().login('bob', 'wrong2', FAIL).finish();
  await writePcap('qinq.pcap', q);
  record(
    'qinq',
    ['qinq.pcap'],
    'two VLAN tags: 802.1ad outer (0x88a8, S-VLAN 200) + 802.1Q inner (100); and double 0x8100 (300/30)',
    'tcpdump -e shows "802.1Q-QinQ (0x88a8) ... vlan 200 ... 802.1Q (0x8100), vlan 100" and "vlan 300 ... vlan 30"; tshark: one 535 per session; agrees.',
    {
      clients: { '198.51.100.41': ct(1, 0, 0, ['alice']), '198.51.100.42': ct(1, 0, 0, ['bob']) },
      opaque_flows: 0,
      expect_error: null,
      notes:
        '.41: outer tag TPID 0x88a8 VLAN 200, inner TPID 0x8100 VLAN 100. .42: both tags TPID 0x8100 (VLAN 300 then 30), an older QinQ encoding. One 535 each.',
    },
  );
}

function linkSession(cap: Capture, client = '198.51.100.45'): void {
  new Smtp(cap, { client, at: 0, port: 587 }).start().login('alice', 'wrong1', FAIL).plain('alice', 'secret', OK235).finish();
}

async function links(): Promise<void> {
  const variants: Array<{ file: string; link: Link; name: string; note: string }> = [
    {
      file: 'link-sll.pcap',
      link: 'sll',
      name: 'LINUX_SLL (113)',
      note: '16-byte cooked header, packet type 0 (to us) from the client and 4 (sent by us) from the server',
    },
    { file: 'link-sll2.pcap', link: 'sll2', name: 'LINUX_SLL2 (276)', note: '20-byte cooked v2 header, protocol first, what tcpdump -i any writes' },
    { file: 'link-raw.pcap', link: 'raw', name: 'RAW (101)', note: 'no link header, IP version from the first nibble' },
    { file: 'link-null.pcap', link: 'null', name: 'NULL (0)', note: '4-byte address family in host byte order (little-endian 2 here)' },
    { file: 'link-loop.pcap', link: 'loop', name: 'LOOP (108)', note: '4-byte address family in network byte order (00 00 00 02)' },
    { file: 'link-ipv4.pcap', link: 'ipv4', name: 'IPV4 (228)', note: 'no link header, IPv4 only' },
  ];
  for (const v of variants) {
    const cap = new Capture(v.link);
    linkSession(cap);
    await writePcap(v.file, cap);
    record(
      'links',
      [v.file],
      `link type ${v.name}: the same small session`,
      `tcpdump -nn -r decodes every frame (${v.name}); tshark: one 535, one 235, user alice; agrees.`,
      {
        clients: { '198.51.100.45': ct(1, 1, 0, ['alice']) },
        opaque_flows: 0,
        expect_error: null,
        notes: `Link type ${v.name}: ${v.note}. One connection to port 587: AUTH LOGIN alice -> 535, AUTH PLAIN alice -> 235, QUIT.`,
      },
    );
  }
  const cap = new Capture('ipv6');
  linkSession(cap, '2001:db8:1::45');
  await writePcap('link-ipv6.pcap', cap);
  record('links', ['link-ipv6.pcap'], 'link type IPV6 (229): the same session over IPv6', 'tcpdump/tshark decode it; tshark: one 535, one 235; agrees.', {
    clients: { '2001:db8:1::45': ct(1, 1, 0, ['alice']) },
    opaque_flows: 0,
    expect_error: null,
    notes:
      'Link type IPV6 (229): no link header, IPv6 only. Same session as link-*.pcap from 2001:db8:1::45 to 2001:db8::25 port 587: AUTH LOGIN alice -> 535, AUTH PLAIN alice -> 235.',
  });
}

/** xorshift32: deterministic filler bytes. */
function prng(seed: number): (n: number) => Buffer {
  let x = seed >>> 0 || 1;
  return (n: number): Buffer => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      b[i] = x & 0xff;
    }
    return b;
  };
}

function tlsRecord(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(5);
  h[0] = type;
  h.writeUInt16BE(0x0303, 1);
  h.writeUInt16BE(body.length, 3);
  return Buffer.concat([h, body]);
}
function handshake(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h[0] = type;
  h.writeUIntBE(body.length, 1, 3);
  return Buffer.concat([h, body]);
}

async function starttls(): Promise<void> {
  const cap = new Capture();
  const rnd = prng(0x5eed7155);
  const a = new Smtp(cap, { client: '198.51.100.46', at: 0, port: 587 }).start();
  a.c('STARTTLS\r\n');
  a.s('220 2.0.0 Ready to start TLS\r\n');
  // ClientHello: legacy version, random, no session id, one suite, null compression, no extensions
  const ch = Buffer.concat([Buffer.from([0x03, 0x03]), rnd(32), Buffer.from([0x00, 0x00, 0x02, 0x13, 0x01, 0x01, 0x00, 0x00, 0x00])]);
  a.c(tlsRecord(0x16, handshake(1, ch)));
  const sh = Buffer.concat([Buffer.from([0x03, 0x03]), rnd(32), Buffer.from([0x00, 0x13, 0x01, 0x00, 0x00, 0x00])]);
  a.s(Buffer.concat([tlsRecord(0x16, handshake(2, sh)), tlsRecord(0x14, Buffer.from([1]))]));
  const srvApp = Buffer.concat([
    rnd(17),
    Buffer.from('\r\n535 5.7.8 Error: authentication failed: (reason unavailable)\r\n', 'latin1'),
    rnd(9),
    Buffer.from('\r\n235 2.7.0 Authentication successful\r\n' + TEMPFAIL, 'latin1'),
    rnd(5),
  ]);
  a.s(tlsRecord(0x17, srvApp));
  const cliApp = Buffer.concat([
    rnd(20),
    Buffer.from(`\r\nAUTH PLAIN ${plainB64('eve', 'eve')}\r\n`, 'latin1'),
    rnd(15),
    Buffer.from(`\r\nAUTH LOGIN ${b64('eve')}\r\n`, 'latin1'),
    rnd(10),
  ]);
  a.c(Buffer.concat([tlsRecord(0x14, Buffer.from([1])), tlsRecord(0x17, cliApp)]));
  const srvApp2 = Buffer.concat([rnd(3), Buffer.from('\r\n535 ', 'latin1'), rnd(40), Buffer.from(FAIL, 'latin1'), rnd(11)]);
  a.s(tlsRecord(0x17, srvApp2), [30]);
  a.close();
  const b = new Smtp(cap, { client: '198.51.100.47', at: 1, port: 587 }).start();
  b.c('STARTTLS\r\n');
  b.s('454 4.7.0 TLS not available due to local problem\r\n');
  b.login('bob', 'wrong1', FAIL).finish();
  await writePcap('starttls.pcap', cap);
  record(
    'starttls',
    ['starttls.pcap'],
    'STARTTLS answered 220 then TLS-looking bytes containing "\\r\\n535 " (opaque); STARTTLS refused with 454 then a plaintext 535',
    'tshark decodes .46 as TLSv1.2 after the 220 (Client Hello, Server Hello, Change Cipher Spec, Application Data) and finds no 535 in it; .47: one 535, and the 454 appears as an ordinary SMTP response (tshark has no notion of tempfails); agrees.',
    {
      clients: { '198.51.100.47': ct(1, 0, 0, ['bob']) },
      opaque_flows: 1,
      expect_error: null,
      notes:
        '.46 (port 587): EHLO, STARTTLS, "220 2.0.0 Ready to start TLS", then TLS records (ClientHello, ServerHello, ChangeCipherSpec, Application Data) whose bytes contain "\\r\\n535 5.7.8 ...", "\\r\\n235 ...", "454 ..." (server) and "\\r\\nAUTH PLAIN <b64 eve>" (client): the flow is opaque after the 220, so none of it counts and eve is not a user; opaque_flows 1 and .46 is absent from clients. .47: STARTTLS answered "454 4.7.0 TLS not available due to local problem" (not an AUTH reply: not a tempfail, flow stays plaintext), then AUTH LOGIN bob -> 535: 1 failure.',
    },
  );
}

async function tempfail(): Promise<void> {
  const cap = new Capture();
  new Smtp(cap, { client: '198.51.100.48', at: 0, port: 587 }).start().login('alice', 'wrong1', TEMPFAIL).login('alice', 'wrong2', TEMPFAIL).finish();
  new Smtp(cap, { client: '198.51.100.48', at: 12, port: 587 }).start().login('alice', 'wrong3', FAIL).finish();
  await writePcap('tempfail.pcap', cap);
  record('tempfail', ['tempfail.pcap'], 'AUTH LOGIN answered 454 (Dovecot penalty) twice, then 535', 'tshark: 2 frames with 454, 1 with 535; agrees.', {
    clients: { '198.51.100.48': ct(1, 0, 2, ['alice']) },
    opaque_flows: 0,
    expect_error: null,
    notes:
      'Connection 1: AUTH LOGIN alice -> "454 4.7.0 Temporary authentication failure: Connection lost to authentication server", again -> 454. Connection 2 (12 s later): AUTH LOGIN alice -> 535. tempfails 2 (454 replies to AUTH), failures 1.',
  });
}

async function mechs(): Promise<void> {
  const cap = new Capture();
  const a = new Smtp(cap, { client: '198.51.100.49', at: 0 }).start();
  a.c('AUTH CRAM-MD5\r\n');
  a.s(`334 ${b64('<1896.697170952@mail.example.test>')}\r\n`);
  a.c(b64('frank b913a602c7eda7a495b4e6e7334d3890') + CRLF);
  a.s(FAIL);
  a.finish();
  const b = new Smtp(cap, { client: '198.51.100.50', at: 1 }).start();
  b.c('AUTH PLAIN\r\n');
  b.s('334 \r\n');
  b.c(plainB64('bob', 'wrong2') + CRLF);
  b.s(FAIL);
  b.finish();
  const c = new Smtp(cap, { client: '198.51.100.51', at: 2 }).start();
  c.c(`AUTH LOGIN ${b64('carol')}\r\n`);
  c.s(PASS_PROMPT);
  c.c(b64('wrong3') + CRLF);
  c.s(FAIL);
  c.finish();
  const d = new Smtp(cap, { client: '198.51.100.52', at: 3 }).start();
  d.c(`AUTH PLAIN ${plainB64('dave', 'wrong4', 'admin')}\r\n`);
  d.s(FAIL);
  d.finish();
  const e = new Smtp(cap, { client: '198.51.100.53', at: 4 }).start();
  e.c('auth login\r\n');
  e.s(USER_PROMPT);
  e.c(b64('erin') + CRLF);
  e.s(PASS_PROMPT);
  e.c(b64('wrong5') + CRLF);
  e.s(FAIL);
  e.finish();
  await writePcap('mechs.pcap', cap);
  record(
    'mechs',
    ['mechs.pcap'],
    'AUTH variants: CRAM-MD5; PLAIN two-step ("334 " then the response); LOGIN with initial response; PLAIN with an authzid; lower-case "auth login"',
    'tshark: 5 frames with 535, agrees. With -o smtp.decryption:TRUE it decodes bob, carol and dave as users, none for CRAM-MD5, and for the lower-case .53 it shows the password (wrong5) instead of erin: a tshark quirk, the truth is erin.',
    {
      clients: {
        '198.51.100.49': ct(1, 0, 0, []),
        '198.51.100.50': ct(1, 0, 0, ['bob']),
        '198.51.100.51': ct(1, 0, 0, ['carol']),
        '198.51.100.52': ct(1, 0, 0, ['dave']),
        '198.51.100.53': ct(1, 0, 0, ['erin']),
      },
      opaque_flows: 0,
      expect_error: null,
      notes:
        'One 535 per client. .49: AUTH CRAM-MD5, challenge, response -> 535; the user is not taken from CRAM-MD5 (only cleartext PLAIN/LOGIN count), so users is empty. .50: "AUTH PLAIN", "334 " (empty challenge), then base64 of \\0bob\\0wrong2. .51: "AUTH LOGIN <b64 carol>" (initial response), 334 password prompt, password. .52: AUTH PLAIN with authorization identity: base64 of "admin\\0dave\\0wrong4"; the username is the authentication identity dave (what Postfix logs as sasl_username), not admin. .53: "auth login" in lower case (SMTP verbs are case-insensitive), user erin.',
    },
  );
}

async function gap(): Promise<void> {
  const cap = new Capture();
  const s = new Smtp(cap, { client: '198.51.100.54', at: 0 }).start().login('alice', 'wrong1', null);
  // "535 5.7.8 Err" | lost: "or: authentication failed: " | "(reason unavailable)\r\n"
  s.pieces(false, FAIL, [
    { from: 0, to: 13 },
    { from: 40, to: 62 },
  ]);
  s.login('alice', 'wrong2', FAIL);
  s.finish();
  await writePcap('gap.pcap', cap);
  record(
    'gap',
    ['gap.pcap'],
    'a server segment lost by the sniffer in the middle of a 535 line, then a complete 535',
    'tshark with default preferences reports "Previous segment not captured" and finds 2 frames with 535 (it dissects the first piece "535 5.7.8 Err" as a reply) and so agrees on the count. With -o tcp.reassemble_out_of_order:TRUE it finds none, as it waits forever for the missing bytes.',
    {
      clients: { '198.51.100.54': ct(2, 0, 0, ['alice']) },
      opaque_flows: 0,
      expect_error: null,
      notes:
        'The first 535 is sent as "535 5.7.8 Err" | "or: authentication failed: " | "(reason unavailable)\\r\\n" and the middle segment (27 bytes) is missing from the capture for good (the client\'s later ACKs cover it: the sniffer lost it, not the network). The line around the gap is incomplete, but its reply code "535 " was captured: smtpstrike\'s policy is that a reply whose code survived a gap still counts (losing a real strike is worse), so the first attempt counts; the rest after the gap is dropped up to the next CRLF. The client\'s ACK past the hole proves the bytes reached the client, so the gap is declared at that ACK, before the client\'s retry, and the failure is attributed to the first attempt (alice). The client then retries (AUTH LOGIN alice again) and gets a complete 535: failures 2, as the server really sent.',
    },
  );
}

async function midstream(): Promise<void> {
  const cap = new Capture();
  const s = new Smtp(cap, { client: '198.51.100.55', at: 0, isnC: 0x2000_0000, isnS: 0x9000_0000 });
  cap.capturing = false; // the capture starts later
  s.start().login('alice', 'wrong0', null);
  s.pieces(false, FAIL, [{ from: 0, to: 13 }]); // not captured: "535 5.7.8 Err"
  cap.capturing = true;
  s.conv.raw(false, (s.conv.sseq - 62 + 13) >>> 0, FAIL.slice(13), s.t); // first captured frame: "or: authentication failed: (reason unavailable)\r\n"
  s.tick();
  s.login('alice', 'wrong1', FAIL);
  s.login('alice', 'wrong2', FAIL);
  s.finish();
  await writePcap('midstream.pcap', cap);
  record(
    'midstream',
    ['midstream.pcap'],
    'capture starting mid-session: no SYN, first server segment is the tail of a 535 line, then two complete 535s',
    'tshark: 2 frames with 535 (the two complete lines), user alice; agrees.',
    {
      clients: { '198.51.100.55': ct(2, 0, 0, ['alice']) },
      opaque_flows: 0,
      expect_error: null,
      notes:
        'The capture starts after a first failed AUTH LOGIN: the first captured frame is the server segment "or: authentication failed: (reason unavailable)\\r\\n" (the tail of that 535; its head "535 5.7.8 Err" was sent before the capture began), with no SYN seen for the flow. Then two complete AUTH LOGIN alice -> 535 exchanges, QUIT, FIN. failures 2 (the tail is not a line start). The first client line captured is "AUTH LOGIN\\r\\n"; whether a reader takes it or skips to the first CRLF, alice is also seen in the second attempt, so users is ["alice"] either way.',
    },
  );
}

/** Seconds between the repeat offender's visits: 20 minutes and one second, just past the 1200 s window. */
const REPEAT_EVERY = 1201;
/** Its visits: every REPEAT_EVERY seconds for two days. */
const REPEAT_VISITS = Math.floor((2 * 86400) / REPEAT_EVERY) + 1;

async function repeatOffender(): Promise<void> {
  const cap = new Capture();
  const A = '203.0.113.20';
  for (let k = 0; k < REPEAT_VISITS; k++) {
    const s = new Smtp(cap, { client: A, at: k * REPEAT_EVERY, cport: 40000 + (k % 20000) }).start();
    for (let j = 0; j < 3; j++) s.plain('info', `visit${k}-${j}`, FAIL);
    s.finish();
  }
  // gzip: 144 plain sessions are ~450 KB, past the 100 KiB a crafted file may have.
  writeFile('repeat-offender.pcap.gz', gzipSync(classicOf(cap, {}).toBuffer(), { level: 9 }));
  record(
    'repeat-offender',
    ['repeat-offender.pcap.gz'],
    'repeat offender: one address back every 20 minutes (1201 s) for two days, each visit one connection with 3 failed AUTH PLAIN',
    `tshark (gzip -dc | tshark -r -): ${REPEAT_VISITS * 3} frames with 535, all to ${A}, user info; agrees on counts.`,
    {
      clients: { [A]: ct(REPEAT_VISITS * 3, 0, 0, ['info']) },
      opaque_flows: 0,
      expect_error: null,
      notes: `${A} opens one connection every ${REPEAT_EVERY} s from t=0 (${REPEAT_VISITS} visits, the last at t=${(REPEAT_VISITS - 1) * REPEAT_EVERY} s, two days), each EHLO then AUTH PLAIN info three times -> 535 each, QUIT: failures ${REPEAT_VISITS * 3}. The recipe's bots: one guess every 20 minutes, just past the 1200 s window, so under the plain rules every visit is a new 1200 s block and no visit is refused (replay --no-escalate: ${REPEAT_VISITS} blocks). With escalation (the default: factor 2, base --seconds 1200) each new block lasts 1200 s times 2 per earlier block within the lookback (1200, 2400, 4800, ...), and the visits that come while an escalated block stands are refused (test/escalation-replay.test.ts checks both). No strikes list here: the strike lines depend on the escalation options.`,
    },
  );
}

async function bruteforce(): Promise<void> {
  const cap = new Capture();
  const A = '198.51.100.66';
  const B = '198.51.100.77';
  for (const at of [0, 5, 10, 15, 20, 25, 30, 35]) new Smtp(cap, { client: A, at }).start().login('admin', `guess${at}`, FAIL).finish();
  for (const at of [1, 9, 17, 26, 33, 41, 49]) new Smtp(cap, { client: B, at }).start().finish();
  await writePcap('bruteforce.pcap', cap);
  record(
    'bruteforce',
    ['bruteforce.pcap'],
    'strike semantics: one client 8 connections in 35 s with a 535 each; another 7 connections in 48 s without AUTH',
    'tshark: 8 frames with 535, all to .66, user admin; agrees on counts (it knows nothing of strikes).',
    {
      clients: { [A]: ct(8, 0, 0, ['admin']) },
      opaque_flows: 0,
      expect_error: null,
      strikes: [
        `SMTP_AUTH_FAIL: Strike 1: ${A}`, // t=0.017 535 on A's 1st connection
        `SMTP_AUTH_FAIL: Strike 2: ${A}`, // t=5.017
        `SMTP_AUTH_FAIL: Strike 3: ${A}`, // t=10.017
        `SMTP_AUTH_REJECTED: Go AWAY: ${A}`, // t=15 SYN: 3 hits within 1200 s (4th connection, 4 < 6 within 60 s)
        `SMTP_AUTH_REJECTED: Go AWAY: ${A}`, // t=20 SYN (5th connection)
        `SMTP_AUTH_REJECTED: Go AWAY: ${A}`, // t=25: the auth check comes first (design.md §2 order)
        `SMTP_AUTH_REJECTED: Go AWAY: ${A}`, // t=30
        `SMTP_AUTH_REJECTED: Go AWAY: ${A}`, // t=35
        `SMTP Brute Force Attempt: ${B}`, // t=41 SYN: B's 6th connection within 60 s (1..41)
        `SMTP Brute Force Attempt: ${B}`, // t=49
      ],
      notes: `${A} opens connections at t=0,5,...,35 s (8 in 35 s), each AUTH LOGIN admin -> 535 17 ms after its SYN: failures 8 in the capture. ${B} opens 7 connections at t=1,9,17,26,33,41,49 s with only EHLO and QUIT (not in clients). Strikes follow the seed rules in the order of design.md §2 (for a NEW connection the auth check comes first, then the connection counter; a REJECT ends the chain): the 535s at t=0,5,10 give Strike 1,2,3; ${A}'s SYNs at t=15,20,25,30,35 find 3 hits in 1200 s -> Go AWAY (rejected and tagged again, so their 535s never happen: no Strike lines, and they never reach the connection counter). ${B}: SYNs at t=41 and 49 are its 6th and 7th within 60 s -> Brute Force Attempt. Lines interleaved in capture (time) order.`,
    },
  );
}

async function whitelist(): Promise<void> {
  const cap = new Capture();
  const W = '203.0.113.7';
  for (const at of [0, 6, 12, 18, 24]) new Smtp(cap, { client: W, at }).start().login('alice', `wrong${at}`, FAIL).finish();
  await writePcap('whitelist.pcap', cap);
  record(
    'whitelist',
    ['whitelist.pcap'],
    'a whitelisted client (--whitelist 203.0.113.0/24) failing 5 times: counted, never struck',
    'tshark: 5 frames with 535, user alice; agrees on counts (strikes are smtpstrike-only).',
    {
      clients: { [W]: ct(5, 0, 0, ['alice']) },
      opaque_flows: 0,
      expect_error: null,
      args: ['--whitelist', '203.0.113.0/24'],
      strikes: [],
      notes: `${W} makes 5 connections (t=0,6,12,18,24 s), each AUTH LOGIN alice -> 535. The failures are reported, but the client is inside the whitelisted 203.0.113.0/24, so no strike lines and no block. Without --whitelist the strikes would be Strike 1, 2, 3, then Go AWAY for the SYNs at t=18 and 24.`,
    },
  );
}

async function multifile(): Promise<void> {
  const X = '198.51.100.88';
  const a = new Capture();
  const b = new Capture();
  // a: connections at t=0, 20, 1300 s; b: at t=10, 30 s. Each: AUTH LOGIN -> 535 17 ms after the SYN.
  for (const at of [0, 20, 1300]) new Smtp(a, { client: X, at, cport: 41000 + at }).start().login('alice', `wrong${at}`, FAIL).finish();
  for (const at of [10, 30]) new Smtp(b, { client: X, at, cport: 41000 + at }).start().login('alice', `wrong${at}`, FAIL).finish();
  await writePcap('multifile-a.pcap', a);
  await writePcap('multifile-b.pcap', b);
  const notesCommon = `${X} connects at t=0, 20 and 1300 s (file a) and t=10 and 30 s (file b), each time AUTH LOGIN alice -> 535 17 ms after the SYN.`;
  record(
    'multifile',
    ['multifile-a.pcap', 'multifile-b.pcap'],
    "one client's failures split over two files with interleaved time ranges; strikes need a time-ordered merge",
    'tshark reads one file at a time: 3 and 2 frames with 535.',
    {
      clients: { [X]: ct(5, 0, 0, ['alice']) },
      opaque_flows: 0,
      expect_error: null,
      strikes: [
        `SMTP_AUTH_FAIL: Strike 1: ${X}`, // t=0.017 (a)
        `SMTP_AUTH_FAIL: Strike 2: ${X}`, // t=10.017 (b)
        `SMTP_AUTH_FAIL: Strike 3: ${X}`, // t=20.017 (a)
        `SMTP_AUTH_REJECTED: Go AWAY: ${X}`, // t=30 SYN (b): 3 hits in 1200 s; its 535 never happens
        `SMTP_AUTH_FAIL: Strike 1: ${X}`, // t=1300.017 (a): every earlier hit (0..30 s) is older than 1200 s
      ],
      notes: `${notesCommon} Both files given together must be merged by timestamp: 535s at 0 (a), 10 (b), 20 (a) give Strike 1,2,3; the SYN at 30 s (b) is rejected (Go AWAY, its 535 would not have happened, and the rejection re-tags the client at 30 s); at 1300 s all hits (0..30 s) are more than 1200 s old, so the 535 is Strike 1 again. failures 5 (all 535s in the captures). Reading a then b without merging gives a different list (e.g. Strike 1, 2, 1 from a, then Strike 2 and Strike 3 or Go AWAY from b, depending on how time running backwards is handled).`,
    },
    'multifile',
  );
  record('multifile', ['multifile-a.pcap'], 'file a of the multifile pair alone', 'tshark: 3 frames with 535; agrees.', {
    clients: { [X]: ct(3, 0, 0, ['alice']) },
    opaque_flows: 0,
    expect_error: null,
    strikes: [`SMTP_AUTH_FAIL: Strike 1: ${X}`, `SMTP_AUTH_FAIL: Strike 2: ${X}`, `SMTP_AUTH_FAIL: Strike 1: ${X}`],
    notes: `File a alone: ${X} fails at t=0, 20 and 1300 s: Strike 1, Strike 2, then Strike 1 again (the first two are over 1200 s old at 1300 s).`,
  });
  record('multifile', ['multifile-b.pcap'], 'file b of the multifile pair alone', 'tshark: 2 frames with 535; agrees.', {
    clients: { [X]: ct(2, 0, 0, ['alice']) },
    opaque_flows: 0,
    expect_error: null,
    strikes: [`SMTP_AUTH_FAIL: Strike 1: ${X}`, `SMTP_AUTH_FAIL: Strike 2: ${X}`],
    notes: `File b alone: ${X} fails at t=10 and 30 s: Strike 1, Strike 2.`,
  });
}

// ---- format variants of one small session ----------------------------------------------------

const FMT_CLIENT = '198.51.100.90';
/** One connection: AUTH LOGIN -> 535, AUTH PLAIN -> 535, AUTH LOGIN -> 235 (25 frames, >= 1 ms apart except the handshakes). */
function fmtSession(cap: Capture, link: Link = 'en10mb', at = 0): void {
  new Smtp(cap, { client: FMT_CLIENT, at, port: 587, link })
    .start()
    .login('alice', 'wrong1', FAIL)
    .plain('alice', 'wrong2', FAIL)
    .login('alice', 'secret', OK235)
    .finish();
}
const FMT_TRUTH = (extra: string): Case['truth'] => ({
  clients: { [FMT_CLIENT]: ct(2, 1, 0, ['alice']) },
  opaque_flows: 0,
  expect_error: null,
  notes: `One connection from ${FMT_CLIENT} to port 587: AUTH LOGIN alice -> 535, AUTH PLAIN alice -> 535, AUTH LOGIN alice -> 235, QUIT. ${extra}`,
});

async function formats(): Promise<void> {
  const cap = new Capture();
  fmtSession(cap);
  const usecLe = await writePcap('fmt-usec-le.pcap', cap);
  record(
    'fmt',
    ['fmt-usec-le.pcap'],
    'classic pcap, µs magic a1b2c3d4, little-endian (the reference for the fmt-* files)',
    'tcpdump reads 25 packets; tshark: 2 frames with 535, 1 with 235, user alice; agrees.',
    FMT_TRUTH('Classic pcap, microsecond magic, little-endian.'),
  );
  const usecBe = classicOf(cap, { bigEndian: true }).toBuffer();
  writeFile('fmt-usec-be.pcap', usecBe);
  record(
    'fmt',
    ['fmt-usec-be.pcap'],
    'classic pcap, µs, big-endian (magic bytes a1 b2 c3 d4)',
    'tcpdump reads 25 packets; tshark: 2 with 535, 1 with 235; agrees.',
    FMT_TRUTH('Classic pcap, microsecond magic, big-endian: every header field is big-endian.'),
  );
  writeFile('fmt-nsec-le.pcap', classicOf(cap, { nanosecond: true }).toBuffer());
  record(
    'fmt',
    ['fmt-nsec-le.pcap'],
    'classic pcap, ns magic a1b23c4d, little-endian',
    'capinfos: "nanosecond pcap", first packet 2026-01-10 10:00:00.000000123; tcpdump and tshark: same counts as fmt-usec-le; agrees.',
    FMT_TRUTH('Classic pcap, nanosecond magic (0xa1b23c4d), little-endian; each timestamp is the µs one + 123 ns.'),
  );
  writeFile('fmt-nsec-be.pcap', classicOf(cap, { nanosecond: true, bigEndian: true }).toBuffer());
  record(
    'fmt',
    ['fmt-nsec-be.pcap'],
    'classic pcap, ns, big-endian',
    'capinfos: nanosecond pcap; tcpdump and tshark: same counts as fmt-usec-le; agrees.',
    FMT_TRUTH('Classic pcap, nanosecond magic, big-endian; timestamps = µs + 123 ns.'),
  );
  writeFile('fmt-snaplen.pcap', classicOf(cap, { snaplen: 96 }).toBuffer());
  record(
    'fmt',
    ['fmt-snaplen.pcap'],
    'snaplen 96: frames cut to 96 bytes (42 TCP payload bytes), caplen < origlen',
    'capinfos: snaplen 96; tshark shows both cut frames as "S: 535 5.7.8 Error: authentication failed: (r" (2 frames with 535; it dissects the visible 42 bytes) and 1 with 235; agrees on the counts.',
    {
      clients: { [FMT_CLIENT]: ct(2, 1, 0, ['alice']) },
      opaque_flows: 0,
      expect_error: null,
      notes: `The fmt session captured with snaplen 96 (Ethernet 14 + IPv4 20 + TCP 20 leaves 42 payload bytes). Both 62-byte 535 lines are cut to "535 5.7.8 Error: authentication failed: (r": the missing 20 bytes, CRLF included, are lost bytes, i.e. a sequence gap; the reply code "535 " survived, so each counts (same rule as gap.pcap): failures 2. Also cut: the 50-byte greeting and the 73-byte EHLO reply. Intact: both 334 prompts (18 bytes), the 37-byte "235 2.7.0 Authentication successful" (preceded by a complete 334 line), the 221, and every client line (the longest, "AUTH PLAIN <b64>", is 33 bytes): successes 1, users ["alice"]. The server really sent two 535s.`,
    },
  );
  writeFile('fmt-usec-le-gz.pcap.gz', gzipSync(usecLe, { level: 9 }));
  record(
    'fmt',
    ['fmt-usec-le-gz.pcap.gz'],
    'gzip of fmt-usec-le.pcap',
    'tshark reads .gz directly: same as fmt-usec-le; tcpdump (libpcap 1.10) says "unknown file format" for .gz, `gzip -dc F | tcpdump -r -` reads 25 packets; agrees.',
    FMT_TRUTH('fmt-usec-le.pcap compressed with gzip (named -gz so that its truth file does not collide with fmt-usec-le.truth.json).'),
  );

  // pcapng: little- and big-endian sections, one Ethernet interface with if_name, comments, an ISB
  // and a custom block a reader must skip.
  for (const be of [false, true]) {
    const w = new PcapngWriter({ bigEndian: be, userappl: 'smtpstrike craft-pcaps', os: 'Linux', comment: 'crafted capture' });
    const eth = w.addInterface({ linktype: LinkType.EN10MB, snaplen: 262144, name: 'eth0' });
    const recs = cap.sorted();
    recs.forEach((r, i) => {
      const fromServer = r.frame.readUInt16BE(14 + 20) === 587;
      const comment = r.frame.length === 54 + FAIL.length && fromServer ? 'a 535 reply' : undefined;
      w.enhancedPacket(eth, r.frame, tsNsOf(r.tsUsec), { flags: fromServer ? 2 : 1, ...(comment ? { comment } : {}) });
      if (i === 3) {
        const pen = Buffer.alloc(8);
        if (be) pen.writeUInt32BE(32473, 0);
        else pen.writeUInt32LE(32473, 0); // RFC 5612 example PEN
        pen.write('skip', 4, 'latin1');
        w.block(BlockType.CUSTOM_COPY, pen);
      }
    });
    w.interfaceStatistics(eth, tsNsOf(recs[recs.length - 1]!.tsUsec), BigInt(recs.length), 0n);
    const name = be ? 'fmt-be.pcapng' : 'fmt-le.pcapng';
    writeFile(name, w.toBuffer());
    record(
      'fmt',
      [name],
      `pcapng, ${be ? 'big' : 'little'}-endian section; EPBs with epb_flags and comments; a custom block and an ISB to skip`,
      'tshark -V parses every block without file-format warnings (its only expert warning is its own SMTP "base64 decode failed or is not enabled" on AUTH PLAIN); tshark lists 26 records because it shows the custom block as a 4-byte record; tcpdump reads the 25 packets; 2 frames with 535, 1 with 235; agrees.',
      FMT_TRUTH(
        `pcapng, ${be ? 'big' : 'little'}-endian SHB (shb_userappl, shb_os, comment), one IDB (EN10MB, if_name eth0, no if_tsresol = µs), EPBs with epb_flags (1 inbound from the client, 2 outbound from the server) and an opt_comment on the two 535 frames, a custom block (type 0x00000BAD, PEN 32473) after the 4th packet and an Interface Statistics Block at the end; readers must skip both.`,
      ),
    );
  }

  // two interfaces: 0 = Ethernet µs with noise, 1 = LINUX_SLL2 with if_tsresol 9 carrying the session
  {
    const noise = new Capture('en10mb');
    // HTTP on port 80 whose body holds a 535 line, and SMTP on port 2525 (not a default port) with a 535
    const web = new TcpConversation('en10mb', { ip: '198.51.100.200', port: 50000 }, { ip: '192.0.2.80', port: 80 }, noise.sink('en10mb'), 111111, 222222);
    let t = T0 + 500;
    web.open(t);
    t += 3000;
    web.fromClient('GET /log.txt HTTP/1.1\r\nHost: www.example.test\r\n\r\n', t);
    t += 3000;
    web.fromServer('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 62\r\n\r\n' + FAIL, t);
    t += 3000;
    web.close(t);
    new Smtp(noise, { client: '198.51.100.201', at: 0.0105, port: 2525 }).start().login('mallory', 'x', FAIL).finish();
    const sess = new Capture('sll2');
    fmtSession(sess, 'sll2');
    const all = [...noise.sorted(), ...sess.sorted()].map((r, i) => ({ r, i })).sort((a, b) => a.r.tsUsec - b.r.tsUsec || a.i - b.i);
    const w = new PcapngWriter({ userappl: 'smtpstrike craft-pcaps' });
    const if0 = w.addInterface({ linktype: LinkType.EN10MB, name: 'eth0', description: 'noise, microseconds' });
    const if1 = w.addInterface({ linktype: LinkType.LINUX_SLL2, name: 'any', tsresol: tsresolPow10(9) });
    for (const { r } of all) {
      const ifId = r.link === 'sll2' ? if1 : if0;
      w.enhancedPacket(ifId, r.frame, tsNsOf(r.tsUsec) + (ifId === if1 ? SUB_US_NS : 0n));
    }
    writeFile('fmt-multi-if.pcapng', w.toBuffer());
    record(
      'fmt',
      ['fmt-multi-if.pcapng'],
      'pcapng with 2 interfaces: 0 = Ethernet µs (noise: HTTP body and port-2525 SMTP with 535s), 1 = LINUX_SLL2 with if_tsresol 9 (the session)',
      'tshark/capinfos: 2 interfaces (Ethernet µs, Linux cooked v2 ns), 50 packets; 2 frames with 535, 1 with 235 (port 2525 is not dissected as SMTP, the HTTP body is HTTP); agrees. tcpdump (libpcap 1.10) refuses the file: "an interface has a type 276 different from the type of the first interface".',
      {
        ...FMT_TRUTH(
          `Interface 1 (LINUX_SLL2, if_tsresol 9: nanosecond timestamps, µs + 123 ns) carries the session; interface 0 (EN10MB, default µs) carries noise interleaved in time: an HTTP response on port 80 whose body is a 535 line, and an SMTP session on port 2525 (198.51.100.201, AUTH LOGIN mallory -> 535) which is not a default SMTP port, so neither counts. Each EPB must be decoded with its own interface's link type and resolution.`,
        ),
      },
    );
  }

  // Simple Packet Blocks (interface 0, no timestamps)
  {
    const w = new PcapngWriter({ userappl: 'smtpstrike craft-pcaps' });
    w.addInterface({ linktype: LinkType.EN10MB, snaplen: 0, name: 'eth0' });
    for (const r of cap.sorted()) w.simplePacket(r.frame);
    writeFile('fmt-spb.pcapng', w.toBuffer());
    record(
      'fmt',
      ['fmt-spb.pcapng'],
      'pcapng with the session in Simple Packet Blocks (no timestamps, interface 0)',
      'tshark/tcpdump read the 25 SPBs (no times); 2 frames with 535, 1 with 235; agrees.',
      FMT_TRUTH(
        'Every packet is a Simple Packet Block: no interface id (always interface 0, EN10MB, snaplen 0 = unlimited) and no timestamp; the captured length comes from the block length. Counts do not depend on time.',
      ),
    );
  }

  // if_tsresol 2^-10
  {
    const w = new PcapngWriter({ userappl: 'smtpstrike craft-pcaps' });
    const i = w.addInterface({ linktype: LinkType.EN10MB, name: 'eth0', tsresol: tsresolPow2(10) });
    for (const r of cap.sorted()) w.enhancedPacket(i, r.frame, tsNsOf(r.tsUsec));
    writeFile('fmt-tsresol-pow2.pcapng', w.toBuffer());
    record(
      'fmt',
      ['fmt-tsresol-pow2.pcapng'],
      'pcapng with if_tsresol = 0x8a (2^-10 s units)',
      'capinfos: "Time ticks per second = 1024, resolution 0x8a"; tshark shows times such as 1768039200.000976562 (1/1024 s steps); 2 frames with 535, 1 with 235; tcpdump reads 25 packets; agrees.',
      FMT_TRUTH(
        'The IDB has if_tsresol 0x8a: timestamps count 1/1024 s (MSB set = negative power of two), rounded down from the µs times, so the first packet is at 2026-01-10T10:00:00Z exactly; messages are 2 ms apart, so the order survives the coarser clock.',
      ),
    );
  }

  // if_tsoffset -2^62 s on a second interface: its packets have no printable time
  {
    const other = new Capture('en10mb');
    new Smtp(other, { client: '198.51.100.91', at: 0.0105, port: 587 }).start().login('mallory', 'x', FAIL).finish();
    const all = [...cap.sorted().map((r) => ({ r, bad: false })), ...other.sorted().map((r) => ({ r, bad: true }))].sort((a, b) => a.r.tsUsec - b.r.tsUsec);
    const w = new PcapngWriter({ userappl: 'smtpstrike craft-pcaps' });
    const good = w.addInterface({ linktype: LinkType.EN10MB, name: 'eth0' });
    const hostile = w.addInterface({ linktype: LinkType.EN10MB, name: 'eth1', tsoffset: -(2n ** 62n) });
    for (const { r, bad } of all) w.enhancedPacket(bad ? hostile : good, r.frame, tsNsOf(r.tsUsec));
    const badPackets = all.filter((x) => x.bad).length;
    writeFile('hostile-tsoffset.pcapng', w.toBuffer());
    record(
      'hostile',
      ['hostile-tsoffset.pcapng'],
      `pcapng whose second interface has if_tsoffset -2^62 s: its ${badPackets} packets (a session with a 535) have times before the Big Bang`,
      'tshark applies the offset (frame.time_epoch -4611686016659348704.0275 for the eth1 535) and finds 2 frames with 535 and 1 with 235 on interface 0, 1 frame with 535 on interface 1; tcpdump (libpcap 1.10) ignores if_tsoffset and reads all 42 packets with ordinary times; agrees on eth0.',
      {
        ...FMT_TRUTH(
          `Interface 1 (eth1) has if_tsoffset = -2^62 seconds: its packets (198.51.100.91, AUTH LOGIN mallory -> 535, interleaved in time with the eth0 session) are at about -1.5e11 years, which no date can show. Each is skipped and counted under the skip reason badTimestamp (${badPackets}); mallory's 535 does not count. The eth0 session counts as in fmt-le.`,
        ),
        skipped: { badTimestamp: badPackets },
      },
    );
  }

  // two sections of different byte order in one file (interface ids restart in the second section)
  {
    const recs = cap.sorted();
    const half = 12;
    const w1 = new PcapngWriter({ userappl: 'smtpstrike craft-pcaps', comment: 'section 1, little-endian' });
    const i1 = w1.addInterface({ linktype: LinkType.EN10MB, name: 'eth0' });
    for (const r of recs.slice(0, half)) w1.enhancedPacket(i1, r.frame, tsNsOf(r.tsUsec));
    const w2 = new PcapngWriter({ bigEndian: true, userappl: 'smtpstrike craft-pcaps', comment: 'section 2, big-endian' });
    const i2 = w2.addInterface({ linktype: LinkType.EN10MB, name: 'eth0', tsresol: tsresolPow10(9) });
    for (const r of recs.slice(half)) w2.enhancedPacket(i2, r.frame, tsNsOf(r.tsUsec) + SUB_US_NS);
    writeFile('fmt-sections.pcapng', Buffer.concat([w1.toBuffer(), w2.toBuffer()]));
    record(
      'fmt',
      ['fmt-sections.pcapng'],
      'pcapng with two sections: little-endian then big-endian, each with its own IDB (ids restart at 0; the second has if_tsresol 9)',
      'tshark reads both sections: 25 packets, 2 frames with 535, 1 with 235; agrees. tcpdump (libpcap 1.10) reads the first 12 packets and then fails at the big-endian SHB ("pcapng block size 1476395008 > maximum 16777216"): libpcap does not follow a byte-order change between sections.',
      FMT_TRUTH(
        `Section 1 (little-endian SHB, IDB 0 EN10MB µs) holds the first ${half} packets, section 2 (big-endian SHB, its own IDB 0 EN10MB with if_tsresol 9) the rest; a reader must switch byte order and interface table at the second SHB.`,
      ),
    );
  }
}

// ---- broken files ------------------------------------------------------------------------------

const BRK_CLIENT = '198.51.100.95';
/**
 * 17 frames: handshake 1-3, 220 4, EHLO 5, 250 6, AUTH PLAIN alice 7, 535 8, AUTH PLAIN alice 9, 535 10,
 * AUTH PLAIN carol 11, 235 12, QUIT 13, 221 14, FIN/FIN/ACK 15-17. Both failed attempts use alice so the
 * users list does not depend on whether an AUTH whose reply was cut off counts (not what these test).
 */
function brokenSession(): Capture {
  const cap = new Capture();
  new Smtp(cap, { client: BRK_CLIENT, at: 0 }).start().plain('alice', 'wrong1', FAIL).plain('alice', 'wrong2', FAIL).plain('carol', 'secret', OK235).finish();
  if (cap.recs.length !== 17) throw new Error('brokenSession: expected 17 frames');
  return cap;
}

async function broken(): Promise<void> {
  const full = classicOf(brokenSession(), {});
  const fullBytes = full.toBuffer();
  const r10 = full.records[9]!; // record 10: the second 535
  const r9 = full.records[8]!; // record 9: the second AUTH PLAIN alice

  // cut in the middle of record 10's data
  writeFile('broken-truncated.pcap', fullBytes.subarray(0, r10.offset + 16 + (r10.caplen >> 1)));
  record(
    'broken',
    ['broken-truncated.pcap'],
    'classic pcap cut in the middle of the 10th record',
    'tcpdump: "truncated dump file; tried to read 116 captured bytes, only got 58" after 9 packets; tshark: "cut short in the middle of a packet" after 9; agrees.',
    {
      clients: { [BRK_CLIENT]: ct(1, 0, 0, ['alice']) },
      opaque_flows: 0,
      expect_error: { offset: r10.offset, packets_before: 9 },
      notes: `Records 1-9 are whole (handshake, 220, EHLO, 250, AUTH PLAIN alice, 535, AUTH PLAIN alice again); the file ends ${r10.caplen >> 1} bytes into the data of record 10 (the second 535), whose header starts at byte ${r10.offset}. What the 9 packets show: 1 failure, user alice.`,
    },
  );

  // record 9 claims caplen 0x7fffffff
  {
    const b = Buffer.from(fullBytes);
    b.writeUInt32LE(0x7fffffff, r9.offset + 8);
    writeFile('broken-caplen.pcap', b);
    record(
      'broken',
      ['broken-caplen.pcap'],
      'classic pcap whose 9th record header claims caplen 0x7fffffff',
      'tcpdump: "invalid packet capture length 2147483647, bigger than snaplen of 262144" after 8 packets; tshark: "File has 2147483647-byte packet, bigger than maximum of 262144" after 8; agrees.',
      {
        clients: { [BRK_CLIENT]: ct(1, 0, 0, ['alice']) },
        opaque_flows: 0,
        expect_error: { offset: r9.offset, packets_before: 8 },
        notes: `The header of record 9 (at byte ${r9.offset}) says caplen 0x7fffffff (> snaplen 262144 and > the file): the reader must stop there with an error instead of allocating 2 GiB or reading past the end. The 8 packets before it show 1 failure (AUTH PLAIN alice -> 535), users ["alice"].`,
      },
    );
  }

  // pcapng: cut inside the block of packet 10; bad block length on packet 9
  const ngOf = (recs: Rec[], mutate?: (i: number, block: Buffer) => Buffer): { bytes: Buffer; w: PcapngWriter } => {
    const w = new PcapngWriter({ userappl: 'smtpstrike craft-pcaps' });
    const i0 = w.addInterface({ linktype: LinkType.EN10MB, name: 'eth0' });
    recs.forEach((r, i) => {
      const blk = w.epbBytes(i0, r.frame, tsNsOf(r.tsUsec));
      w.appendRaw(mutate ? mutate(i, blk) : blk, BlockType.EPB, true);
    });
    return { bytes: w.toBuffer(), w };
  };
  {
    const { bytes, w } = ngOf(brokenSession().sorted());
    const pk = w.blocks.filter((b) => b.packet);
    const p10 = pk[9]!;
    writeFile('broken-truncated-ng.pcapng', bytes.subarray(0, p10.offset + 40));
    record(
      'broken',
      ['broken-truncated-ng.pcapng'],
      'pcapng cut inside the 10th packet block',
      'tcpdump: "truncated pcapng dump file; tried to read 140 bytes, only got 32" after 9 packets; tshark: "cut short in the middle of a packet" after 9; agrees.',
      {
        clients: { [BRK_CLIENT]: ct(1, 0, 0, ['alice']) },
        opaque_flows: 0,
        expect_error: { offset: p10.offset, packets_before: 9 },
        notes: `SHB, IDB, then EPBs; the file ends 40 bytes into the EPB of packet 10 (block starts at byte ${p10.offset}, total length ${p10.length}). (Named -ng so its truth does not collide with broken-truncated.pcap's.) The 9 whole packets show 1 failure, user alice.`,
      },
    );
  }
  {
    const { bytes, w } = ngOf(brokenSession().sorted(), (i, blk) => {
      if (i !== 8) return blk;
      const b = Buffer.from(blk);
      b.writeUInt32LE(7, 4); // block total length 7: below the 12-byte minimum and not a multiple of 4
      return b;
    });
    const p9 = w.blocks.filter((b) => b.packet)[8]!;
    writeFile('broken-blocklen.pcapng', bytes);
    record(
      'broken',
      ['broken-blocklen.pcapng'],
      'pcapng whose 9th packet block has total length 7 (< 12, not a multiple of 4)',
      'tcpdump: "block in pcapng dump file has a length of 7 < 12" after 8 packets; tshark: "total block length 8 of an EPB is less than the minimum EPB size 32" after 8 (it rounds the length up); agrees.',
      {
        clients: { [BRK_CLIENT]: ct(1, 0, 0, ['alice']) },
        opaque_flows: 0,
        expect_error: { offset: p9.offset, packets_before: 8 },
        notes: `The EPB of packet 9 (at byte ${p9.offset}) has Block Total Length 7 in its header (the trailing copy still says ${p9.length}); a reader must report a corrupt block there rather than skip 7 bytes or loop. 8 packets before: 1 failure, users ["alice"].`,
      },
    );
  }
  {
    const { bytes, w } = ngOf(brokenSession().sorted(), (i, blk) => {
      if (i !== 8) return blk;
      const b = Buffer.from(blk);
      b.writeUInt32LE(blk.length + 2, 4); // >= 12 but not a multiple of 4
      return b;
    });
    const p9 = w.blocks.filter((b) => b.packet)[8]!;
    writeFile('broken-blocklen-odd.pcapng', bytes);
    record(
      'broken',
      ['broken-blocklen-odd.pcapng'],
      'pcapng whose 9th packet block length is its real length + 2 (not a multiple of 4, >= 12)',
      `tcpdump: "block in pcapng dump file has a length of ${p9.length + 2} that is not a multiple of 4" after 8 packets; tshark: "total block lengths (first ${p9.length + 4} and second 8) don't match" (it rounds the length up to 4) after 8; agrees.`,
      {
        clients: { [BRK_CLIENT]: ct(1, 0, 0, ['alice']) },
        opaque_flows: 0,
        expect_error: { offset: p9.offset, packets_before: 8 },
        notes: `The EPB of packet 9 (at byte ${p9.offset}) claims Block Total Length ${p9.length + 2} (real ${p9.length}): at least 12 but not a multiple of 4, which the pcapng spec forbids. 8 packets before: 1 failure, users ["alice"].`,
      },
    );
  }

  // unknown link type: not an error, every packet skipped
  writeFile('broken-unknown-link.pcap', classicOf(brokenSession(), { linktype: 147 }).toBuffer());
  record(
    'broken',
    ['broken-unknown-link.pcap'],
    'classic pcap with link type 147 (USER0): every packet skipped, no error',
    'tcpdump prints "UNSUPPORTED" and a hex dump for each of the 17 records; tshark shows 17 frames with no protocol decoded; agrees: nothing counted.',
    {
      clients: {},
      opaque_flows: 0,
      expect_error: null,
      notes:
        'A well-formed file whose link type is LINKTYPE_USER0 (147), which smtpstrike does not decode: not an error, each of the 17 packets is counted as skipped/undecodable, and nothing is reported (the bytes are the Ethernet frames of a session with two 535s, which must not be found by guessing).',
    },
  );

  // garbage
  {
    const g = prng(0x6a5b4c3d)(4096);
    const magic = g.readUInt32LE(0);
    const bad = [0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0x0a0d0d0a];
    if (bad.includes(magic) || (g[0] === 0x1f && g[1] === 0x8b)) throw new Error('garbage starts with a magic');
    writeFile('broken-garbage.pcap', g);
    record(
      'broken',
      ['broken-garbage.pcap'],
      '4096 pseudo-random bytes, no valid magic',
      'tcpdump: "unknown file format"; tshark: "isn\'t a capture file in a format TShark understands"; agrees.',
      {
        clients: {},
        opaque_flows: 0,
        expect_error: { offset: 0, packets_before: 0 },
        notes: `4096 bytes from a seeded xorshift32 generator; the first four bytes (${g.subarray(0, 4).toString('hex')}) are neither a pcap magic (either byte order, µs or ns), a pcapng SHB type, nor a gzip header. The error is at offset 0 with 0 packets.`,
      },
    );
  }

  // gzip cut short: choose the cut so that what zlib can still decode ends inside record 10
  {
    const gz = gzipSync(fullBytes, { level: 9 });
    let cut = -1;
    let got = 0;
    for (let c = gz.length - 1; c > 10; c--) {
      const n = gunzipSync(gz.subarray(0, c), { finishFlush: zc.Z_SYNC_FLUSH }).length;
      if (n > r10.offset && n < r10.offset + 16 + r10.caplen) {
        cut = c;
        got = n;
        break;
      }
      if (n <= r10.offset) break;
    }
    if (cut < 0) throw new Error('broken-truncated-gz: no cut lands inside record 10');
    writeFile('broken-truncated-gz.pcap.gz', gz.subarray(0, cut));
    record(
      'broken',
      ['broken-truncated-gz.pcap.gz'],
      'gzip stream cut short (no trailer); the decompressible prefix ends inside record 10',
      '`gzip -dc` writes the prefix then says "unexpected end of file"; `gzip -dc F | tcpdump -r -` reads 9 packets then "truncated dump file; tried to read 116 captured bytes, only got 52"; tshark (reads .gz itself): "cut short in the middle of a packet" after 9 packets; agrees.',
      {
        clients: { [BRK_CLIENT]: ct(1, 0, 0, ['alice']) },
        opaque_flows: 0,
        expect_error: { offset: r10.offset, packets_before: 9 },
        notes: `The broken-truncated.pcap session, gzip -9, cut to ${cut} of ${gz.length} compressed bytes (no CRC/ISIZE trailer). zlib still inflates the first ${got} bytes of the pcap, which end inside record 10 (it starts at byte ${r10.offset} of the decompressed stream): 9 whole packets, then the gzip error. Same counts as broken-truncated.pcap: 1 failure, user alice. (Named -gz so its truth does not collide.)`,
      },
    );
  }
}

// ---------------------------------------------------------------------------------------------
// README

function summary(t: Case['truth']): string {
  const parts: string[] = [];
  for (const [ip, c] of Object.entries(t.clients)) {
    parts.push(`${ip}: ${c.failures}F/${c.successes}S/${c.tempfails}T${c.users.length ? ` [${c.users.join(',')}]` : ''}`);
  }
  if (parts.length === 0) parts.push('no clients');
  if (t.opaque_flows) parts.push(`opaque ${t.opaque_flows}`);
  if (t.expect_error) parts.push(`error @${t.expect_error.offset} after ${t.expect_error.packets_before} pkts`);
  if (t.strikes) parts.push(`${t.strikes.length} strike lines`);
  if (t.args) parts.push(`args ${t.args.join(' ')}`);
  return parts.join('; ');
}

function writeReadme(): void {
  const rows = cases.map(
    (c) =>
      `| ${c.files.map((f) => `\`${f}\``).join(' + ')} | ${c.truthStem}.truth.json | ${c.what.replace(/\|/g, '\\|')} | ${summary(c.truth).replace(/\|/g, '\\|')} |`,
  );
  const text = `# Crafted captures

Edge cases for smtpstrike's readers, reassembly and SMTP parsing, each with hand-written ground truth
(format: [../TRUTH-FORMAT.md](../TRUTH-FORMAT.md)). Everything here except \`check-tshark.sh\` is generated by the script below; do not edit by hand.

Regenerate (deterministic: fixed timestamps from 2026-01-10T10:00:00Z, fixed ISNs and ports, seeded
filler bytes; the two .gz files depend on the zlib of the Node that runs it):

\`\`\`sh
npx tsc -p . && node dist/scripts/craft-pcaps.js            # writes pcaps/crafted/
node dist/scripts/craft-pcaps.js /tmp/out                    # or elsewhere
\`\`\`

Code: \`scripts/craft-pcaps.ts\` (cases and truths), \`scripts/lib/frames.ts\` (frames, TCP conversations),
\`scripts/lib/pcapng-writer.ts\` (pcapng), \`scripts/lib/pcap-variants.ts\` (classic pcap µs/ns, either
byte order, small snaplen), \`src/source/pcap-writer.ts\` (the plain µs little-endian files; the script
checks that its bytes equal the variant writer's). \`check-tshark.sh\` prints tshark's view of every file.

World: server 192.0.2.25 / 2001:db8::25, ports 25 and 587; clients from 198.51.100.0/24,
203.0.113.7 (whitelist) and 2001:db8:1::/48. Server texts are Postfix's: \`220 mail.example.test ESMTP
Postfix (Debian/GNU)\`, \`535 5.7.8 Error: authentication failed: (reason unavailable)\` (62 bytes),
\`235 2.7.0 Authentication successful\`, \`454 4.7.0 Temporary authentication failure: Connection lost to
authentication server\`. Every session: handshake, 220, EHLO, multi-line 250, AUTH..., QUIT/221, FIN.

## Policies the truths assume

- **Overlaps: first copy wins.** Bytes first received for a sequence range are delivered; later bytes
  for that range are dropped (new bytes beyond it are kept). Retransmissions count once.
- **Gaps.** Bytes that never arrive (lost by the sniffer, or cut by the snaplen) are a gap. A reply
  line cut by a gap still counts when its code ("535 ") was captured; the rest of the line after the
  gap is dropped and the splitter resynchronises at the next CRLF (gap.pcap, fmt-snaplen.pcap). A
  gap is declared as soon as the peer acknowledges past it (the bytes will never be retransmitted).
- **Mid-stream starts.** A flow whose start was not captured is parsed from its first CRLF on.
- **Users** come only from cleartext AUTH PLAIN (the authentication identity, not the authzid) and
  AUTH LOGIN commands, never from CRAM-MD5, DATA bodies or TLS bytes.
- **Strikes** follow the seed's rules in design.md §2 order: for a NEW connection the auth check (3
  hits in 1200 s) comes first, then the connection counter (6 SYNs in 60 s); a rejected
  connection's 535 never happened, so it gives no Strike line.

## Files

Counts: \`F/S/T\` = failures (535) / successes (235) / tempfails (454 to AUTH), then the users.

| capture | truth | tests | expected |
| --- | --- | --- | --- |
${rows.join('\n')}

## Name changes from the plan

The truth file is \`<stem>.truth.json\`, so captures that differ only by extension would share one:
the gzip of fmt-usec-le.pcap is \`fmt-usec-le-gz.pcap.gz\`, and the truncated pcapng/gzip files are
\`broken-truncated-ng.pcapng\` and \`broken-truncated-gz.pcap.gz\`. \`multifile.truth.json\` covers the
pair; \`multifile-a\`/\`multifile-b\` also have their own truths for each file alone.

## tshark / tcpdump cross-check

Each truth's \`notes\` ends with what tshark 4.0.17 and tcpdump (libpcap 1.10) said; \`check-tshark.sh\`
reproduces the tshark side. In short:

- With default preferences tshark agrees on the 535/235/454 counts except: ooo (0: out-of-order
  reassembly is off by default), retrans (misses .20), overlap-conflict (misses .26), multiline-535
  (counts frames: 3 frames for 2 replies) and fmt-snaplen (2: it dissects the cut lines).
- With \`-o tcp.reassemble_out_of_order:TRUE\` it agrees on ooo, retrans and overlap-conflict (it keeps
  the first copy of overlapping bytes too), but finds no 535 in gap.pcap (it waits forever for the
  missing segment; the truth is 1).
- Its username decoding (\`-o smtp.decryption:TRUE\`) shows the password instead of the user for
  split3 .14/.15, retrans .21 and mechs .53 (lower-case \`auth login\`); the truths list the real users.
- tcpdump cannot open .gz (pipe through \`gzip -dc\`), refuses fmt-multi-if.pcapng (two link types)
  and stops at the second, big-endian section of fmt-sections.pcapng; tshark reads all three.
- Broken files: both tools stop at the same record as \`expect_error\` says, after the same number of
  packets.
`;
  writeFileSync(join(OUT, 'README.md'), text);
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  OUT = process.argv[2] ?? 'pcaps/crafted';
  mkdirSync(OUT, { recursive: true });
  await split2();
  await split3();
  await ooo();
  await retrans();
  await overlapConflict();
  await pipelined();
  await multiline();
  await seqwrap();
  await decoyData();
  await ipv6();
  await vlan();
  await links();
  await starttls();
  await tempfail();
  await mechs();
  await gap();
  await midstream();
  await bruteforce();
  await repeatOffender();
  await whitelist();
  await multifile();
  await formats();
  await broken();
  writeTruthFiles();
  writeReadme();
  for (const c of cases)
    for (const f of c.files) {
      const n = readFileSync(join(OUT, f)).length;
      if (n > 100 * 1024) throw new Error(`${f} is ${n} bytes (> 100 KiB)`);
    }
  process.stdout.write(`craft-pcaps: wrote ${new Set(cases.flatMap((c) => c.files)).size} captures and ${cases.length} truth files to ${OUT}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`craft-pcaps: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
