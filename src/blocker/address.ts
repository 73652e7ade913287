/**
 * The only way an address reaches a firewall command: parsed (node:net isIP + bytes), masked and
 * re-formatted. Anything that is not exactly an IPv4 address, an IPv6 address or an IPv6 prefix is
 * rejected before any command is built.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { formatIpv6, parseIp } from '../net/ip-text.js';
import { BlockAddressError, MAX_TIMEOUT_SEC, type BlockOp } from './types.js';

export interface BlockAddr {
  family: 4 | 6;
  /** Canonical text: `192.0.2.1`, `2001:db8::1`, or `2001:db8::/64` (prefix < 128). */
  addr: string;
  /** 32 for IPv4; 1..128 for IPv6 (128 = one address). */
  prefix: number;
  /** Network bytes, host bits zeroed (4 or 16 bytes). */
  bytes: Uint8Array;
}

export interface ParseAddrOptions {
  /** Accept IPv4 prefixes shorter than /32 (no backend does: their IPv4 sets hold addresses). */
  ipv4Prefix?: boolean;
}

const SHAPE = /^[0-9A-Fa-f:.]{2,45}(?:\/[0-9]{1,3})?$/;

function mask(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - 8 * i));
    out[i] = out[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

/** Parses and canonicalises one block address; throws BlockAddressError on anything else. */
export function parseBlockAddr(input: unknown, opts: ParseAddrOptions = {}): BlockAddr {
  if (typeof input !== 'string') throw new BlockAddressError('address must be a string');
  const shown = JSON.stringify(input.length > 80 ? `${input.slice(0, 80)}…` : input);
  if (!SHAPE.test(input)) throw new BlockAddressError(`not an IP address or IPv6 prefix: ${shown}`);
  const slash = input.indexOf('/');
  const text = slash < 0 ? input : input.slice(0, slash);
  const plen = slash < 0 ? null : Number(input.slice(slash + 1));
  if (isIPv4(text)) {
    const bytes = parseIp(text)!;
    const prefix = plen ?? 32;
    if (prefix < 1 || prefix > 32) throw new BlockAddressError(`bad IPv4 prefix length in ${shown}`);
    if (prefix !== 32 && !opts.ipv4Prefix) {
      throw new BlockAddressError(`IPv4 prefixes are not supported (block single IPv4 addresses): ${shown}`);
    }
    const m = mask(bytes, prefix);
    const addr = `${m[0]}.${m[1]}.${m[2]}.${m[3]}`;
    return { family: 4, addr: prefix === 32 ? addr : `${addr}/${prefix}`, prefix, bytes: m };
  }
  if (isIPv6(text)) {
    const bytes = parseIp(text)!;
    const prefix = plen ?? 128;
    if (prefix < 1 || prefix > 128) throw new BlockAddressError(`bad IPv6 prefix length in ${shown}`);
    const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
    if (mapped) {
      // An IPv4-mapped address is an IPv4 client on the wire: block it in the IPv4 set.
      if (prefix !== 128) throw new BlockAddressError(`IPv4-mapped IPv6 prefixes are not supported: ${shown}`);
      return parseBlockAddr(`${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`, opts);
    }
    const m = mask(bytes, prefix);
    const addr = formatIpv6(m);
    return { family: 6, addr: prefix === 128 ? addr : `${addr}/${prefix}`, prefix, bytes: m };
  }
  throw new BlockAddressError(`not an IP address or IPv6 prefix: ${shown}`);
}

/** Timeout of an op: null = none. Throws on anything but a whole number 0..MAX_TIMEOUT_SEC. */
export function parseTimeout(t: unknown): number | null {
  if (t === undefined || t === null || t === 0) return null;
  if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t > MAX_TIMEOUT_SEC) {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- any JSON value; an object shows as [object Object]
    throw new BlockAddressError(`timeout must be a whole number of seconds from 0 to ${MAX_TIMEOUT_SEC}, got ${String(t)}`);
  }
  return t;
}

/** A validated op: what backends build their commands from. */
export interface NormOp {
  op: 'add' | 'del';
  a: BlockAddr;
  timeoutSec: number | null;
}

export function normalizeOp(o: BlockOp): NormOp {
  if (o === null || typeof o !== 'object') throw new BlockAddressError('op must be an object');
  if (o.op !== 'add' && o.op !== 'del') throw new BlockAddressError(`op must be "add" or "del", got ${JSON.stringify(o.op)}`);
  const a = parseBlockAddr(o.addr);
  return { op: o.op, a, timeoutSec: o.op === 'add' ? parseTimeout(o.timeoutSec) : null };
}

/**
 * Validates every op (throws before anything is applied) and coalesces ops on the same address:
 * the last one wins, which leaves the same final state as applying them in order.
 */
export function normalizeOps(ops: readonly BlockOp[]): NormOp[] {
  const m = new Map<string, NormOp>();
  for (const o of ops) {
    const n = normalizeOp(o);
    m.delete(n.a.addr);
    m.set(n.a.addr, n);
  }
  return [...m.values()];
}

/** True when prefix `outer` contains `inner` (same family; outer.prefix <= inner.prefix). */
export function covers(outer: BlockAddr, inner: BlockAddr): boolean {
  if (outer.family !== inner.family || outer.prefix > inner.prefix) return false;
  const m = mask(inner.bytes, outer.prefix);
  for (let i = 0; i < m.length; i++) if (m[i] !== outer.bytes[i]) return false;
  return true;
}

/** First and last address of a prefix, as fixed-width hex (so they compare as strings). */
export function hexRange(a: BlockAddr): [string, string] {
  let lo = '';
  let hi = '';
  for (let i = 0; i < a.bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, a.prefix - 8 * i));
    const hostMask = 0xff >> keep;
    lo += a.bytes[i]!.toString(16).padStart(2, '0');
    hi += (a.bytes[i]! | hostMask).toString(16).padStart(2, '0');
  }
  return [lo, hi];
}
