import { isIP } from 'node:net';
import { formatIpv6, parseIp } from '../net/ip-text.js';

/**
 * An Ip/Range decision value parsed and printed one way (IPv6 compressed, lower case, as the
 * blocker and the strike keys print it), so a value we pushed and the same value coming back from
 * the LAPI compare equal as strings. Host bits are kept as given: masking is the blocker's job.
 */
export interface DecisionAddress {
  value: string;
  family: 4 | 6;
  /** 32/128 for one address. */
  prefix: number;
}

export function parseDecisionAddress(text: string): DecisionAddress | null {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const fam = isIP(addr);
  if (fam === 0) return null;
  const family: 4 | 6 = fam === 4 ? 4 : 6;
  const full = family === 4 ? 32 : 128;
  let prefix = full;
  if (slash >= 0) {
    const bits = text.slice(slash + 1);
    if (bits === '' || bits.length > 3) return null;
    for (let i = 0; i < bits.length; i++) if (bits.charCodeAt(i) < 48 || bits.charCodeAt(i) > 57) return null;
    prefix = Number(bits);
    if (prefix < 1 || prefix > full) return null; // a /0 would ban the whole Internet
  }
  const canon = family === 4 ? addr : formatIpv6(parseIp(addr)!);
  return { value: prefix === full ? canon : `${canon}/${prefix}`, family, prefix };
}
