/**
 * What the fuzzer checks, one function per target. Each takes one input and either returns or
 * throws: an AssertionError for a broken invariant, or whatever the code under test threw that it
 * must not throw (anything but the documented CaptureFormatError from a capture reader; anything
 * at all from the decoder, the SMTP layer and the log parsers, which count bad input, never throw).
 */
import assert from 'node:assert/strict';
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { LogScanner, parseLine } from '../../src/accounts/parse-logs.js';
import { detectCompression } from '../../src/accounts/reader.js';
import type { FileCounters } from '../../src/accounts/types.js';
import { PacketDecoder } from '../../src/decode/packet-decoder.js';
import type { EventSink, PipelineEvent } from '../../src/events.js';
import { defaultPipelineOptions, Pipeline, type PipelineOptions } from '../../src/pipeline.js';
import { loginUsername, plainUsername } from '../../src/smtp/auth-username.js';
import { LineSplitter } from '../../src/smtp/line-splitter.js';
import { PacketPrinter } from '../../src/dump/packet-printer.js';
import { hexAsciiLines } from '../../src/dump/text.js';
import { CaptureFileReader } from '../../src/source/capture-file.js';
import { CaptureFormatError, newPacketRecord } from '../../src/source/packet-record.js';
import { readCaptureFiles } from '../../src/source/capture-files.js';
import { canonicalIp } from '../../src/accounts/ip.js';
import { formatIpv6, parseIp } from '../../src/net/ip-text.js';
import { isIP, isIPv6 } from 'node:net';
import { spawnSync } from 'node:child_process';

/**
 * Pipeline options with small tables: the eviction paths run too, and each case stays cheap (the
 * default 100 000-flow table costs 15 ms to build, more than a whole fuzz case).
 */
export function fuzzPipelineOptions(): PipelineOptions {
  const o = defaultPipelineOptions();
  o.flows.maxFlows = 16;
  o.strikes.maxEntries = 16;
  return o;
}

/** Collects pipeline events; checks each is well formed as it arrives. */
class CheckingSink implements EventSink {
  readonly events: PipelineEvent[] = [];
  event(ev: PipelineEvent): void {
    assert.ok(Number.isFinite(ev.ts), `event ${ev.type} has ts ${ev.ts}`);
    this.events.push(ev);
  }
}

function checkCoverage(p: Pipeline): void {
  const c = p.coverage();
  const walk = (o: unknown, path: string): void => {
    if (typeof o === 'number') assert.ok((Number.isFinite(o) && o >= 0) || path.endsWith('_ts'), `coverage ${path} = ${o}`);
    else if (o && typeof o === 'object') for (const [k, v] of Object.entries(o)) walk(v, `${path}.${k}`);
  };
  walk(c, 'coverage');
  JSON.stringify(c);
}

export interface CaptureOutcome {
  packets: number;
  error: string | null;
  /** Length and first bytes of every packet, to compare two readings of the same bytes. */
  digest: string[];
}

/** Splits `b` into chunks of the given sizes (cycled), as a pipe would deliver it. */
function chunked(b: Buffer, sizes: readonly number[]): Buffer[] {
  if (sizes.length === 0) return [b];
  const out: Buffer[] = [];
  for (let off = 0, i = 0; off < b.length; i++) {
    const n = Math.max(1, sizes[i % sizes.length]!);
    out.push(b.subarray(off, off + n));
    off += n;
  }
  return out;
}

/**
 * A capture reader over `bytes` (as a stream cut into `chunks`, or, for gzip input, as a file in
 * `dir`), every packet through the whole pipeline. Yields packets or a CaptureFormatError; every
 * packet's view lies inside its buffer; a file of n bytes cannot hold more than n/12 packets.
 */
export async function fuzzCapture(bytes: Buffer, chunks: readonly number[], dir: string): Promise<CaptureOutcome> {
  const got = await readThroughPipeline(bytes, chunks, dir);
  if (chunks.length > 0 && !(bytes[0] === 0x1f && bytes[1] === 0x8b)) {
    // However a pipe cuts the bytes, the reader sees the same packets and the same error.
    const whole = await readThroughPipeline(bytes, [], dir);
    assert.deepEqual(got, whole, 'reading the stream in chunks changed what was read');
  }
  return got;
}

