/**
 * `--tarpit [HOST:]PORT` (and `tarpit:` in the config): where the decoy server listens. `PORT` or
 * `:PORT` alone: every address (the kernel's `redirect` sends to the address the packet came in
 * on); `127.0.0.1:2525`, `[::1]:2525` one address. The blockers' redirect reads the same object.
 */
import { isIP } from 'node:net';

export interface TarpitAddress {
  host?: string;
  port: number;
}

export function parseTarpitAddress(text: string): TarpitAddress {
  const v = text.trim();
  const expected = 'expected [HOST:]PORT, e.g. 2525, :2525, 127.0.0.1:2525 or [::1]:2525';
  let host = '';
  let portText: string;
  if (v.startsWith('[')) {
    const end = v.indexOf(']');
    if (end < 0 || v[end + 1] !== ':') throw new Error(`"${text}": an IPv6 address needs its port after "]:"; ${expected}`);
    host = v.slice(1, end);
    portText = v.slice(end + 2);
    if (isIP(host) !== 6) throw new Error(`"${text}": "${host}" is not an IPv6 address; ${expected}`);
  } else {
    const colon = v.lastIndexOf(':');
    if (colon >= 0) {
      host = v.slice(0, colon);
      if (host.includes(':')) throw new Error(`"${text}": write an IPv6 address in brackets; ${expected}`);
      if (host !== '' && isIP(host) !== 4) throw new Error(`"${text}": "${host}" is not an IP address; ${expected}`);
    }
    portText = v.slice(colon + 1);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw new Error(`"${text}": port "${portText}" is not a number from 0 to 65535; ${expected}`);
  return host === '' ? { port: Number(portText) } : { host, port: Number(portText) };
}
