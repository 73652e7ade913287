import type { PacketDecoder } from '../decode/packet-decoder.js';
import { u32be } from '../net/bytes.js';

/**
 * The shard (worker thread) that owns a decoded SMTP packet: picked by the client's strike key
 * (strikes/address-key.ts), so that one shard holds every flow and every recent-list window of a
 * key and the xt_recent semantics stay exact: an IPv4 address; an IPv4-mapped IPv6 address as its
 * IPv4 address (strikeKey counts it so); any other IPv6 address masked to `ipv6Prefix` bits. The
 * flow key contains the client address, so a flow never spans two shards either.
 */
export function shardOf(d: PacketDecoder, fromClient: boolean, ipv6Prefix: number, shards: number): number {
  return keyHash(d, fromClient, ipv6Prefix) % shards;
}

/** The 32-bit hash of the client's strike key that shardOf and the slot table (shardSlots) pick the shard by. */
export function keyHash(d: PacketDecoder, fromClient: boolean, ipv6Prefix: number): number {
  if (d.ipVersion === 4) return mix(fromClient ? d.src4 : d.dst4);
  const b = d.buf;
  const o = fromClient ? d.srcOff : d.dstOff;
  const w0 = u32be(b, o);
  const w1 = u32be(b, o + 4);
  const w2 = u32be(b, o + 8);
  const w3 = u32be(b, o + 12);
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) return mix(w3); // ::ffff:a.b.c.d counts as a.b.c.d
  const p = ipv6Prefix >= 128 ? 128 : ipv6Prefix;
  let h = 0x811c9dc5;
  h = mix(h ^ masked(w0, p));
  h = mix(h ^ masked(w1, p - 32));
  h = mix(h ^ masked(w2, p - 64));
  h = mix(h ^ masked(w3, p - 96));
  return h;
}

/** Slots of the shard table: a shard owns the keys whose hash's top 8 bits are one of its slots. */
export const SLOTS = 256;

/**
 * The shard of each slot (index: keyHash >>> 24) when shard 0 owns the fraction `first` of the
 * keys (it runs on the main thread, which also reads and decodes every packet: threaded-replay.ts)
 * and the others share the rest evenly. Returns the table and each shard's fraction of the slots.
 */
export function shardSlots(shards: number, first: number): { slots: Uint8Array; share: number[] } {
  const slots = new Uint8Array(SLOTS);
  const own = shards === 1 ? SLOTS : Math.min(SLOTS, Math.max(0, Math.round(first * SLOTS)));
  const count = new Array<number>(shards).fill(0);
  for (let i = 0; i < SLOTS; i++) {
    const s = i < own ? 0 : 1 + ((i - own) % (shards - 1));
    slots[i] = s;
    count[s]!++;
  }
  return { slots, share: count.map((c) => c / SLOTS) };
}

/** The word's top `keep` bits (keep ≤ 0: none, ≥ 32: all). */
function masked(w: number, keep: number): number {
  if (keep <= 0) return 0;
  if (keep >= 32) return w;
  return (w & (0xffffffff << (32 - keep))) >>> 0;
}

/** A 32-bit integer hash (murmur3's finaliser): neighbouring addresses land on different shards. */
function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}
