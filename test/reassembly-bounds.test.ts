/** Reassembly against a hostile or unlucky peer (issue 9, item 5): bounds, port reuse, header fields. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { b64, loginSession } from './support/synth.js';
import { replayFrames } from './support/replay.js';
import { strikeLogLine } from '../src/strikes/iptables-log.js';
import { TCP, tcpFrame } from '../scripts/lib/frames.js';
import type { StreamConsumer } from '../src/reassembly/stream.js';
import { defaultAssemblerLimits, HalfStream, TcpAssembler, TcpFlag, type AssemblerLimits } from '../src/reassembly/tcp-assembler.js';

const FAIL = '535 5.7.8 Error: authentication failed: (reason unavailable)\r\n';
const T0 = 1_768_039_200_000_000; // 2026-01-10T10:00:00Z in µs
const S = 1e6; // one second in µs

/** The LOG line of a first strike whose reply (payload `len` bytes) came from 192.0.2.25:sport in an ACK|PSH packet. */
function serverStrike1(client: string, len: number, sport: number, dport: number): string {
  return (
    `SMTP_AUTH_FAIL: Strike 1: IN= OUT= SRC=192.0.2.25 DST=${client} LEN=${40 + len} TOS=0x00 PREC=0x00 TTL=64 ID=0 DF ` +
    `PROTO=TCP SPT=${sport} DPT=${dport} WINDOW=64240 RES=0x00 ACK PSH URGP=0`
  );
}

const run = replayFrames;

test('a client reusing its source port from :25 to :587 stays one flow after the :25 flow is forgotten', async () => {
  const r = await run((f) => {
    loginSession(f.conversation('en10mb', '198.51.100.7', 40000, '192.0.2.25', 25), T0, 'alice', FAIL);
    const b = f.conversation('en10mb', '198.51.100.7', 40000, '192.0.2.25', 587, 9000, 7000);
    b.open(T0 + 1 * S);
    b.fromServer('220 hi\r\n', T0 + 2 * S);
    b.fromClient(`AUTH PLAIN ${b64('\0bob\0pw')}\r\n`, T0 + 3 * S);
    // 100 s later: the sweep has forgotten the closed :25 flow (closed linger 30 s)
    b.fromServer(FAIL, T0 + 100 * S);
    b.close(T0 + 101 * S);
  });
  assert.equal(r.coverage.flows, 2);
  assert.equal(r.coverage.midstream_starts, 0);
  assert.deepEqual(
    r.log.of('auth_failure').map((e) => [e.user, e.serverPort]),
    [
      ['alice', 25],
      ['bob', 587],
    ],
  );
  assert.deepEqual(
    r.log.of('flow_end').map((e) => [e.serverPort, e.reason]),
    [
      [25, 'fin'],
      [587, 'fin'],
    ],
  );
});

// ------------------------------------------------------------------ the assembler on its own

/** Records what a direction delivers. */
class Recorder implements StreamConsumer {
  readonly bytes: number[][] = [[], []];
  readonly gaps: number[] = [];
  data(fromClient: boolean, buf: Buffer, start: number, end: number): void {
    for (let i = start; i < end; i++) this.bytes[fromClient ? 1 : 0]!.push(buf[i]!);
  }
  gap(_fromClient: boolean, lost: number): void {
    this.gaps.push(lost);
  }
  connect(): void {}
  close(): void {}
}

const ACK = TcpFlag.ACK;
const ONE = Buffer.from('x');

/** A direction that has seen its SYN at `isn`; returns it with a fresh assembler and recorder. */
function opened(limits: Partial<AssemblerLimits> = {}, isn = 1000) {
  const a = new TcpAssembler({ ...defaultAssemblerLimits, ...limits });
  const hs = new HalfStream();
  const c = new Recorder();
  a.segment(hs, c, true, isn, TcpFlag.SYN, ONE, 0, 0, 0, 0);
  return { a, hs, c, next: isn + 1 };
}

test('1-byte segments past a hole: inserting and draining them is constant work per segment', () => {
  const n = 20_000;
  const { a, hs, c, next } = opened({ maxPendingSegmentsPerStream: n, maxPendingSegmentsTotal: n });
  const bytes = Buffer.alloc(n + 1);
  for (let i = 0; i <= n; i++) bytes[i] = 97 + (i % 26);
  // byte 0 is the hole; bytes 1..n arrive one per segment, in order
  for (let i = 1; i <= n; i++) a.segment(hs, c, true, next + i, ACK, bytes, i, 1, 1, 0);
  assert.equal(a.pendingSegments, n);
  a.segment(hs, c, true, next, ACK, bytes, 0, 1, 1, 0);
  assert.deepEqual(Buffer.from(c.bytes[1]!), bytes);
  assert.equal(a.pendingSegments, 0);
  assert.equal(a.stats.pendingOverflows, 0);
  assert.ok(a.pendingWork <= 4 * n, `work ${a.pendingWork} for ${n} segments`);
});

