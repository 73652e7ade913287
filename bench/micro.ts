/**
 * Matcher micro-benchmark: the product's streaming matcher (PatternAutomaton, through
 * dist/test/support/stream-matcher.js, which keeps its state between segments) fed an
 * 8 MiB server stream in 1460-byte segments, against Buffer.indexOf over the whole buffer and a
 * naive byte-by-byte scan. Run alone: node dist/bench/micro.js
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Rng } from './rng.js';

interface StreamMatcherLike {
  feed(buf: Uint8Array, start: number, end: number, onMatch: (patternIndex: number, endOffset: number) => void): void;
  reset(): void;
}
type StreamMatcherCtor = new (patterns: Uint8Array[]) => StreamMatcherLike;

export interface MicroRow {
  case: string;
  patterns: string[];
  matches: { stream_matcher: number; index_of: number; index_of_per_segment: number; naive: number };
  mb_s: { stream_matcher: number; index_of: number; index_of_per_segment: number; naive: number };
  ratio_vs_index_of: number;
  ratio_vs_index_of_per_segment: number;
  ratio_vs_naive: number;
}

export interface MicroResult {
  status: 'ok' | 'skipped' | 'error';
  reason?: string;
  stream_bytes?: number;
  segment_bytes?: number;
  rows?: MicroRow[];
}

const REPLIES_535 = [
  '535 5.7.8 Error: authentication failed: (reason unavailable)\r\n',
  '535 Incorrect authentication data\r\n',
  '535 5.7.0 authentication failed\r\n',
];
const OTHER = [
  '250-mx1.example.net\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n250-STARTTLS\r\n' +
    '250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n',
  '334 VXNlcm5hbWU6\r\n',
  '334 UGFzc3dvcmQ6\r\n',
  '235 2.7.0 Authentication successful\r\n',
  '221 2.0.0 Bye\r\n',
  '220 mx1.example.net ESMTP Postfix (Debian/GNU)\r\n',
  '250 2.1.0 Ok\r\n',
  '250 2.1.5 Ok\r\n',
  '354 End data with <CR><LF>.<CR><LF>\r\n',
  '250 2.0.0 Ok: queued as 535AB12CD9\r\n',
  '454 4.7.0 Temporary authentication failure: Connection lost to authentication server\r\n',
  '554 5.7.1 <x@example.info>: Relay access denied\r\n',
];

/** An SMTP server stream of `size` bytes with a 535 reply every ~2 KB. */
export function buildServerStream(size: number, seed = 7): Buffer {
  const rng = new Rng(seed);
  const parts: string[] = ['220 mx1.example.net ESMTP Postfix (Debian/GNU)\r\n'];
  let n = parts[0]!.length;
  let since = 0;
  while (n < size) {
    let s: string;
    if (since >= 1800 + rng.int(400)) {
      s = rng.pick(REPLIES_535);
      since = 0;
    } else {
      s = rng.pick(OTHER);
      since += s.length;
    }
    parts.push(s);
    n += s.length;
  }
  return Buffer.from(parts.join(''), 'latin1').subarray(0, size);
}

function bestOf(fn: () => number, minSeconds = 0.4, maxReps = 9): { seconds: number; matches: number } {
  let best = Infinity;
  let matches = 0;
  let total = 0;
  for (let r = 0; r < maxReps && (r < 3 || total < minSeconds); r++) {
    const t0 = process.hrtime.bigint();
    matches = fn();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    total += s;
    if (s < best) best = s;
  }
  return { seconds: best, matches };
}

function indexOfCount(buf: Buffer, pats: Buffer[]): number {
  let m = 0;
  for (const p of pats) {
    let i = buf.indexOf(p, 0);
    while (i >= 0) {
      m++;
      i = buf.indexOf(p, i + 1);
    }
  }
  return m;
}

/**
 * Buffer.indexOf run on each segment alone, as a per-packet matcher (iptables -m string) does: the
 * native search's per-call cost at this segment size, and it misses every match split across segments.
 */
function indexOfPerSegmentCount(buf: Buffer, pats: Buffer[], segment: number): number {
  let m = 0;
  for (let o = 0; o < buf.length; o += segment) {
    const seg = buf.subarray(o, Math.min(buf.length, o + segment));
    for (const p of pats) {
      let i = seg.indexOf(p, 0);
      while (i >= 0) {
        m++;
        i = seg.indexOf(p, i + 1);
      }
    }
  }
  return m;
}

function naiveCount(buf: Uint8Array, pats: Uint8Array[]): number {
  let m = 0;
  const n = buf.length;
  const np = pats.length;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < np; k++) {
      const p = pats[k]!;
      const L = p.length;
      if (i + L > n) continue;
      let j = 0;
      while (j < L && buf[i + j] === p[j]) j++;
      if (j === L) m++;
    }
  }
  return m;
}

