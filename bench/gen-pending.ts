/**
 * Capture generator for reassembly memory under a hostile peer (issue 9, items 4 and 5):
 *
 *   node dist/bench/gen-pending.js [--flows 200000] [--per-client 4] [--pieces 2] [--pending-bytes 300]
 *                                  [--seed 1] [--out bench/out/pending-200k.pcap]
 *
 * Every flow opens, gets its greeting, then the client sends `NOOP <padding>` and its `AUTH PLAIN`
 * line with the first bytes held back: the rest (`--pending-bytes`, cut into `--pieces` segments,
 * sent in reverse order) arrives first and waits behind the hole. The defaults hold 60 MB in
 * 400,000 pieces at the peak: under the 64 MiB pending-bytes cap, as in the issue's measurement. Only when ALL flows are open and waiting does phase 2 send each flow's head (the
 * hole fills, the lines are complete), the server's 250 and 535, and the FIN exchange. So at the peak
 * `--flows` connections are open at once, each holding out-of-order bytes.
 *
 * One packet per µs of packet time: 200,000 flows take about 2 s, well inside the 10 s gap
 * timeout, so a correct replay loses nothing and its per-client counts equal the truth
 * (`<out without .pcap>.truth.json`, pcaps/TRUTH-FORMAT.md). Written with bench/emit.ts's
 * streaming writer (one output buffer, no Buffer per frame).
 */
import { statSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { PcapOut, TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN, ipToString } from './emit.js';
import { Rng } from './rng.js';

/** Bump when the output changes, so the harness makes its capture again. */
export const PENDING_GEN_VERSION = 1;

export interface PendingGenOptions {
  flows: number;
  /** Flows per client address (each gets one 535). */
  perClient: number;
  /** Out-of-order segments each flow leaves waiting. */
  pieces: number;
  /** Bytes each flow leaves waiting (at least its AUTH line's). */
  pendingBytes: number;
  seed: number;
  out: string;
}

export interface PendingGenResult {
  bytes: number;
  packets: number;
  seconds: number;
  truthPath: string;
}

/** 198.18.0.0/15 (RFC 2544 benchmarking): room for 131,072 clients. */
const CLIENT_BASE = 0xc6120000;
const SERVER = 0xc000021a; // 192.0.2.26
const T0 = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z, µs
const USERS = 8;
const GREETING = '220 mx.example.test ESMTP\r\n';
const FAIL = '535 5.7.8 Error: authentication failed: (reason unavailable)\r\n';
const REPLIES = `250 2.0.0 Ok\r\n${FAIL}`;
/** Bytes of the AUTH line held back until phase 2 (the hole). */
const HEAD = 11;

interface FlowState {
  cip: number;
  cport: number;
  sport: number;
  cseq: number;
  sseq: number;
  line: string;
}

export function truthPathFor(pcap: string): string {
  return pcap.replace(/\.pcap$/, '') + '.truth.json';
}

const userOf = (i: number): string => `user${i % USERS}@example.test`;

/** What the client sends: a padded NOOP (so that `pendingBytes` wait) and its AUTH line. */
function clientLines(i: number, pendingBytes: number): string {
  const auth = `AUTH PLAIN ${Buffer.from(`\0${userOf(i)}\0pw${i}`, 'latin1').toString('base64')}\r\n`;
  const pad = Math.max(0, pendingBytes + HEAD - auth.length - 'NOOP \r\n'.length);
  return `NOOP ${'x'.repeat(pad)}\r\n${auth}`;
}

export function generatePending(o: PendingGenOptions): PendingGenResult {
  if (o.flows / o.perClient > 131_072) throw new Error('at most 131,072 clients (198.18.0.0/15)');
  const started = process.hrtime.bigint();
  const out = new PcapOut(o.out);
  const rng = new Rng(o.seed);
  const flows: FlowState[] = [];
  let t = T0;
  let pendingAtPeak = 0;
  // phase 1: every flow opens and leaves its AUTH line's tail waiting behind a hole
  for (let i = 0; i < o.flows; i++) {
    const f: FlowState = {
      cip: (CLIENT_BASE + Math.floor(i / o.perClient)) >>> 0,
      cport: 30000 + (i % o.perClient),
      sport: i % 2 === 0 ? 25 : 587,
      cseq: rng.u32(),
      sseq: rng.u32(),
      line: clientLines(i, o.pendingBytes),
    };
    flows.push(f);
    out.tcpStr(t++, f.cip, SERVER, f.cport, f.sport, f.cseq, 0, TCP_SYN, 52, true, '');
    f.cseq = (f.cseq + 1) >>> 0;
    out.tcpStr(t++, SERVER, f.cip, f.sport, f.cport, f.sseq, f.cseq, TCP_SYN | TCP_ACK, 64, false, '');
    f.sseq = (f.sseq + 1) >>> 0;
    out.tcpStr(t++, f.cip, SERVER, f.cport, f.sport, f.cseq, f.sseq, TCP_ACK, 52, true, '');
    out.tcpStr(t++, SERVER, f.cip, f.sport, f.cport, f.sseq, f.cseq, TCP_PSH | TCP_ACK, 64, false, GREETING);
    f.sseq = (f.sseq + GREETING.length) >>> 0;
    // the tail in `pieces` segments, last first; the server has not acknowledged any of it
    const tail = f.line.length - HEAD;
    pendingAtPeak += tail;
    for (let p = o.pieces - 1; p >= 0; p--) {
      const a = HEAD + Math.floor((tail * p) / o.pieces);
      const b = HEAD + Math.floor((tail * (p + 1)) / o.pieces);
      out.tcpStr(t++, f.cip, SERVER, f.cport, f.sport, (f.cseq + a) >>> 0, f.sseq, TCP_PSH | TCP_ACK, 52, true, f.line.slice(a, b));
    }
  }
  // phase 2: the holes fill, the server answers 535, both sides close
  for (const f of flows) {
    out.tcpStr(t++, f.cip, SERVER, f.cport, f.sport, f.cseq, f.sseq, TCP_PSH | TCP_ACK, 52, true, f.line.slice(0, HEAD));
    f.cseq = (f.cseq + f.line.length) >>> 0;
    out.tcpStr(t++, SERVER, f.cip, f.sport, f.cport, f.sseq, f.cseq, TCP_PSH | TCP_ACK, 64, false, REPLIES);
    f.sseq = (f.sseq + REPLIES.length) >>> 0;
    out.tcpStr(t++, f.cip, SERVER, f.cport, f.sport, f.cseq, f.sseq, TCP_FIN | TCP_ACK, 52, true, '');
    f.cseq = (f.cseq + 1) >>> 0;
    out.tcpStr(t++, SERVER, f.cip, f.sport, f.cport, f.sseq, f.cseq, TCP_FIN | TCP_ACK, 64, false, '');
    f.sseq = (f.sseq + 1) >>> 0;
    out.tcpStr(t++, f.cip, SERVER, f.cport, f.sport, f.cseq, f.sseq, TCP_ACK, 52, true, '');
  }
  out.close();
  const bytes = statSync(o.out).size;
  const truthPath = truthPathFor(o.out);
  writeFileSync(truthPath, JSON.stringify(truth(o, bytes, out.packets, t, pendingAtPeak), null, 1) + '\n');
  return { bytes, packets: out.packets, seconds: Number(process.hrtime.bigint() - started) / 1e9, truthPath };
}

function truth(o: PendingGenOptions, bytes: number, packets: number, end: number, pendingAtPeak: number): unknown {
  const clients: Record<string, { failures: number; successes: number; tempfails: number; users: string[] }> = {};
  for (let i = 0; i < o.flows; i++) {
    const ip = ipToString((CLIENT_BASE + Math.floor(i / o.perClient)) >>> 0);
    const c = (clients[ip] ??= { failures: 0, successes: 0, tempfails: 0, users: [] });
    c.failures++;
    if (!c.users.includes(userOf(i))) c.users.push(userOf(i));
  }
  for (const c of Object.values(clients)) c.users.sort();
  return {
    capture: basename(o.out),
    made_by: `bench/gen-pending.ts --flows ${o.flows} --per-client ${o.perClient} --pieces ${o.pieces} --pending-bytes ${o.pendingBytes} --seed ${o.seed}`,
    generator: { version: PENDING_GEN_VERSION, flows: o.flows, per_client: o.perClient, pieces: o.pieces, pending_bytes: o.pendingBytes, seed: o.seed },
    clients,
    opaque_flows: 0,
    expect_error: null,
    totals: { failures: o.flows, successes: 0, tempfails: 0, packets, smtp_packets: packets, bytes },
    capture_span_s: (end - T0) / 1e6,
    concurrency: { max_open_smtp_sessions: o.flows, pending_segments_at_peak: o.flows * o.pieces, pending_bytes_at_peak: pendingAtPeak },
    notes:
      `${o.flows} flows open at once, each with ${o.pieces} out-of-order client segment(s) (${o.pendingBytes} bytes) waiting behind a ${HEAD}-byte hole ` +
      'until every flow is open; then the holes fill and each flow gets one 535. Nothing is lost: exact counts expected ' +
      '(run with --max-flows >= flows).',
  };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      flows: { type: 'string', default: '200000' },
      'per-client': { type: 'string', default: '4' },
      pieces: { type: 'string', default: '2' },
      'pending-bytes': { type: 'string', default: '300' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string', default: 'bench/out/pending-200k.pcap' },
    },
    strict: true,
  });
  const o: PendingGenOptions = {
    flows: Number(values.flows),
    perClient: Number(values['per-client']),
    pieces: Number(values.pieces),
    pendingBytes: Number(values['pending-bytes']),
    seed: Number(values.seed),
    out: values.out,
  };
  if (
    !(o.flows >= 1) ||
    !(o.perClient >= 1) ||
    !(o.pieces >= 1 && o.pieces <= 16) ||
    !(o.pendingBytes >= 0 && o.pendingBytes <= 4000) ||
    !Number.isInteger(o.seed)
  ) {
    throw new Error('bad arguments: --flows >= 1, --per-client >= 1, 1 <= --pieces <= 16, 0 <= --pending-bytes <= 4000, integer --seed');
  }
  const r = generatePending(o);
  process.stdout.write(
    `gen-pending: wrote ${o.out}: ${(r.bytes / 1048576).toFixed(1)} MiB, ${r.packets} packets in ` + `${r.seconds.toFixed(2)} s; truth: ${r.truthPath}\n`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
