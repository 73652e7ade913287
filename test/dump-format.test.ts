/**
 * `smtpstrike dump` header lines against tcpdump itself (`TZ=UTC tcpdump -nn -r FILE`), line for
 * line: every shipped capture (pcaps/testbed, pcaps/crafted), plus a "zoo" of packet forms built
 * here (TCP flags/options/truncations/relative sequence numbers, UDP, DNS, ICMP, ICMPv6, ARP, IPv6
 * extension headers, VLAN, Linux cooked v1/v2, BSD loopback, raw IP, text protocols by port), and
 * the -A / -X payload layouts. Files tcpdump cannot read (gzip, mixed link types) are skipped; when
 * tcpdump stops at a broken record, its lines must be a prefix of ours (we read the same records).
 * Without tcpdump every comparison says SKIPPED loudly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from './support/cli.js';

const HAVE_TCPDUMP = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' }).status === 0;
const HEADER = /^\d\d:\d\d:\d\d\.\d{6} /;

function skipLoudly(t: { skip: (m: string) => void }, what: string): void {
  process.stderr.write(`SKIPPED LOUDLY: dump-format: ${what}: tcpdump is not installed (apt-get install tcpdump)\n`);
  t.skip('tcpdump not installed');
}

function tcpdump(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('tcpdump', ['-nn', ...args], { encoding: 'latin1', env: { ...process.env, TZ: 'UTC' }, maxBuffer: 256 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function dump(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'dump', ...args], { encoding: 'latin1', env: { ...process.env, TZ: 'UTC' }, maxBuffer: 256 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const headers = (text: string): string[] => text.split('\n').filter((l) => HEADER.test(l));

function firstDifference(want: string[], got: string[]): string {
  for (let i = 0; i < Math.max(want.length, got.length); i++) {
    if (want[i] !== got[i]) return `line ${i + 1}:\n  tcpdump: ${want[i]}\n  dump:    ${got[i]}`;
  }
  return 'none';
}

const captures = ['pcaps/testbed', 'pcaps/crafted'].flatMap((d) =>
  readdirSync(d)
    .filter((f) => /\.(pcap|pcapng)(\.gz)?$/.test(f))
    .sort()
    .map((f) => join(d, f)),
);

test('the shipped captures are there to compare', () => {
  assert.ok(captures.length >= 50, `found ${captures.length} captures`);
});

let compared = 0;
for (const file of captures) {
  test(`header lines equal tcpdump -nn: ${file}`, (t) => {
    if (!HAVE_TCPDUMP) return skipLoudly(t, file);
    const want = tcpdump(['-r', file]);
    const wantLines = headers(want.stdout);
    if (wantLines.length === 0) {
      // tcpdump cannot read it at all (gzip, mixed link types, garbage): nothing to compare with.
      t.skip(`tcpdump cannot read this file: ${want.stderr.trim().split('\n').pop()}`);
      return;
    }
    const got = dump(['-r', file, '--no-smtp']);
    const gotLines = headers(got.stdout);
    if (want.status === 0) {
      assert.equal(gotLines.length, wantLines.length, `line count; first difference ${firstDifference(wantLines, gotLines)}`);
    } else {
      // tcpdump stopped at a record it refused: what it printed is the start of what we print.
      assert.ok(gotLines.length >= wantLines.length, `we print fewer lines (${gotLines.length}) than tcpdump (${wantLines.length})`);
    }
    assert.deepEqual(gotLines.slice(0, wantLines.length), wantLines, firstDifference(wantLines, gotLines));
    compared++;
  });
}

test('most shipped captures were compared with tcpdump', (t) => {
  if (!HAVE_TCPDUMP) return skipLoudly(t, 'count');
  assert.ok(compared >= 45, `only ${compared} captures compared`);
});

// ---------------------------------------------------------------------------------------------
// The zoo: packet forms the shipped captures do not have.

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function sum16(b: Uint8Array, acc = 0): number {
  for (let i = 0; i + 1 < b.length; i += 2) acc += (b[i]! << 8) | b[i + 1]!;
  if (b.length & 1) acc += b[b.length - 1]! << 8;
  return acc;
}
function fold(a: number): number {
  while (a > 0xffff) a = (a & 0xffff) + (a >>> 16);
  return ~a & 0xffff;
}
function v4(s: string): Buffer {
  return Buffer.from(s.split('.').map(Number));
}
function v6(s: string): Buffer {
  const [a, b] = s.split('::') as [string, string | undefined];
  const head = a ? a.split(':') : [];
  const tail = b !== undefined && b !== '' ? b.split(':') : [];
  const groups = b !== undefined ? [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail] : head;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}
interface Ip4Opts {
  frag?: number;
  total?: number;
  opts?: Buffer;
}
function ip4(src: string, dst: string, proto: number, payload: Buffer, o: Ip4Opts = {}): Buffer {
  const opts = o.opts ?? Buffer.alloc(0);
  const ihl = 20 + opts.length;
  const b = Buffer.alloc(ihl + payload.length);
  b[0] = 0x40 | (ihl >> 2);
  b.writeUInt16BE(o.total ?? b.length, 2);
  b.writeUInt16BE(o.frag ?? 0x4000, 6);
  b[8] = 64;
  b[9] = proto;
  v4(src).copy(b, 12);
  v4(dst).copy(b, 16);
  opts.copy(b, 20);
  b.writeUInt16BE(fold(sum16(b.subarray(0, ihl))), 10);
  payload.copy(b, ihl);
  return b;
}
function ip6(src: string, dst: string, nh: number, payload: Buffer, plen?: number): Buffer {
  const b = Buffer.alloc(40 + payload.length);
  b.writeUInt32BE(0x60000000, 0);
  b.writeUInt16BE(plen ?? payload.length, 4);
  b[6] = nh;
  b[7] = 64;
  v6(src).copy(b, 8);
  v6(dst).copy(b, 24);
  payload.copy(b, 40);
  return b;
}
interface TcpOpts {
  opts?: string;
  payload?: Buffer | string;
  urp?: number;
  doff?: number;
  win?: number;
}
function tcp(sport: number, dport: number, seq: number, ack: number, flags: number, o: TcpOpts = {}): Buffer {
  let opts = o.opts ? hex(o.opts) : Buffer.alloc(0);
  while (opts.length % 4) opts = Buffer.concat([opts, Buffer.alloc(1)]);
  const payload = typeof o.payload === 'string' ? Buffer.from(o.payload, 'latin1') : (o.payload ?? Buffer.alloc(0));
  const hl = 20 + opts.length;
  const b = Buffer.alloc(hl + payload.length);
  b.writeUInt16BE(sport, 0);
  b.writeUInt16BE(dport, 2);
  b.writeUInt32BE(seq >>> 0, 4);
  b.writeUInt32BE(ack >>> 0, 8);
  b[12] = (o.doff ?? hl / 4) << 4;
  b[13] = flags;
  b.writeUInt16BE(o.win ?? 64240, 14);
  b.writeUInt16BE(o.urp ?? 0, 18);
  opts.copy(b, 20);
  payload.copy(b, hl);
  return b;
}
function udp(sport: number, dport: number, payload: Buffer, ulen?: number): Buffer {
  const b = Buffer.alloc(8 + payload.length);
  b.writeUInt16BE(sport, 0);
  b.writeUInt16BE(dport, 2);
  b.writeUInt16BE(ulen ?? b.length, 4);
  payload.copy(b, 8);
  return b;
}
function eth(type: number, payload: Buffer, pad = false): Buffer {
  let b = Buffer.concat([hex('020000000001 020000000002'), Buffer.from([type >> 8, type & 255]), payload]);
  if (pad && b.length < 60) b = Buffer.concat([b, Buffer.alloc(60 - b.length)]);
  return b;
}
const tci = (id: number, type: number): Buffer => Buffer.from([id >> 8, id & 255, type >> 8, type & 255]);
const vlan = (tpid: number, id: number, type: number, payload: Buffer): Buffer => eth(tpid, Buffer.concat([tci(id, type), payload]));
function sll(pkttype: number, type: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(pkttype, 0);
  h.writeUInt16BE(1, 2);
  h.writeUInt16BE(6, 4);
  hex('020000000001').copy(h, 6);
  h.writeUInt16BE(type, 14);
  return Buffer.concat([h, payload]);
}
function sll2(pkttype: number, ifindex: number, type: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(type, 0);
  h.writeUInt32BE(ifindex, 4);
  h.writeUInt16BE(1, 8);
  h[10] = pkttype;
  h[11] = 6;
  hex('020000000001').copy(h, 12);
  return Buffer.concat([h, payload]);
}
function af(value: number, payload: Buffer, bigEndian: boolean): Buffer {
  const h = Buffer.alloc(4);
  if (bigEndian) h.writeUInt32BE(value);
  else h.writeUInt32LE(value);
  return Buffer.concat([h, payload]);
}

interface Frame {
  frame: Buffer;
  orig?: number;
}
function pcapFile(path: string, linktype: number, frames: (Buffer | Frame)[]): string {
  const parts: Buffer[] = [];
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(262144, 16);
  h.writeUInt32LE(linktype, 20);
  parts.push(h);
  frames.forEach((f, i) => {
    const fr = Buffer.isBuffer(f) ? f : f.frame;
    const orig = Buffer.isBuffer(f) ? fr.length : (f.orig ?? fr.length);
    const r = Buffer.alloc(16);
    r.writeUInt32LE(1768039200 + Math.floor(i / 1000), 0);
    r.writeUInt32LE((i % 1000) * 1000 + 7, 4);
    r.writeUInt32LE(fr.length, 8);
    r.writeUInt32LE(orig, 12);
    parts.push(r, fr);
  });
  writeFileSync(path, Buffer.concat(parts));
  return path;
}

const A = '10.0.0.1';
const B = '10.0.0.2';
const T4 = (t: Buffer, o?: Ip4Opts): Buffer => eth(0x0800, ip4(A, B, 6, t, o));
const cutAt = (f: Buffer, n: number): Frame => ({ frame: f.subarray(0, n), orig: f.length });
const icmp = (type: number, code: number, rest: Buffer): Buffer => Buffer.concat([Buffer.from([type, code, 0, 0]), rest]);
const quoted = (p: Buffer, proto = 17): Buffer => Buffer.concat([Buffer.alloc(4), ip4(B, '10.9.9.9', proto, p)]);
const arp = (op: number, tha = '000000000000', tpa = '0a000002', spa = '0a000001'): Buffer =>
  hex(`0001 0800 06 04 ${op.toString(16).padStart(4, '0')} 020000000002 ${spa} ${tha} ${tpa}`);

function ethernetZoo(): (Buffer | Frame)[] {
  const f: (Buffer | Frame)[] = [];
  // TCP flags, relative/absolute sequence numbers, URG, ECN bits
  f.push(
    T4(tcp(1000, 2000, 5, 0, 0x04)),
    T4(tcp(1000, 2000, 5, 7, 0x14)),
    T4(tcp(1000, 2000, 5, 7, 0x00)),
    T4(tcp(1000, 2000, 5, 7, 0x30, { urp: 3 })),
    T4(tcp(1000, 2000, 5, 7, 0xc2)),
    T4(tcp(1000, 2000, 5, 7, 0xff)),
    T4(tcp(1000, 2000, 5, 7, 0x01)),
  );
  // TCP options
  for (const o of [
    '0101050a000000d2000000dc',
    '0101051200000001000000020000000300000004',
    '0000',
    '01000101',
    'fe061234abcd',
    'fd06f989abcd',
    '220a0102030405060708',
    '2202',
    '131200112233445566778899aabbccddeeff',
    '1c048003',
    '6305010203',
    '6302',
    '020505b400',
    '0201',
    '080a00000001',
    '050b0000006e000000780000',
    '0b0600000005',
    '0c06000000050d0600000007',
    '14040102',
    '1d0601020304',
    '060600000001070600000002',
    '030307',
    '0402',
    '040300',
    '01010201',
    '020405b40402080a0000000100000002010303070101050a0000006e00000078',
  ]) {
    f.push(T4(tcp(3000, 4000, 100, 200, 0x10, { opts: o })));
  }
  f.push(T4(tcp(3000, 4000, 100, 200, 0x10, { doff: 4 })), T4(tcp(3000, 4000, 100, 200, 0x10, { doff: 15 })));
  // truncated in every layer
  const full = T4(tcp(5000, 6000, 100, 200, 0x18, { opts: '0101080a0000000100000002020405b4', payload: 'hello world\r\n' }));
  for (const n of [
    10,
    14 + 10,
    14 + 20,
    14 + 22,
    14 + 30,
    14 + 20 + 20,
    14 + 20 + 21,
    14 + 20 + 22,
    14 + 20 + 23,
    14 + 20 + 24,
    14 + 20 + 34,
    14 + 20 + 36,
    14 + 20 + 38,
  ]) {
    f.push(cutAt(full, n));
  }
  // IPv4: fragments, bad lengths, options, padding, other protocols, tunnels
  f.push(
    T4(tcp(5000, 6000, 1, 2, 0x18, { payload: 'x' }), { frag: 0x2000 }),
    T4(Buffer.from('abcdefgh'), { frag: 0x0003 }),
    T4(tcp(5000, 6000, 1, 2, 0x18, { payload: 'hello\r\n' }), { total: 30 }),
    T4(tcp(5000, 6000, 1, 2, 0x18, { payload: 'hello\r\n' }), { total: 200 }),
    T4(tcp(5000, 6000, 1, 2, 0x18, { payload: 'hello\r\n' }), { total: 10 }),
    T4(tcp(5000, 6000, 1, 2, 0x18, { payload: 'hello\r\n' }), { opts: hex('94040000') }),
    eth(0x0800, Buffer.concat([ip4(A, B, 6, tcp(5000, 6000, 1, 2, 0x10)), Buffer.alloc(6)])),
    eth(0x0800, ip4(A, B, 253, Buffer.alloc(16))),
    eth(0x0800, ip4(A, B, 253, Buffer.alloc(16), { frag: 0x2000 })),
    eth(0x0800, ip4(A, B, 4, ip4('1.1.1.1', '2.2.2.2', 17, udp(1, 2, Buffer.alloc(0))))),
    eth(0x0800, ip4(A, B, 41, ip6('::', '::1', 17, udp(1, 2, Buffer.alloc(0))))),
    eth(0x0800, ip4(A, B, 58, Buffer.alloc(8))),
    eth(0x0800, hex('6000000000000000000000000000000000000000')),
    eth(0x0800, Buffer.concat([Buffer.from([0x55]), Buffer.alloc(19)])),
  );
  // same ports both sides (the relative-sequence key falls back to the addresses)
  f.push(
    eth(0x0800, ip4('10.0.0.9', '10.0.0.3', 6, tcp(5000, 5000, 700, 800, 0x10))),
    eth(0x0800, ip4('10.0.0.3', '10.0.0.9', 6, tcp(5000, 5000, 805, 710, 0x10, { opts: '0101050a000002bc000002c6' }))),
    eth(0x0800, ip4('10.0.0.9', '10.0.0.3', 6, tcp(5000, 5000, 710, 805, 0x18, { payload: 'x' }))),
  );
  // text protocols by port: SMTP 25 (every first-line case), FTP, WHOIS, HTTP, RTSP, and ports tcpdump leaves alone
  for (const p of [
    '220 hi\r\n',
    '220 hi\n',
    '220 hi',
    '\r\n',
    '\n',
    '\r',
    'a\rb\r\n',
    'a\tb\r\n',
    'a\x01b\r\n',
    '\x16\x03\x01\x00',
    'first\r\nsecond\r\n',
    'x'.repeat(300) + '\r\n',
    'abc\r',
    'caf\xe9\r\n',
  ]) {
    f.push(T4(tcp(25, 40000, 100, 200, 0x18, { payload: p })));
  }
  const smtpCut = T4(tcp(25, 40001, 100, 200, 0x18, { payload: '535 5.7.8 Error: authentication failed\r\n' }));
  f.push(cutAt(smtpCut, 54 + 20), cutAt(smtpCut, 54 + 3));
  for (const port of [21, 25, 43, 80, 8080, 554, 8554, 587, 23, 443, 3128]) {
    f.push(
      T4(tcp(40000, port, 1, 1, 0x18, { payload: 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' })),
      T4(tcp(port, 40000, 1, 1, 0x18, { payload: 'HTTP/1.1 200 OK\r\n' })),
      T4(tcp(port, 40000, 1, 1, 0x18, { payload: 'DESCRIBE rtsp://x RTSP/1.0\r\n' })),
      T4(tcp(port, 40000, 1, 1, 0x18, { payload: 'garbage\r\n' })),
    );
  }
  // UDP
  f.push(
    eth(0x0800, ip4(A, B, 17, udp(40000, 40001, Buffer.from('xyz')))),
    eth(0x0800, ip4(A, B, 17, udp(1, 2, Buffer.from('abcdef'), 10))),
    eth(0x0800, ip4(A, B, 17, udp(1, 2, Buffer.from('abcdef'), 40))),
    eth(0x0800, ip4(A, B, 17, udp(1, 2, Buffer.from('abcdef'), 4))),
    eth(0x0800, ip4(A, B, 17, hex('000100'))),
    eth(0x0800, ip4(A, B, 17, hex('0001000200'))),
  );
  // ICMP
  f.push(eth(0x0800, ip4(A, B, 1, icmp(8, 0, hex('00010002616263')))), eth(0x0800, ip4(A, B, 1, icmp(0, 0, hex('00010002616263')))));
  for (let code = 0; code < 17; code++) f.push(eth(0x0800, ip4(A, B, 1, icmp(3, code, quoted(udp(5, 6, Buffer.alloc(0)))))));
  f.push(
    eth(0x0800, ip4(A, B, 1, icmp(3, 3, quoted(tcp(5, 6, 1, 2, 2), 6)))),
    eth(0x0800, ip4(A, B, 1, icmp(3, 3, quoted(Buffer.alloc(8), 47)))),
    eth(0x0800, ip4(A, B, 1, icmp(3, 4, Buffer.concat([hex('000005dc'), ip4(B, '10.9.9.9', 6, tcp(1, 2, 3, 4, 2))])))),
  );
  for (let code = 0; code < 4; code++)
    f.push(eth(0x0800, ip4(A, B, 1, icmp(5, code, Buffer.concat([hex('0a000003'), ip4(B, '10.9.9.9', 17, udp(1, 2, Buffer.alloc(0)))])))));
  for (const [type, code] of [
    [11, 0],
    [11, 1],
    [11, 2],
    [4, 0],
    [10, 0],
    [12, 0],
    [13, 0],
    [14, 0],
    [15, 0],
    [16, 0],
    [17, 0],
    [18, 0],
    [42, 0],
  ] as const) {
    f.push(eth(0x0800, ip4(A, B, 1, icmp(type, code, Buffer.alloc(40)))));
  }
  f.push(eth(0x0800, ip4(A, B, 1, icmp(3, 3, Buffer.alloc(4)))), eth(0x0800, ip4(A, B, 1, hex('08'))), eth(0x0800, ip4(A, B, 1, hex('080000000001'))));
  // ARP
  f.push(
    eth(0x0806, arp(1), true),
    eth(0x0806, hex('0001 0800 06 04 0002 020000000001 0a000002 020000000002 0a000001')),
    eth(0x0806, arp(1, '000000000000', '0a000001')),
    eth(0x0806, arp(1, '112233445566')),
    eth(0x0806, arp(3)),
    eth(0x0806, arp(4, '112233445566')),
    eth(0x0806, arp(8, '112233445566')),
    eth(0x0806, arp(9, '112233445566')),
    eth(0x0806, arp(7, '112233445566')),
    eth(0x0806, hex('0001080006040001')),
  );
  // IPv6: transports, ICMPv6, extension headers, address forms, truncation
  const S6 = '2001:db8::1';
  const D6 = '2001:db8::2';
  const inner6 = Buffer.concat([Buffer.alloc(4), ip6(D6, '2001:db8::3', 6, tcp(7, 8, 1, 2, 2))]);
  f.push(
    eth(0x86dd, ip6(S6, D6, 17, udp(1000, 2000, Buffer.from('hi')))),
    eth(0x86dd, ip6(S6, D6, 6, tcp(1000, 25, 1, 2, 0x18, { payload: '250 ok\r\n' }))),
    eth(0x86dd, ip6(S6, D6, 58, hex('8000 0000 0001 0002 616263'))),
    eth(0x86dd, ip6(S6, D6, 58, hex('8100 0000 0001 0002 616263'))),
    eth(0x86dd, ip6('fe80::1', 'ff02::1:ff00:2', 58, hex('8700 0000 00000000 fe800000000000000000000000000002 0101020000000002'))),
    eth(0x86dd, ip6('fe80::2', 'fe80::1', 58, hex('8800 0000 60000000 fe800000000000000000000000000002 0201020000000002'))),
    eth(0x86dd, ip6('fe80::1', 'ff02::2', 58, hex('8500 0000 00000000'))),
    eth(0x86dd, ip6('fe80::2', 'ff02::1', 58, hex('8600 0000 40000708 00000000 00000000'))),
  );
  for (let code = 0; code < 5; code++) f.push(eth(0x86dd, ip6(S6, D6, 58, Buffer.concat([Buffer.from([1, code, 0, 0]), inner6]))));
  f.push(
    eth(0x86dd, ip6(S6, D6, 58, Buffer.concat([Buffer.from([1, 5, 0, 0]), inner6]))),
    eth(0x86dd, ip6(S6, D6, 58, Buffer.concat([hex('02000000000005dc'), inner6.subarray(4)]))),
    eth(0x86dd, ip6(S6, D6, 58, Buffer.concat([hex('0300000000000000'), inner6.subarray(4)]))),
    eth(0x86dd, ip6(S6, D6, 58, Buffer.concat([hex('0301000000000000'), inner6.subarray(4)]))),
    eth(0x86dd, ip6(S6, D6, 58, Buffer.concat([hex('0400000000000010'), inner6.subarray(4)]))),
  );
  for (const type of [130, 131, 132, 137, 141, 142, 143, 144, 255, 100])
    f.push(eth(0x86dd, ip6(S6, D6, 58, Buffer.concat([Buffer.from([type, 0, 0, 0]), Buffer.alloc(36)]))));
  f.push(
    eth(0x86dd, ip6(S6, D6, 253, Buffer.alloc(16))),
    eth(0x86dd, ip6(S6, D6, 44, Buffer.concat([hex('11 00 0001 00000007'), udp(1, 2, Buffer.alloc(0))]))),
    eth(0x86dd, ip6(S6, D6, 44, Buffer.concat([hex('11 00 0011 00000007'), udp(1, 2, Buffer.alloc(0))]))),
    eth(0x86dd, ip6(S6, D6, 44, Buffer.concat([hex('06 00 0001 00000007'), tcp(1000, 25, 5, 6, 0x10)]))),
    eth(0x86dd, ip6(S6, D6, 0, Buffer.concat([hex('3a 00 0000 00000000'), hex('8000 0000 0001 0002')]))),
    eth(0x86dd, ip6(S6, D6, 0, Buffer.concat([hex('06 00 0000 00000000'), tcp(1000, 25, 5, 6, 0x10)]))),
    eth(0x86dd, ip6(S6, D6, 60, Buffer.concat([hex('06 00 0104 00000000'), tcp(1, 2, 3, 4, 2)]))),
    eth(0x86dd, ip6(S6, D6, 43, Buffer.concat([hex('06 02 0001 00000000 20010db8000000000000000000000009'), tcp(1, 2, 3, 4, 2)]))),
    eth(0x86dd, ip6(S6, D6, 0, hex('3b 00 0000 00000000'))),
    eth(0x86dd, ip6(S6, D6, 0, Buffer.concat([hex('fd 00 0000 00000000'), Buffer.alloc(4)]))),
    eth(0x86dd, ip6(S6, D6, 17, udp(1, 2, Buffer.alloc(0)), 100)),
    eth(0x86dd, hex('4500')),
    eth(0x86dd, ip4(A, B, 17, udp(1, 2, Buffer.alloc(0)))),
  );
  for (const [s, d] of [
    ['::', '::1'],
    ['1::', '1:2:3:4:5:6:7::'],
    ['1:0:0:1:0:0:0:1', '1:0:0:1:0:0:1:1'],
    ['::0102:0304', '::ffff:0102:0304'],
    ['fe80::1:0:0:2', '0:0:1::'],
  ]) {
    f.push(eth(0x86dd, ip6(s!, d!, 17, udp(1, 2, Buffer.alloc(0)))));
  }
  // VLAN (802.1Q, QinQ) and unknown ethertypes
  const u = ip4(A, B, 17, udp(1, 2, Buffer.from('x')));
  f.push(
    vlan(0x8100, 100, 0x0806, arp(1)),
    vlan(0x8100, 100, 0x0800, u),
    vlan(0x88a8, 5, 0x8100, Buffer.concat([hex('0064 0800'), u])),
    vlan(0x8100, 100, 0x1234, hex('0102')),
    vlan(0x8100, 0x2064, 0x86dd, ip6(S6, D6, 17, udp(1, 2, Buffer.alloc(0)))),
    eth(0x1234, hex('0102030405')),
    vlan(0x9200, 9, 0x0800, u),
    vlan(0x9100, 6, 0x88a8, Buffer.concat([tci(5, 0x0800), u])),
  );
  return f;
}

// DNS (tcpdump's non-verbose forms): queries, responses, record types, names, mDNS, DNS over TCP, truncation.
const label = (l: string | Buffer): Buffer => Buffer.concat([Buffer.from([l.length]), typeof l === 'string' ? Buffer.from(l, 'latin1') : l]);
const dname = (n: string): Buffer =>
  Buffer.concat([
    ...n
      .split('.')
      .filter(Boolean)
      .map((l) => label(l)),
    Buffer.from([0]),
  ]);
const question = (n: Buffer, type: number, cls = 1): Buffer => Buffer.concat([n, Buffer.from([type >> 8, type & 255, cls >> 8, cls & 255])]);
function rr(n: Buffer, type: number, data: Buffer, cls = 1): Buffer {
  const h = Buffer.alloc(10);
  h.writeUInt16BE(type, 0);
  h.writeUInt16BE(cls, 2);
  h.writeUInt32BE(300, 4);
  h.writeUInt16BE(data.length, 8);
  return Buffer.concat([n, h, data]);
}
function dnsHeader(id: number, flags: number, qd: number, an: number, ns: number, ar: number): Buffer {
  const b = Buffer.alloc(12);
  [id, flags, qd, an, ns, ar].forEach((v, i) => b.writeUInt16BE(v, i * 2));
  return b;
}
const PTR = Buffer.from([0xc0, 0x0c]);
const OPT = Buffer.from([0, 0, 41, 0x10, 0x00, 0, 0, 0x80, 0, 0, 0]);

function dnsZoo(): Buffer[] {
  const f: Buffer[] = [];
  const q = (p: Buffer, sport = 40000, dport = 53): number => f.push(eth(0x0800, ip4(A, B, 17, udp(sport, dport, p))));
  const ans = (p: Buffer): number => q(p, 53, 40000);
  for (const [flags, type, cls] of [
    [0x0100, 1, 1],
    [0, 28, 1],
    [0x0110, 16, 1],
    [0x2800, 6, 1],
    [0x0100, 12, 1],
    [0x0100, 255, 1],
    [0x0100, 33, 1],
    [0x0100, 65, 1],
    [0x0100, 1, 3],
    [0x0100, 1, 255],
    [0x0100, 99, 1],
    [0x0106, 1, 1],
    [0x0900, 1, 1],
  ] as const) {
    q(Buffer.concat([dnsHeader(flags, flags, 1, 0, 0, 0), question(dname('example.com'), type, cls)]));
  }
  for (const t of [3, 7, 13, 17, 24, 29, 34, 35, 39, 41, 43, 46, 48, 49, 64, 100, 104, 250, 252, 256, 257, 32769])
    q(Buffer.concat([dnsHeader(t, 0x0100, 1, 0, 0, 0), question(dname('x'), t)]));
  q(Buffer.concat([dnsHeader(30, 0x0100, 1, 0, 0, 1), question(dname('example.com'), 15), OPT]));
  q(Buffer.concat([dnsHeader(31, 0x0100, 2, 1, 1, 2), question(dname('a.example'), 1), question(dname('b.example'), 28)]));
  q(Buffer.concat([dnsHeader(32, 0x0100, 0, 0, 0, 0)]));
  q(Buffer.concat([dnsHeader(33, 0x0100, 1, 0, 0, 0)]));
  q(Buffer.concat([dnsHeader(34, 0x0100, 1, 0, 0, 0), question(dname(''), 2)]));
  q(
    Buffer.concat([
      dnsHeader(35, 0x0100, 1, 0, 0, 0),
      question(Buffer.concat([label('a.b'), label(Buffer.from([0xe9, 0x41, 0x7f, 0x5c, 0x22, 0x20, 0x01])), Buffer.from([0])]), 1),
    ]),
  );
  q(Buffer.concat([dnsHeader(36, 0x0100, 1, 0, 0, 0), question(PTR, 1)]));
  q(Buffer.concat([dnsHeader(37, 0x0100, 1, 0, 0, 0), question(Buffer.from([0x41, 0, 0]), 1)]));
  q(Buffer.concat([dnsHeader(38, 0x0100, 1, 0, 0, 0), question(Buffer.from([0x81, 0, 0]), 1)]));
  q(hex('000101'));
  const ex = question(dname('example.com'), 1);
  ans(Buffer.concat([dnsHeader(1, 0x8180, 1, 1, 0, 0), ex, rr(PTR, 1, hex('5db8d822'))]));
  ans(
    Buffer.concat([
      dnsHeader(2, 0x8180, 1, 2, 0, 0),
      question(dname('www.example.com'), 1),
      rr(PTR, 5, dname('example.com')),
      rr(dname('example.com'), 1, hex('01020304')),
    ]),
  );
  ans(
    Buffer.concat([
      dnsHeader(3, 0x8183, 1, 0, 1, 0),
      ex,
      rr(dname('example.com'), 6, Buffer.concat([dname('ns.example.com'), dname('h.example.com'), Buffer.alloc(20)])),
    ]),
  );
  ans(Buffer.concat([dnsHeader(4, 0x8580, 1, 1, 0, 0), question(dname('example.com'), 28), rr(PTR, 28, hex('20010db8000000000000000000000001'))]));
  ans(
    Buffer.concat([
      dnsHeader(5, 0x8180, 1, 2, 0, 0),
      question(dname('example.com'), 15),
      rr(PTR, 15, Buffer.concat([hex('000a'), dname('mx1.example.com')])),
      rr(PTR, 15, Buffer.concat([hex('0014'), label('mx2'), PTR])),
    ]),
  );
  ans(
    Buffer.concat([
      dnsHeader(6, 0x8180, 1, 1, 0, 0),
      question(dname('example.com'), 16),
      rr(PTR, 16, Buffer.concat([label('v=spf1 -all'), label('a"b'), label(Buffer.from([0x41, 0x01, 0xe9]))])),
    ]),
  );
  ans(Buffer.concat([dnsHeader(7, 0x8180, 1, 1, 0, 0), question(dname('4.3.2.1.in-addr.arpa'), 12), rr(PTR, 12, dname('host.example.com'))]));
  for (let rcode = 1; rcode < 16; rcode++) ans(Buffer.concat([dnsHeader(100 + rcode, 0x8180 | rcode, 1, 0, 0, 0), ex]));
  for (let op = 2; op < 16; op++) ans(Buffer.concat([dnsHeader(200 + op, 0x8000 | (op << 11), 1, 0, 0, 0), ex]));
  ans(Buffer.concat([dnsHeader(8, 0x8385, 1, 0, 0, 0), ex]));
  ans(Buffer.concat([dnsHeader(9, 0x8100, 1, 0, 0, 0), ex]));
  ans(
    Buffer.concat([
      dnsHeader(10, 0x8180, 1, 1, 0, 1),
      question(dname('example.com'), 33),
      rr(PTR, 33, Buffer.concat([hex('000a 0005 01bb'), dname('sip.example.com')])),
      OPT,
    ]),
  );
  ans(
    Buffer.concat([
      dnsHeader(11, 0x8180, 1, 4, 0, 0),
      ex,
      rr(PTR, 2, dname('ns1.example.com')),
      rr(PTR, 6, Buffer.concat([dname('a'), dname('b'), Buffer.alloc(20)])),
      rr(PTR, 99, hex('0102')),
      rr(PTR, 39, dname('y.z')),
    ]),
  );
  ans(Buffer.concat([dnsHeader(12, 0x8180, 1, 2, 0, 0), ex, rr(PTR, 1, hex('5db8d822'))]));
  ans(Buffer.concat([dnsHeader(13, 0x8180, 1, 2, 0, 0), ex, rr(PTR, 1, hex('01020304'), 3), rr(PTR, 1, hex('01020304'), 254)]));
  ans(Buffer.concat([dnsHeader(14, 0x8180, 1, 1, 0, 0), ex, rr(PTR, 41, Buffer.alloc(0))]));
  for (const [type, data] of [
    [1, hex('5db8')],
    [28, hex('0001')],
    [15, hex('00')],
    [33, hex('0001')],
    [5, Buffer.from([1, 0x61])],
    [12, Buffer.from([0xc0, 0x30])],
    [16, Buffer.alloc(0)],
  ] as const) {
    ans(Buffer.concat([dnsHeader(15, 0x8180, 1, 1, 0, 0), ex, rr(PTR, type, data)]));
  }
  q(Buffer.concat([dnsHeader(16, 0x0000, 1, 0, 0, 0), question(dname('printer.local'), 12, 0x8001)]), 5353, 5353);
  q(
    Buffer.concat([
      dnsHeader(17, 0x8400, 0, 2, 0, 1),
      rr(dname('printer.local'), 1, hex('c0a80001'), 0x8001),
      rr(dname('printer.local'), 28, hex('fe800000000000000000000000000001'), 0x8001),
      rr(dname('printer.local'), 47, hex('c00c000540000008'), 0x8001),
    ]),
    5353,
    5353,
  );
  const msg = Buffer.concat([dnsHeader(18, 0x0100, 1, 0, 0, 0), ex]);
  f.push(
    T4(tcp(40001, 53, 1, 1, 0x18, { payload: Buffer.concat([Buffer.from([0, msg.length]), msg]) })),
    T4(tcp(40001, 53, 1, 1, 0x18, { payload: 'GET / HTTP/1.1\r\n' })),
    T4(tcp(40001, 53, 1, 1, 0x18, { payload: hex('00') })),
  );
  return f;
}

function otherLinks(dir: string): string[] {
  const u = ip4(A, B, 17, udp(1, 2, Buffer.from('x')));
  const u6 = ip6('2001:db8::1', '2001:db8::2', 17, udp(1, 2, Buffer.alloc(0)));
  const t = ip4(A, B, 6, tcp(40000, 25, 1, 2, 0x18, { payload: 'EHLO x\r\n' }));
  return [
    pcapFile(join(dir, 'zoo-sll2.pcap'), 276, [
      ...[0, 1, 2, 3, 4, 5, 7].map((p) => sll2(p, 1, 0x0800, u)),
      sll2(0, 9999, 0x0800, t),
      sll2(4, 1, 0x86dd, u6),
      sll2(0, 1, 0x0806, arp(1)),
      sll2(0, 1, 0x1234, hex('010203')),
      { frame: sll2(0, 1, 0x0800, u).subarray(0, 12), orig: 49 },
      // 802.1Q tags libpcap re-inserts after the cooked header (tcpdump prints each as "ethertype NAME, ")
      sll2(0, 1, 0x8100, Buffer.concat([tci(7, 0x0800), u])),
      sll2(4, 1, 0x8100, Buffer.concat([tci(7, 0x86dd), u6])),
      sll2(0, 1, 0x8100, hex('0007')),
    ]),
    pcapFile(join(dir, 'zoo-sll.pcap'), 113, [
      ...[0, 1, 2, 3, 4, 5].map((p) => sll(p, 0x0800, u)),
      sll(0, 0x86dd, u6),
      sll(0, 0x0806, arp(1)),
      sll(0, 0x1234, hex('010203')),
      { frame: sll(0, 0x0800, u).subarray(0, 10), orig: 45 },
      sll(0, 0x8100, Buffer.concat([tci(100, 0x0800), u])),
      sll(4, 0x8100, Buffer.concat([tci(100, 0x8100), tci(101, 0x86dd), u6])),
      sll(0, 0x8100, Buffer.concat([tci(100, 0x0806), arp(1)])),
      sll(0, 0x8100, Buffer.concat([tci(100, 0x1234), hex('0102')])),
      sll(0, 0x88a8, Buffer.concat([tci(5, 0x0800), u])),
      sll(0, 0x8100, Buffer.concat([tci(100, 0x8100), hex('0065')])),
      { frame: sll(0, 0x8100, Buffer.concat([tci(100, 0x0800), u])).subarray(0, 30), orig: 49 },
    ]),
    pcapFile(join(dir, 'zoo-null.pcap'), 0, [
      af(2, u, false),
      af(24, u6, false),
      af(28, u6, false),
      af(30, u6, false),
      af(10, u6, false),
      af(2, t, true),
      { frame: hex('0200'), orig: 33 },
    ]),
    pcapFile(join(dir, 'zoo-loop.pcap'), 108, [
      af(2, u, true),
      af(24, u6, true),
      af(10, u6, true),
      { frame: hex('0000'), orig: 33 },
      af(2, u, false),
      af(30, u6, false),
    ]),
    // (a record whose wire length is below its captured length is read as captured length by
    // src/source, so tcpdump's "[Invalid header: len(10) < caplen(29)]" is not reproduced)
    pcapFile(join(dir, 'zoo-raw.pcap'), 101, [
      u,
      u6,
      t,
      hex('50000000'),
      { frame: Buffer.alloc(0), orig: 29 },
      { frame: Buffer.alloc(0), orig: 0 },
      { frame: u.subarray(0, 10), orig: 29 },
    ]),
    pcapFile(join(dir, 'zoo-ipv4.pcap'), 228, [u, u6]),
    pcapFile(join(dir, 'zoo-user0.pcap'), 147, [u]),
  ];
}

test('the zoo of packet forms prints exactly as tcpdump -nn, with -A and with -X', (t) => {
  if (!HAVE_TCPDUMP) return skipLoudly(t, 'zoo');
  const dir = mkdtempSync(join(tmpdir(), 'smtpstrike-dump-zoo-'));
  try {
    const files = [pcapFile(join(dir, 'zoo-ether.pcap'), 1, ethernetZoo()), pcapFile(join(dir, 'zoo-dns.pcap'), 1, dnsZoo()), ...otherLinks(dir)];
    for (const file of files) {
      for (const flag of [[], ['-A'], ['-X']]) {
        const want = tcpdump([...flag, '-r', file]);
        assert.equal(want.status, 0, `tcpdump read ${file}`);
        const got = dump([...flag, '--no-smtp', '-r', file]);
        assert.equal(got.status, 0, got.stderr);
        const w = want.stdout.split('\n');
        const g = got.stdout.split('\n');
        assert.deepEqual(g, w, `${file} ${flag.join(' ')}: first difference ${firstDifference(w, g)}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("-A and -X payloads equal tcpdump's on shipped captures (SLL2 any, Ethernet, VLAN, snapshot-cut)", (t) => {
  if (!HAVE_TCPDUMP) return skipLoudly(t, '-A/-X');
  for (const file of [
    'pcaps/crafted/split2.pcap',
    'pcaps/testbed/login-587-any.pcap',
    'pcaps/crafted/qinq.pcap',
    'pcaps/crafted/fmt-snaplen.pcap',
    'pcaps/crafted/ipv6.pcap',
    'pcaps/crafted/broken-unknown-link.pcap',
  ]) {
    for (const flag of ['-A', '-X']) {
      const want = tcpdump([flag, '-r', file]).stdout.split('\n');
      const got = dump([flag, '--no-smtp', '-r', file]).stdout.split('\n');
      assert.deepEqual(got, want, `${file} ${flag}: first difference ${firstDifference(want, got)}`);
    }
  }
});

test("times are local like tcpdump's (TZ is honoured)", (t) => {
  if (!HAVE_TCPDUMP) return skipLoudly(t, 'TZ');
  for (const tz of ['Asia/Kolkata', 'America/New_York']) {
    const env = { ...process.env, TZ: tz };
    const want = spawnSync('tcpdump', ['-nn', '-r', 'pcaps/crafted/split2.pcap'], { encoding: 'utf8', env })
      .stdout.split('\n')
      .filter((l) => HEADER.test(l));
    const got = spawnSync(process.execPath, [CLI, 'dump', '-r', 'pcaps/crafted/split2.pcap'], { encoding: 'utf8', env })
      .stdout.split('\n')
      .filter((l) => HEADER.test(l));
    assert.deepEqual(got, want, tz);
  }
});