async function readThroughPipeline(bytes: Buffer, chunks: readonly number[], dir: string): Promise<CaptureOutcome> {
  const sink = new CheckingSink();
  const pipeline = new Pipeline(fuzzPipelineOptions(), sink);
  let packets = 0;
  const digest: string[] = [];
  const onPacket = (rec: ReturnType<typeof newPacketRecord>): void => {
    assert.ok(
      rec.off >= 0 && rec.caplen >= 0 && rec.off + rec.caplen <= rec.buf.length,
      `record view [${rec.off}, +${rec.caplen}) outside a ${rec.buf.length}-byte buffer`,
    );
    assert.ok(rec.origlen >= rec.caplen, 'origlen < caplen');
    assert.ok(Number.isFinite(rec.tsSec) && Number.isFinite(rec.tsNsec), 'timestamp not finite');
    packets++;
    digest.push(`${rec.caplen}:${rec.tsSec}.${rec.tsNsec}:${rec.buf.toString('hex', rec.off, rec.off + Math.min(rec.caplen, 24))}`);
    pipeline.packet(rec);
  };
  let error: string | null = null;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    // gzip is only recognised on files (CaptureFileReader.open).
    const file = join(dir, 'fuzz.pcap.gz');
    writeFileSync(file, bytes);
    const [r] = await readCaptureFiles([file], onPacket);
    assert.equal(r!.packets, packets);
    error = r!.error?.reason ?? null;
  } else {
    let reader: CaptureFileReader;
    try {
      reader = await CaptureFileReader.fromStream('fuzz', Readable.from(chunked(bytes, chunks)));
    } catch (e) {
      if (e instanceof CaptureFormatError) return { packets: 0, error: e.reason, digest };
      throw e;
    }
    try {
      for (;;) {
        while (reader.next()) {
          onPacket(reader.rec);
          assert.ok(packets <= bytes.length / 12 + 1, `${packets} packets out of ${bytes.length} bytes`);
        }
        if (!(await reader.refill())) break;
      }
    } catch (e) {
      if (!(e instanceof CaptureFormatError)) throw e;
      error = e.reason;
    } finally {
      await reader.close();
    }
    assert.equal(reader.packets, packets);
  }
  pipeline.finish();
  checkCoverage(pipeline);
  return { packets, error, digest };
}

/**
 * Two capture files merged in time order (`replay a b`): never a throw, each file reported, every
 * packet a file's report counts delivered once.
 */
export async function fuzzCaptureMerge(a: Buffer, b: Buffer, dir: string): Promise<void> {
  const files = [join(dir, 'a.pcap'), join(dir, 'b.pcap')];
  writeFileSync(files[0]!, a);
  writeFileSync(files[1]!, b);
  const pipeline = new Pipeline(fuzzPipelineOptions(), new CheckingSink());
  let delivered = 0;
  const reports = await readCaptureFiles(files, (rec) => {
    assert.ok(rec.off >= 0 && rec.caplen >= 0 && rec.off + rec.caplen <= rec.buf.length);
    delivered++;
    pipeline.packet(rec);
  });
  assert.equal(reports.length, 2);
  assert.equal(reports[0]!.packets + reports[1]!.packets, delivered);
  pipeline.finish();
  checkCoverage(pipeline);
}

/** The fields decode() sets, to compare two decodes of the same frame. */
function decoded(d: PacketDecoder, base: number): unknown[] {
  return [
    d.ipVersion,
    d.srcOff - base,
    d.dstOff - base,
    d.src4,
    d.dst4,
    d.ipLen,
    d.sport,
    d.dport,
    d.seq,
    d.ack,
    d.flags,
    d.window,
    d.payloadOff - base,
    d.payloadLen,
    d.segLen,
    d.vlan,
  ];
}

/**
 * The decoder on one frame: never throws, its views stay inside the captured bytes, and it reads
 * nothing past them — the same frame followed by different bytes in its buffer decodes the same.
 */
export function fuzzFrame(linktype: number, frame: Uint8Array, lead: number): void {
  const results: unknown[][] = [];
  const oks: boolean[] = [];
  for (const fill of [0x00, 0xff]) {
    const buf = Buffer.alloc(lead + frame.length + 64, fill);
    buf.set(frame, lead);
    const d = new PacketDecoder();
    const ok = d.decode(linktype, buf, lead, frame.length);
    oks.push(ok);
    if (!ok) continue;
    const end = lead + frame.length;
    // (TCP options cut off by the snapshot length leave payloadOff past the end, with nothing to read.)
    assert.ok(
      d.payloadLen >= 0 && d.payloadOff >= lead && (d.payloadLen === 0 || d.payloadOff + d.payloadLen <= end),
      `payload [${d.payloadOff}, +${d.payloadLen}) outside the frame [${lead}, ${end})`,
    );
    assert.ok(d.segLen >= d.payloadLen, `segLen ${d.segLen} < payloadLen ${d.payloadLen}`);
    const alen = d.ipVersion === 4 ? 4 : 16;
    assert.ok(d.srcOff >= lead && d.srcOff + alen <= end && d.dstOff + alen <= end, 'address outside the frame');
    results.push(decoded(d, lead));
  }
  assert.equal(oks[0], oks[1], 'decode depends on bytes after the captured frame');
  if (results.length === 2) assert.deepEqual(results[0], results[1], 'decode depends on bytes after the captured frame');
}