test('waiting segments are capped in pieces per stream as well as in bytes', () => {
  const { a, hs, c, next } = opened({ maxPendingSegmentsPerStream: 100 });
  const bytes = Buffer.alloc(1000, 0x61);
  // 1-byte segments past a hole, every other byte: 300 pieces of 300 bytes, far under the byte cap
  for (let i = 0; i < 300; i++) a.segment(hs, c, true, next + 1 + 2 * i, ACK, bytes, 0, 1, 1, 0);
  assert.ok(a.pendingSegments <= 100, `${a.pendingSegments} pieces waiting`);
  assert.equal(a.stats.pendingOverflows > 0, true);
  // what was given up is counted as lost, and every byte that arrived was delivered once
  const lost = c.gaps.reduce((x, y) => x + y, 0);
  a.flush(hs, c, true, 0);
  const lostAll = c.gaps.reduce((x, y) => x + y, 0);
  assert.equal(c.bytes[1]!.length, 300);
  assert.equal(lostAll, 300);
  assert.ok(lost > 0);
  assert.equal(a.pendingSegments, 0);
  assert.equal(a.stats.pendingSegmentsPeak, 100);
});

test('waiting segments are capped in pieces across all streams', () => {
  const a = new TcpAssembler({ ...defaultAssemblerLimits, maxPendingSegmentsTotal: 50 });
  const c = new Recorder();
  const streams = Array.from({ length: 10 }, () => new HalfStream());
  const bytes = Buffer.alloc(10, 0x62);
  for (const hs of streams) a.segment(hs, c, true, 1000, TcpFlag.SYN, bytes, 0, 0, 0, 0);
  for (let i = 0; i < 10; i++) for (const hs of streams) a.segment(hs, c, true, 1001 + 1 + 2 * i, ACK, bytes, 0, 1, 1, 0);
  assert.ok(a.pendingSegments <= 50, `${a.pendingSegments} pieces waiting`);
  assert.ok(a.stats.pendingOverflows > 0);
  for (const hs of streams) a.flush(hs, c, true, 0);
  assert.equal(c.bytes[1]!.length, 100, 'every byte that arrived is delivered');
  assert.equal(a.pendingSegments, 0);
  assert.equal(a.pendingTotal, 0);
});

test('first copy wins also when an in-order segment covers bytes that were waiting: the waiting bytes stand', () => {
  const { a, hs, c, next } = opened();
  const at = (s: string): Buffer => Buffer.from(s, 'latin1');
  // bytes 4..7 and 10..11 arrive first, out of order; then one segment 0..13 that disagrees with both
  a.segment(hs, c, true, next + 4, ACK, at('WXYZ'), 0, 4, 4, 0);
  a.segment(hs, c, true, next + 10, ACK, at('QR'), 0, 2, 2, 0);
  a.segment(hs, c, true, next, ACK, at('abcdefghijklmn'), 0, 14, 14, 0);
  assert.equal(Buffer.from(c.bytes[1]!).toString('latin1'), 'abcdWXYZijQRmn');
  assert.equal(a.stats.overlapBytes, 6, 'the 6 bytes of the second copy are overlap, dropped');
  assert.equal(a.pendingSegments, 0);
  assert.equal(a.pendingTotal, 0);
  // a later copy of the whole range changes nothing: it is a retransmission
  a.segment(hs, c, true, next, ACK, at('ABCDEFGHIJKLMN'), 0, 14, 14, 0);
  assert.equal(Buffer.from(c.bytes[1]!).toString('latin1'), 'abcdWXYZijQRmn');
});

test('first copy wins with a snapshot-cut in-order segment: the cut part is a gap, the waiting bytes still stand', () => {
  const { a, hs, c, next } = opened();
  const at = (s: string): Buffer => Buffer.from(s, 'latin1');
  a.segment(hs, c, true, next + 6, ACK, at('WXYZ'), 0, 4, 4, 0);
  // 12 bytes on the wire, only 3 captured
  a.segment(hs, c, true, next, ACK, at('abc'), 0, 3, 12, 0);
  assert.equal(Buffer.from(c.bytes[1]!).toString('latin1'), 'abcWXYZ');
  assert.deepEqual(c.gaps, [3, 2], 'bytes 3..5 and 10..11 were never captured');
});

