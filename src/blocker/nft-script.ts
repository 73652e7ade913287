// Text shared by the nftables backend's scripts (nft.ts): our table, sets and chains, element statements.
import type { NormOp } from './address.js';

export const NFT_TABLE = 'inet smtpstrike';
export const NFT_SET4 = 'blocked4';
export const NFT_SET6 = 'blocked6';
export const NFT_CHAIN = 'input';
export const NFT_NAT_CHAIN = 'prerouting';

export const NFT_PROBE_SET = 'refresh_probe';

/** `{ a, b }` statements of at most `chunk` elements each. */
export function statements(head: string, elems: string[], chunk: number): string {
  let s = '';
  for (let i = 0; i < elems.length; i += chunk) s += `${head} { ${elems.slice(i, i + chunk).join(', ')} }\n`;
  return s;
}

export function elem(o: NormOp): string {
  return o.timeoutSec === null ? o.a.addr : `${o.a.addr} timeout ${o.timeoutSec}s`;
}