export async function runMicro(matcherPath: string, streamBytes = 8 << 20, segment = 1460): Promise<MicroResult> {
  if (!existsSync(matcherPath)) return { status: 'skipped', reason: `${matcherPath} does not exist` };
  let Ctor: StreamMatcherCtor;
  try {
    const mod: unknown = await import(pathToFileURL(matcherPath).href);
    const ctor = typeof mod === 'object' && mod !== null ? (mod as Record<string, unknown>)['StreamMatcher'] : undefined;
    if (typeof ctor !== 'function') return { status: 'error', reason: 'module does not export class StreamMatcher' };
    Ctor = ctor as StreamMatcherCtor;
  } catch (e) {
    return { status: 'error', reason: `import failed: ${(e as Error).message}` };
  }
  const stream = buildServerStream(streamBytes);
  const cases: { name: string; pats: string[] }[] = [
    { name: 'reply line 535 (1 pattern)', pats: ['\n535 '] },
    { name: 'three 535 reply texts (3 patterns)', pats: REPLIES_535.map((s) => s.slice(0, -2)) },
  ];
  const rows: MicroRow[] = [];
  try {
    for (const c of cases) {
      const pats = c.pats.map((p) => Buffer.from(p, 'latin1'));
      const m = new Ctor(pats.map((p) => new Uint8Array(p)));
      let hits = 0;
      const onMatch = (): void => {
        hits++;
      };
      const sm = bestOf(() => {
        m.reset();
        hits = 0;
        for (let o = 0; o < stream.length; o += segment) m.feed(stream, o, Math.min(stream.length, o + segment), onMatch);
        return hits;
      });
      const io = bestOf(() => indexOfCount(stream, pats));
      const ps = bestOf(() => indexOfPerSegmentCount(stream, pats, segment));
      const nv = bestOf(() => naiveCount(stream, pats), 0.2, 3);
      const mbs = (s: number): number => Math.round(stream.length / 1048576 / s);
      rows.push({
        case: c.name,
        patterns: c.pats,
        matches: { stream_matcher: sm.matches, index_of: io.matches, index_of_per_segment: ps.matches, naive: nv.matches },
        mb_s: { stream_matcher: mbs(sm.seconds), index_of: mbs(io.seconds), index_of_per_segment: mbs(ps.seconds), naive: mbs(nv.seconds) },
        ratio_vs_index_of: Math.round((io.seconds / sm.seconds) * 100) / 100,
        ratio_vs_index_of_per_segment: Math.round((ps.seconds / sm.seconds) * 100) / 100,
        ratio_vs_naive: Math.round((nv.seconds / sm.seconds) * 100) / 100,
      });
    }
  } catch (e) {
    return { status: 'error', reason: `StreamMatcher threw: ${(e as Error).message}`, rows };
  }
  return { status: 'ok', stream_bytes: stream.length, segment_bytes: segment, rows };
}

export function printMicro(r: MicroResult): void {
  process.stdout.write('\n== matcher micro-bench ==\n');
  if (r.status !== 'ok' || !r.rows) {
    process.stdout.write(`${r.status}: ${r.reason ?? ''}\n`);
    if (!r.rows || r.rows.length === 0) return;
  }
  process.stdout.write(`stream ${((r.stream_bytes ?? 0) / 1048576).toFixed(0)} MiB, StreamMatcher fed in ${r.segment_bytes ?? 0}-byte segments\n`);
  for (const row of r.rows) {
    const ok = row.matches.stream_matcher === row.matches.index_of && row.matches.index_of === row.matches.naive;
    process.stdout.write(
      `${row.case}:\n` +
        `  StreamMatcher.feed ${String(row.mb_s.stream_matcher).padStart(6)} MB/s  (${row.matches.stream_matcher} matches)\n` +
        `  Buffer.indexOf     ${String(row.mb_s.index_of).padStart(6)} MB/s  (${row.matches.index_of} matches)\n` +
        `  indexOf per segment ${String(row.mb_s.index_of_per_segment).padStart(5)} MB/s  (${row.matches.index_of_per_segment} matches: split ones missed)\n` +
        `  naive scan         ${String(row.mb_s.naive).padStart(6)} MB/s  (${row.matches.naive} matches)\n` +
        `  StreamMatcher is ${row.ratio_vs_index_of}x indexOf over the whole buffer, ${row.ratio_vs_index_of_per_segment}x indexOf per segment, ${row.ratio_vs_naive}x naive; matches ${ok ? 'agree' : 'DISAGREE'}\n`,
    );
  }
}

const here = dirname(fileURLToPath(import.meta.url));
export const defaultMatcherPath = join(here, '..', 'test', 'support', 'stream-matcher.js');

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  printMicro(await runMicro(defaultMatcherPath));
}
