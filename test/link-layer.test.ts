/**
 * The packet decoder (replay, watch, dump's SMTP lines) and dump's tcpdump-style printer read the
 * link layer through one reader (src/decode/link-layer.ts), so a frame is IP to both or to
 * neither. Before, the printer stepped over VLAN tags inside Linux cooked v1 frames that the
 * decoder skipped as notIp, and the decoder took BSD-loopback family 10 as IPv6 where the printer
 * (and tcpdump) said "AF Unknown (10)". The rules are tcpdump's; test/dump-format.test.ts checks
 * the printer's text against tcpdump itself on the same kinds of frames.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketDecoder } from '../src/decode/packet-decoder.js';
import { LinkFrame, LinkStop, LinkType, readLink } from '../src/decode/link-layer.js';
import { PacketPrinter } from '../src/dump/packet-printer.js';
import { newPacketRecord } from '../src/source/packet-record.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const be16 = (n: number): Buffer => Buffer.from([n >> 8, n & 255]);
const tag = (id: number, next: number): Buffer => Buffer.concat([be16(id), be16(next)]);

// A SYN from 10.0.0.1:40000 (2001:db8::1) to port 25 of 10.0.0.2 (2001:db8::2).
const TCP = hex('9c40 0019 00000001 00000000 5002 faf0 0000 0000');
const IP4 = Buffer.concat([hex('4500 0028 0001 4000 4006 0000 0a000001 0a000002'), TCP]);
const IP6 = Buffer.concat([hex('60000000 0014 06 40 20010db8000000000000000000000001 20010db8000000000000000000000002'), TCP]);

const eth = (type: number, ...rest: Buffer[]): Buffer => Buffer.concat([hex('020000000001 020000000002'), be16(type), ...rest]);
function sll(type: number, ...rest: Buffer[]): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(1, 2);
  h.writeUInt16BE(6, 4);
  hex('020000000001').copy(h, 6);
  h.writeUInt16BE(type, 14);
  return Buffer.concat([h, ...rest]);
}
function sll2(type: number, ...rest: Buffer[]): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(type, 0);
  h.writeUInt32BE(1, 4);
  h.writeUInt16BE(1, 8);
  h[11] = 6;
  hex('020000000001').copy(h, 12);
  return Buffer.concat([h, ...rest]);
}
function af(value: number, bigEndian: boolean, payload: Buffer): Buffer {
  const h = Buffer.alloc(4);
  if (bigEndian) h.writeUInt32BE(value);
  else h.writeUInt32LE(value);
  return Buffer.concat([h, payload]);
}

interface Case {
  name: string;
  linktype: number;
  frame: Buffer;
  ip: boolean;
  vlan?: number;
}

const cases: Case[] = [
  // Linux cooked v1/v2: libpcap re-inserts the offloaded 802.1Q tag after the header
  { name: 'SLL + 802.1Q + IPv4', linktype: LinkType.LINUX_SLL, frame: sll(0x8100, tag(100, 0x0800), IP4), ip: true, vlan: 100 },
  { name: 'SLL + 802.1Q + 802.1Q + IPv6', linktype: LinkType.LINUX_SLL, frame: sll(0x8100, tag(100, 0x8100), tag(101, 0x86dd), IP6), ip: true, vlan: 100 },
  { name: 'SLL + 802.1ad + IPv4 (tcpdump: unknown EtherType)', linktype: LinkType.LINUX_SLL, frame: sll(0x88a8, tag(5, 0x0800), IP4), ip: false },
  { name: 'SLL + 802.1Q cut inside the tag', linktype: LinkType.LINUX_SLL, frame: sll(0x8100, hex('0064')), ip: false },
  { name: 'SLL2 + 802.1Q + IPv4', linktype: LinkType.LINUX_SLL2, frame: sll2(0x8100, tag(7, 0x0800), IP4), ip: true, vlan: 7 },
  { name: 'SLL2 + IPv6', linktype: LinkType.LINUX_SLL2, frame: sll2(0x86dd, IP6), ip: true, vlan: -1 },
  // BSD loopback: AF_INET 2, AF_INET6 24/28/30 in either byte order; Linux's 10 is not a value of this link type
  ...[2, 10, 24, 28, 30].flatMap((v) =>
    [false, true].flatMap((bigEndian) =>
      [LinkType.NULL, LinkType.LOOP].map((lt): Case => ({
        name: `${lt === LinkType.NULL ? 'NULL' : 'LOOP'} AF ${v} ${bigEndian ? 'big' : 'little'}-endian`,
        linktype: lt,
        frame: af(v, bigEndian, v === 2 ? IP4 : IP6),
        ip: v !== 10,
      })),
    ),
  ),
  // Ethernet: 802.1Q, 802.1ad (QinQ) and the old 0x9100/0x9200 tags, in any nesting
  { name: 'Ethernet QinQ 802.1ad + 802.1Q + IPv4', linktype: LinkType.EN10MB, frame: eth(0x88a8, tag(5, 0x8100), tag(100, 0x0800), IP4), ip: true, vlan: 5 },
  { name: 'Ethernet 0x9100 + 802.1Q + IPv6', linktype: LinkType.EN10MB, frame: eth(0x9100, tag(6, 0x8100), tag(100, 0x86dd), IP6), ip: true, vlan: 6 },
  { name: 'Ethernet 0x9200 + IPv4', linktype: LinkType.EN10MB, frame: eth(0x9200, tag(9, 0x0800), IP4), ip: true, vlan: 9 },
  { name: 'Ethernet 802.1Q cut inside the tag', linktype: LinkType.EN10MB, frame: eth(0x8100, hex('0064')), ip: false },
  // raw IP: the version nibble decides, whatever the raw link type says
  { name: 'LINKTYPE_IPV4 carrying IPv6', linktype: LinkType.IPV4, frame: IP6, ip: true, vlan: -1 },
  { name: 'RAW IPv4', linktype: LinkType.RAW, frame: IP4, ip: true, vlan: -1 },
];

function printed(linktype: number, frame: Buffer): string {
  const rec = newPacketRecord();
  rec.buf = frame;
  rec.caplen = rec.origlen = frame.length;
  rec.linktype = linktype;
  return new PacketPrinter({ absoluteSeq: false }).print(rec);
}

test("the decoder and dump's printer agree on which frames carry IP (cooked VLAN, BSD loopback families, QinQ)", () => {
  for (const c of cases) {
    const d = new PacketDecoder();
    const decoded = d.decode(c.linktype, c.frame, 0, c.frame.length);
    const text = printed(c.linktype, c.frame);
    // the frames are TCP SYNs to port 25: tcpdump's TCP line is printed exactly when it is IP
    const printedIp = / > (10\.0\.0\.2|2001:db8::2)\.25: Flags \[S\]/.test(text);
    assert.equal(decoded, c.ip, `${c.name}: decoder (skipped ${JSON.stringify(d.skippedByReason())})`);
    assert.equal(printedIp, c.ip, `${c.name}: printer printed ${JSON.stringify(text)}`);
    if (c.vlan !== undefined) assert.equal(d.vlan, c.vlan, `${c.name}: outermost VLAN`);
  }
});

test("tcpdump's text for VLAN tags inside cooked captures and for unknown loopback families", () => {
  assert.equal(
    printed(LinkType.LINUX_SLL, sll(0x8100, tag(100, 0x8100), tag(101, 0x86dd), IP6)),
    'ethertype 802.1Q, ethertype IPv6, IP6 2001:db8::1.40000 > 2001:db8::2.25: Flags [S], seq 1, win 64240, length 0',
  );
  assert.equal(printed(LinkType.LINUX_SLL, sll(0x8100, hex('0064'))), ' [|vlan]');
  assert.ok(printed(LinkType.LINUX_SLL, sll(0x88a8, tag(5, 0x0800), IP4)).startsWith(' In 02:00:00:00:00:01 ethertype 802.1Q-QinQ (0x88a8), length 60: '));
  assert.ok(printed(LinkType.NULL, af(10, false, IP6)).startsWith('AF Unknown (10), length 64: '));
  assert.ok(printed(LinkType.LOOP, af(2, false, IP4)).startsWith('IP 10.0.0.1.40000 > 10.0.0.2.25: '), 'LOOP read in either byte order, as tcpdump does');
});

test('readLink: where the network layer starts, the tags it stepped over, and why it stopped', () => {
  const l = new LinkFrame();
  const f = eth(0x88a8, tag(5, 0x8100), tag(100, 0x0800), IP4);
  assert.equal(readLink(LinkType.EN10MB, f, 0, f.length, l), true);
  assert.deepEqual([l.stop, l.etype, l.off, l.tags, l.tagOff, l.vlan], [LinkStop.ok, 0x0800, 22, 2, 14, 5]);
  // a frame in the middle of a bigger buffer, cut before its end: nothing past caplen is read
  const buf = Buffer.concat([Buffer.alloc(7, 0xff), sll(0x8100, tag(3, 0x0800)), Buffer.alloc(40, 0x81)]);
  assert.equal(readLink(LinkType.LINUX_SLL, buf, 7, 20, l), true);
  assert.deepEqual([l.etype, l.off, l.tags, l.vlan], [0x0800, 7 + 20, 1, 3]);
  assert.equal(readLink(LinkType.LINUX_SLL, buf, 7, 19, l), false);
  assert.equal(l.stop, LinkStop.truncatedVlan);
  assert.equal(readLink(LinkType.LINUX_SLL2, buf, 7, 19, l), false);
  assert.equal(l.stop, LinkStop.truncated);
  assert.equal(readLink(147, buf, 7, 19, l), false);
  assert.equal(l.stop, LinkStop.unknownLinktype);
  assert.equal(readLink(LinkType.NULL, af(0x1e, true, IP6), 0, 44, l), true);
  assert.deepEqual([l.af, l.etype, l.off], [30, 0x86dd, 4]);
});