// ------------------------------------------------------------------ whole pipeline

test('the gap timeout fires on the idle sweep for a flow that went quiet behind a hole', async () => {
  const r = await run((f) => {
    const a = f.conversation('en10mb', '198.51.100.20', 40020, '192.0.2.25', 25);
    a.open(T0);
    a.fromClient(`AUTH PLAIN ${b64('\0quiet\0pw')}\r\n`, T0 + 1000);
    const s0 = a.sseq;
    a.raw(false, s0 + 8, FAIL, T0 + 1 * S); // the 8 bytes before it ("250 ok\r\n") never arrive
    a.advance(false, 8 + FAIL.length);
    // other traffic, 70 s later: the sweep runs on its first packet
    const b = f.conversation('en10mb', '198.51.100.21', 40021, '192.0.2.25', 25);
    b.open(T0 + 70 * S);
    b.close(T0 + 71 * S);
  });
  const fails = r.log.of('auth_failure');
  assert.equal(fails.length, 1);
  assert.equal(fails[0]!.ts, (T0 + 70 * S) / 1e6, 'declared at the sweep, not at the end of input');
  assert.equal(r.coverage.gaps, 1);
  assert.equal(r.coverage.gap_bytes, 8);
});

const logLines = (r: Awaited<ReturnType<typeof run>>): string[] => r.log.of('strike').map((s) => strikeLogLine(s));

test("a reply flushed at end of input is logged with its own packet's header, not the last packet decoded", async () => {
  const line = '535 5.7.8 Error: authentication failed';
  const r = await run((f) => {
    const a = f.conversation('en10mb', '198.51.100.22', 40022, '192.0.2.25', 25);
    a.open(T0);
    a.fromClient(`AUTH PLAIN ${b64('\0v4\0pw')}\r\n`, T0 + 1000);
    a.fromServer(line, T0 + 2000); // no CRLF yet: the capture ends first
    const b = f.conversation('en10mb', '2001:db8::22', 40023, '2001:db8::25', 25);
    b.open(T0 + 3000); // the last packets decoded are IPv6
  });
  assert.deepEqual(logLines(r), [serverStrike1('198.51.100.22', line.length, 25, 40022)]);
});

test("a reply waiting behind a hole and flushed when the client resets is logged with its own packet's header", async () => {
  const r = await run((f) => {
    const a = f.conversation('en10mb', '198.51.100.23', 40024, '192.0.2.25', 587);
    a.open(T0);
    a.fromClient(`AUTH PLAIN ${b64('\0rst\0pw')}\r\n`, T0 + 1000);
    a.raw(false, a.sseq + 8, FAIL, T0 + 2000); // behind an 8-byte hole
    f.sink(tcpFrame({ link: 'en10mb', src: '198.51.100.23', dst: '192.0.2.25', sport: 40024, dport: 587, seq: a.cseq, ack: 0, flags: TCP.RST }), T0 + 3000);
  });
  assert.deepEqual(logLines(r), [serverStrike1('198.51.100.23', FAIL.length, 587, 40024)]);
});

test("a reply waiting behind a hole and flushed on eviction is logged with its own packet's header", async () => {
  const r = await run(
    (f) => {
      for (let i = 0; i < 17; i++) {
        const c = f.conversation('en10mb', `198.51.100.${30 + i}`, 40030 + i, '192.0.2.25', 25);
        c.open(T0 + i * 1000);
        c.fromClient(`AUTH PLAIN ${b64(`\0e${i}\0pw`)}\r\n`, T0 + i * 1000 + 10);
        if (i === 0) c.raw(false, c.sseq + 8, FAIL, T0 + 20);
      }
    },
    (o) => (o.flows.maxFlows = 16),
  );
  assert.equal(r.coverage.evictions.flows, 1);
  assert.deepEqual(logLines(r), [serverStrike1('198.51.100.30', FAIL.length, 25, 40030)]);
});

