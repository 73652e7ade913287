/**
 * One IPv6 formatter (src/net/ip-text.ts) with two faces: RFC 5952 for everything smtpstrike
 * reports, and tcpdump's form for `dump`, which differs only for the deprecated IPv4-compatible
 * addresses (::a.b.c.d). test/dump-format.test.ts checks the tcpdump face against tcpdump itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIpv6, formatIpv6Tcpdump, parseIp } from '../src/net/ip-text.js';

const bytes = (text: string): Uint8Array => parseIp(text)!;

test('formatIpv6Tcpdump: RFC 5952 except IPv4-compatible addresses, which tcpdump dots', () => {
  for (const [addr, rfc, tcpdump] of [
    ['::102:304', '::102:304', '::1.2.3.4'],
    ['::1.2.0.0', '::102:0', '::1.2.0.0'],
    ['::ffff:1.2.3.4', '::ffff:1.2.3.4', '::ffff:1.2.3.4'],
    ['::', '::', '::'],
    ['::1', '::1', '::1'],
    ['::5', '::5', '::5'],
    ['1::', '1::', '1::'],
    ['1:0:0:1:0:0:0:1', '1:0:0:1::1', '1:0:0:1::1'],
    ['fe80::1:0:0:2', 'fe80::1:0:0:2', 'fe80::1:0:0:2'],
    ['0:0:0:0:0:1:102:304', '::1:102:304', '::1:102:304'],
  ] as const) {
    assert.equal(formatIpv6(bytes(addr)), rfc, addr);
    assert.equal(formatIpv6Tcpdump(bytes(addr)), tcpdump, addr);
  }
  // random addresses (many zero groups): the two faces differ exactly on ::a.b.c.d
  const b = new Uint8Array(20);
  let seed = 5;
  const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
  for (let n = 0; n < 20000; n++) {
    for (let i = 0; i < 20; i++) b[i] = rnd() < 190 ? 0 : rnd();
    const off = n % 4;
    const compat = b.subarray(off, off + 12).every((x) => x === 0) && (b[off + 12] !== 0 || b[off + 13] !== 0);
    const want = compat ? `::${b[off + 12]}.${b[off + 13]}.${b[off + 14]}.${b[off + 15]}` : formatIpv6(b, off);
    assert.equal(formatIpv6Tcpdump(b, off), want);
  }
});
