// The reader of `nft -j` output (JSON) for the nftables backend (nft.ts).
import { parseBlockAddr } from './address.js';
import { BlockerError, type BlockEntry } from './types.js';

export function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function nftItems(json: string): Record<string, unknown>[] {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    throw new BlockerError('command', 'nft -j printed something that is not JSON');
  }
  if (!isObj(doc) || !Array.isArray(doc.nftables)) throw new BlockerError('command', 'nft -j: no "nftables" array');
  return doc.nftables.filter(isObj);
}

/** The element text of one nft JSON set element value, canonicalised; null when unreadable. */
function elemAddr(val: unknown): string | null {
  try {
    if (typeof val === 'string') return parseBlockAddr(val).addr;
    if (isObj(val) && isObj(val.prefix)) {
      const p = val.prefix;
      if (typeof p.addr === 'string' && typeof p.len === 'number') return parseBlockAddr(`${p.addr}/${p.len}`).addr;
    }
    if (isObj(val) && Array.isArray(val.range) && val.range.length === 2) {
      const [a, b] = val.range as unknown[];
      return `${parseBlockAddr(a).addr}-${parseBlockAddr(b).addr}`;
    }
  } catch {
    return null;
  }
  return null;
}

/** Entries of one set in `nft -j list …` output. */
export function parseNftSet(items: Record<string, unknown>[], name: string): BlockEntry[] {
  const out: BlockEntry[] = [];
  for (const it of items) {
    const set = it.set;
    if (!isObj(set) || set.name !== name || !Array.isArray(set.elem)) continue;
    for (const e of set.elem) {
      let val: unknown = e;
      let expires: number | null = null;
      if (isObj(e) && isObj(e.elem)) {
        val = e.elem.val;
        if (typeof e.elem.expires === 'number') expires = e.elem.expires;
        else if (typeof e.elem.timeout === 'number') expires = e.elem.timeout;
      }
      const addr = elemAddr(val);
      if (addr !== null) out.push({ addr, expiresInSec: expires });
    }
  }
  return out;
}