test('coverage reports the most segments and bytes that waited at once', async () => {
  const r = await run((f) => {
    const a = f.conversation('en10mb', '198.51.100.24', 40025, '192.0.2.25', 25);
    a.open(T0);
    const s0 = a.sseq;
    a.raw(false, s0 + 30, FAIL.slice(30), T0 + 1000);
    a.raw(false, s0 + 20, FAIL.slice(20, 30), T0 + 2000);
    a.raw(false, s0, FAIL.slice(0, 20), T0 + 3000);
    a.advance(false, FAIL.length);
    a.close(T0 + 4000);
  });
  assert.equal(r.tally.totals.failures, 1);
  assert.equal(r.coverage.out_of_order_segments, 2);
  assert.equal(r.coverage.pending_segments_peak, 2);
  assert.equal(r.coverage.pending_bytes_peak, FAIL.length - 20);
});

test('segments arriving in any order, overlapping or not: each byte delivered once, waiting bytes never replaced by a later copy', () => {
  let seed = 7;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  for (let round = 0; round < 300; round++) {
    const len = 1 + rand(400);
    const isn = rand(2) === 0 ? 0xffffff00 + rand(200) : rand(1 << 30); // half of the rounds wrap past 2^32
    const { a, hs, c } = opened({ maxPendingSegmentsPerStream: 1 << 20, maxPendingSegmentsTotal: 1 << 20 }, isn);
    const base = isn + 1;
    // the model, byte by byte: an in-order segment delivers its new bytes except where a byte already
    // waits; an early one waits where nothing waits yet; waiting bytes follow as soon as they are contiguous
    const out: number[] = [];
    const wait = new Map<number, number>();
    const offer = (s: number, data: Buffer): void => {
      if (s > out.length) {
        for (let j = 0; j < data.length; j++) if (!wait.has(s + j)) wait.set(s + j, data[j]!);
      } else {
        // first copy wins: where a byte was already waiting, the waiting byte is the one delivered
        for (let p = out.length; p < s + data.length; p = out.length) out.push(wait.get(p) ?? data[p - s]!);
      }
      for (let v = wait.get(out.length); v !== undefined; v = wait.get(out.length)) out.push(v);
      for (const k of wait.keys()) if (k < out.length) wait.delete(k);
      a.segment(hs, c, true, (base + s) >>> 0, ACK, data, 0, data.length, data.length, 0);
    };
    const steps = 1 + rand(60);
    for (let i = 0; i < steps; i++) {
      const s = rand(len);
      const data = Buffer.alloc(1 + rand(Math.min(40, len - s)));
      for (let j = 0; j < data.length; j++) data[j] = rand(256);
      offer(s, data);
      assert.deepEqual(c.bytes[1], out, `round ${round} step ${i}`);
    }
    offer(0, Buffer.alloc(len, 0x2e)); // a retransmission of the whole stream fills every hole
    assert.deepEqual(c.bytes[1], out, `round ${round}`);
    assert.equal(out.length, len);
    assert.equal(a.pendingSegments, 0);
    assert.equal(a.pendingTotal, 0);
    assert.equal(hs.pending, null);
  }
});

test('a SYN with a new ISN on the same ports starts a new flow; a retransmitted SYN does not', async () => {
  const r = await run((f) => {
    const a = f.conversation('en10mb', '198.51.100.40', 40040, '192.0.2.25', 25, 1000, 5000);
    f.sink(tcpFrame({ link: 'en10mb', src: '198.51.100.40', dst: '192.0.2.25', sport: 40040, dport: 25, seq: 1000, ack: 0, flags: TCP.SYN }), T0 - 1000);
    a.open(T0); // the same SYN again (retransmitted), then the handshake
    a.fromClient(`AUTH PLAIN ${b64('\0first\0pw')}\r\n`, T0 + 1000);
    a.fromServer(FAIL, T0 + 2000); // no FIN: the capture missed the end of this connection
    const b = f.conversation('en10mb', '198.51.100.40', 40040, '192.0.2.25', 25, 90_000, 7000);
    b.open(T0 + 3000);
    b.fromClient(`AUTH PLAIN ${b64('\0second\0pw')}\r\n`, T0 + 4000);
    b.fromServer(FAIL, T0 + 5000);
    b.close(T0 + 6000);
    const c = f.conversation('en10mb', '198.51.100.40', 40040, '192.0.2.25', 25, 300_000, 9000);
    c.open(T0 + 7000); // after a clean close: a new flow too, not counted as reused
    c.close(T0 + 8000);
  });
  assert.equal(r.coverage.flows, 3);
  assert.equal(r.coverage.evictions.flows_reused, 1);
  assert.deepEqual(
    r.log.of('auth_failure').map((e) => e.user),
    ['first', 'second'],
  );
  assert.deepEqual(
    r.log.of('flow_end').map((e) => e.reason),
    ['reused', 'fin', 'fin'],
  );
});
