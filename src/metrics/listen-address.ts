/**
 * `--metrics HOST:PORT` (and `metrics:` in the config): where the Prometheus endpoint listens.
 * `9100` or `:9100` alone listen on loopback (127.0.0.1); `[::1]:9100` is IPv6. Port 0 asks the
 * kernel for a free port (tests; watch logs the one it got).
 */
import { isIP } from 'node:net';

export interface ListenAddress {
  host: string;
  port: number;
}

export const DEFAULT_METRICS_HOST = '127.0.0.1';

/** A host name as DNS spells it (letters, digits, hyphens, dots), e.g. `localhost`. */
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** Reads `HOST:PORT`; throws an Error saying what is wrong and what is expected. */
export function parseListenAddress(text: string): ListenAddress {
  const v = text.trim();
  const expected = 'expected HOST:PORT, e.g. 127.0.0.1:9464, [::1]:9464 or :9464 (loopback)';
  if (v === '') throw new Error(`empty metrics address; ${expected}`);
  let host: string;
  let portText: string;
  if (/^\d+$/.test(v)) {
    host = '';
    portText = v;
  } else if (v.startsWith('[')) {
    const end = v.indexOf(']');
    if (end < 0 || v[end + 1] !== ':') throw new Error(`"${text}": an IPv6 address needs its port after "]:"; ${expected}`);
    host = v.slice(1, end);
    portText = v.slice(end + 2);
    if (isIP(host) !== 6) throw new Error(`"${text}": "${host}" is not an IPv6 address; ${expected}`);
  } else {
    const colon = v.lastIndexOf(':');
    if (colon < 0) throw new Error(`"${text}": no port; ${expected}`);
    host = v.slice(0, colon);
    portText = v.slice(colon + 1);
    if (host.includes(':')) throw new Error(`"${text}": write an IPv6 address in brackets, [${host}]:${portText}; ${expected}`);
    if (host !== '' && isIP(host) === 0 && !HOSTNAME.test(host)) throw new Error(`"${text}": "${host}" is neither an address nor a host name; ${expected}`);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw new Error(`"${text}": port "${portText}" is not a number from 0 to 65535; ${expected}`);
  return { host: host === '' ? DEFAULT_METRICS_HOST : host, port: Number(portText) };
}

/** The address as a URL's authority: `127.0.0.1:9464`, `[::1]:9464`. */
export function formatListenAddress(a: ListenAddress): string {
  return isIP(a.host) === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
