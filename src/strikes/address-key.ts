import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { packIp, unpackIp } from '../net/ip-pack.js';
import { formatIpv6, parseIp } from '../net/ip-text.js';

/**
 * The address a strike counts against: the client's IPv4 address, or its IPv6 address masked to
 * `ipv6Prefix` bits (a bot gets a whole /64 from any hoster, so counting single IPv6 addresses
 * lets it walk past the threshold). IPv4-mapped IPv6 addresses count as their IPv4 address.
 */
export function strikeKey(ip: string, ipv6Prefix: number): string {
  if (!ip.includes(':')) return ip;
  if (ip.startsWith('::ffff:') && isIPv4(ip.slice(7))) return ip.slice(7);
  if (ipv6Prefix >= 128) return ip;
  // Runs for every IPv6 connect and failure: parse into words and mask there (no allocation).
  const w = keyWords;
  if (packIp(ip, w) !== 6) return slowStrikeKey(ip, ipv6Prefix);
  for (let k = 0; k < 4; k++) {
    const keep = Math.max(0, Math.min(32, ipv6Prefix - 32 * k));
    w[k] = keep === 0 ? 0 : keep === 32 ? w[k]! : (w[k]! & (0xffffffff << (32 - keep))) >>> 0;
  }
  return `${unpackIp(6, w[0]!, w[1]!, w[2]!, w[3]!)}/${ipv6Prefix}`;
}

const keyWords = new Uint32Array(4);

/** Forms the wire never produces (a zone index `%eth0`): the general parser. */
function slowStrikeKey(ip: string, ipv6Prefix: number): string {
  const b = parseIp(ip);
  if (!b) return ip;
  for (let bit = ipv6Prefix; bit < 128; bit++) b[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return `${formatIpv6(b)}/${ipv6Prefix}`;
}

/** Whitelisted networks (the seed's `-s 123.123.123.0/24 -j RETURN`), on node's BlockList. */
export class AddressSet {
  private readonly list = new BlockList();
  readonly entries: string[] = [];

  /** Adds `a.b.c.d`, `a.b.c.d/n`, an IPv6 address or prefix; throws with the reason if invalid. */
  add(cidr: string): void {
    const [addr, len, extra] = cidr.trim().split('/');
    const v6 = isIPv6(addr ?? '');
    if (!addr || extra !== undefined || (!isIPv4(addr) && !v6)) throw new Error(`not an IP address or network: ${cidr}`);
    const max = v6 ? 128 : 32;
    if (len !== undefined && !/^\d{1,3}$/.test(len)) throw new Error(`bad prefix length in ${cidr}`);
    const prefix = len === undefined ? max : Number(len);
    if (prefix > max) throw new Error(`bad prefix length in ${cidr}`);
    this.list.addSubnet(addr, prefix, v6 ? 'ipv6' : 'ipv4');
    this.entries.push(cidr.trim());
  }

  has(ip: string): boolean {
    if (this.entries.length === 0) return false;
    if (ip.includes(':')) {
      if (ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) && this.list.check(ip.slice(7), 'ipv4')) return true;
      return this.list.check(ip, 'ipv6');
    }
    return this.list.check(ip, 'ipv4');
  }
}