/**
 * The SMTP line splitter against the obvious oracle: the same bytes cut anywhere give the lines of
 * the whole (split at LF, one CR before it dropped, at most maxLine bytes kept).
 */
export function fuzzLineSplitter(data: Uint8Array, cuts: readonly number[], maxLine: number): void {
  const whole = Buffer.from(data);
  const want: string[] = [];
  let start = 0;
  for (let lf = whole.indexOf(10); lf >= 0; lf = whole.indexOf(10, start)) {
    let e = lf;
    if (e > start && whole[e - 1] === 13) e--;
    // A long line keeps maxLine bytes (its CR, if one of them, is kept when the line was cut).
    const line = e - start > maxLine ? whole.subarray(start, start + maxLine) : whole.subarray(start, e);
    want.push(line.toString('latin1'));
    start = lf + 1;
  }
  const got: string[] = [];
  const s = new LineSplitter(maxLine);
  for (const part of chunked(whole, cuts)) {
    for (let p = 0; (p = s.next(part, p, part.length)) >= 0;) got.push(s.lineBuf.toString('latin1', s.lineStart, s.lineEnd));
  }
  assert.deepEqual(got, want);
  const rest = s.takePartial();
  assert.equal(rest ? rest.end - rest.start : 0, Math.min(whole.length - start, maxLine + 1));
}

/** SASL username decoders: never throw; a LOGIN name made of printable ASCII decodes to itself. */
export function fuzzAuthUsername(raw: Uint8Array, name: string): void {
  plainUsername(raw, 0, raw.length);
  loginUsername(raw, 0, raw.length);
  const b = Buffer.from(Buffer.from(name, 'latin1').toString('base64'), 'latin1');
  assert.equal(loginUsername(b, 0, b.length), name.length > 0 ? name : null);
  const plain = Buffer.from(Buffer.from(`\0${name}\0secret`, 'latin1').toString('base64'), 'latin1');
  assert.equal(plainUsername(plain, 0, plain.length), name.length > 0 ? name : null);
}

const MODES = ['all', 'exim', 'postfix', 'dovecot', 'ssh', 'apache', 'openwebmail'] as const;

/**
 * One log line in every mode: a verdict, never a throw; an event has an address and a finite time;
 * and a mode is a filter — mode `all` finds an event exactly when the mode of its service finds
 * the same one, and no other service's mode finds one.
 */
export function fuzzLogLine(line: string, year: number): void {
  const byMode = new Map<string, string | null>();
  for (const mode of MODES) {
    const r = parseLine(line, { mode, tz: 'UTC', year, refTs: 1.7e9 });
    assert.ok(['success', 'failure', 'tempfail', 'ignored', 'unparseable'].includes(r.verdict));
    if (r.event) assert.ok(r.event.count === undefined || (Number.isInteger(r.event.count) && r.event.count > 1), `count ${r.event.count}`);
    if (r.event) {
      assert.ok(typeof r.event.ip === 'string' && r.event.ip.length > 0, `empty address from ${JSON.stringify(line)}`);
      assert.ok(Number.isFinite(r.event.ts), `ts ${r.event.ts} from ${JSON.stringify(line)}`);
    }
    byMode.set(mode, r.event ? JSON.stringify(r.event) : null);
  }
  const all = byMode.get('all')!;
  const service = all === null ? null : (JSON.parse(all) as { service: string }).service;
  for (const mode of MODES) {
    if (mode === 'all') continue;
    assert.equal(byMode.get(mode), mode === service ? all : null, `mode ${mode} vs all on ${JSON.stringify(line)}`);
  }
}

/** A whole log file (any compression): LogScanner never throws and every line gets exactly one verdict. */
export async function fuzzLogFile(bytes: Buffer, dir: string): Promise<void> {
  const plain = await scanLog(join(dir, 'fuzz.log'), bytes);
  if (detectCompression(bytes) === 'none') {
    // The same text gzip-compressed reads the same (the file name is the same, so are the events).
    const gz = await scanLog(join(dir, 'fuzz.log'), gzipSync(bytes));
    assert.deepEqual({ ...gz, compression: 'none' }, plain, 'gzip changed what the log scanner read');
  }
}

async function scanLog(file: string, bytes: Buffer): Promise<FileCounters & { events: string[] }> {
  writeFileSync(file, bytes);
  // A line that lost its timestamp takes the file's mtime: a fixed one keeps the case reproducible.
  utimesSync(file, 1.7e9, 1.7e9);
  const events: string[] = [];
  const c = await new LogScanner({ mode: 'all', tz: 'UTC', year: 2024 }).scanFile(file, (e) => {
    assert.ok(e.ip.length > 0 && Number.isFinite(e.ts));
    events.push(JSON.stringify(e));
  });
  // One event per line with an outcome (a line standing for N logins carries `count`).
  assert.equal(c.successes + c.failures + c.tempfails, events.length);
  assert.equal(c.successes + c.failures + c.tempfails + c.ignored + c.unparseable, c.lines, JSON.stringify(c));
  if (c.error !== undefined) assert.equal(typeof c.error, 'string');
  return { ...c, events };
}

/**
 * `smtpstrike dump`'s tcpdump-style printer on one frame under a link type: never throws, and what
 * it prints holds no control character but tab and newline (a frame's bytes must not reach a terminal
 * as escape sequences).
 */
export function fuzzDumpPrinter(linktype: number, frame: Buffer, lead: number): void {
  const rec = newPacketRecord();
  rec.buf = Buffer.concat([Buffer.alloc(lead, 0xee), frame, Buffer.alloc(16, 0xee)]);
  rec.off = lead;
  rec.caplen = frame.length;
  rec.origlen = frame.length;
  rec.tsSec = 1_700_000_000;
  rec.linktype = linktype;
  const printer = new PacketPrinter({ absoluteSeq: false });
  let text = printer.print(rec);
  if (printer.payloadOff >= 0) {
    assert.ok(printer.payloadOff >= lead && printer.payloadOff <= lead + frame.length, `payloadOff ${printer.payloadOff} outside the frame`);
    text += hexAsciiLines(rec.buf, printer.payloadOff, lead + frame.length);
  }
  // eslint-disable-next-line no-control-regex
  const ctl = /[\x00-\x08\x0b-\x1f\x7f]/.exec(text);
  assert.equal(ctl, null, `control character ${JSON.stringify(ctl?.[0])} in ${JSON.stringify(text)}`);
}

/**
 * Address text, the key of every count: IPv6 bytes print as the WHATWG URL parser serialises them
 * (an independent RFC 5952 implementation; it prints mapped IPv4 in hex, so those are left out)
 * and parse back to the same bytes; a log's address string canonicalises to a real address that
 * canonicalises to itself, and every IPv6 address node accepts has a canonical form.
 */
export function fuzzIpText(bytes: Uint8Array, text: string): void {
  const v6 = formatIpv6(bytes);
  assert.deepEqual(parseIp(v6), Uint8Array.from(bytes), v6);
  const mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (!mapped) assert.equal(v6, new URL(`http://[${v6}]/`).hostname.slice(1, -1));
  const c = canonicalIp(text);
  if (c !== null) {
    assert.ok(isIP(c) !== 0, `${JSON.stringify(text)} → ${c}`);
    assert.equal(canonicalIp(c), c, `${JSON.stringify(text)} → ${c}`);
  }
  const bare = text.split('%')[0]!;
  if (isIPv6(bare)) assert.notEqual(c, null, `${JSON.stringify(text)} is IPv6 to node but not to canonicalIp`);
}

/** A stack trace or a JavaScript error name on stderr means an exception escaped to the user. */
const CRASH = /^\s+at .+:\d+:\d+\)?$|\b(TypeError|RangeError|ReferenceError|SyntaxError|AssertionError)\b|Unhandled|FATAL ERROR/m;

/**
 * One `smtpstrike` command over mutated files (`CAPTURE` and `LOG` in `args` name them), under a
 * small heap so a runaway allocation shows: exit 0, 1 or 2, and no stack trace on stderr.
 */
export function fuzzCli(args: readonly string[], capture: Buffer, log: Buffer, dir: string): void {
  const files: Record<string, string> = { CAPTURE: join(dir, 'cli.pcap'), LOG: join(dir, 'cli.log'), OUT: join(dir, 'out.pcap') };
  writeFileSync(files.CAPTURE!, capture);
  writeFileSync(files.LOG!, log);
  const argv = args.map((a) => files[a] ?? a);
  const r = spawnSync(process.execPath, ['--max-old-space-size=192', 'dist/src/cli.js', ...argv], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC' },
    timeout: 50_000,
    maxBuffer: 64 << 20,
  }); // killed before the watchdog's 60 s
  const what = `smtpstrike ${args.join(' ')}`;
  assert.ok(r.status === 0 || r.status === 1 || r.status === 2, `${what}: exit ${r.status} (signal ${r.signal})\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, CRASH, what);
}
