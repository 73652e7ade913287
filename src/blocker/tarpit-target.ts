/**
 * The tarpit target `[HOST:]PORT` (`2626`, `:2626`, `192.0.2.1:2626`, `[2001:db8::1]:2626`): where
 * the firewall sends new connections of blocked addresses instead of rejecting them (`blocks
 * --tarpit`, and watch's `--tarpit`, which also binds its decoy server there). HOST is an IP
 * literal, canonicalised; never a name (it becomes part of a firewall rule).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { parseBlockAddr } from './address.js';
import { BlockerError } from './types.js';

export interface TarpitTarget {
  /** Canonical IPv4 / IPv6 address; absent: the port on whatever address the connection came to. */
  host?: string;
  port: number;
}

const USAGE = 'expected [HOST:]PORT, e.g. 2626, 192.0.2.1:2626 or [2001:db8::1]:2626';

/** Parses `[HOST:]PORT`; throws a BlockerError ('usage') that names the bad part. */
export function parseTarpitTarget(text: string): TarpitTarget {
  const shown = JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
  let host: string | undefined;
  let portText: string;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0 || text[end + 1] !== ':') throw new BlockerError('usage', `bad tarpit target ${shown}: ${USAGE}`);
    host = text.slice(1, end);
    if (!isIPv6(host)) throw new BlockerError('usage', `bad tarpit target ${shown}: ${JSON.stringify(host)} is not an IPv6 address`);
    portText = text.slice(end + 2);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon >= 0 && text.indexOf(':') !== colon) {
      throw new BlockerError('usage', `bad tarpit target ${shown}: put an IPv6 address in brackets, e.g. [2001:db8::1]:2626`);
    }
    if (colon > 0) {
      host = text.slice(0, colon);
      if (!isIPv4(host)) throw new BlockerError('usage', `bad tarpit target ${shown}: ${JSON.stringify(host)} is not an IP address (${USAGE})`);
    }
    portText = colon >= 0 ? text.slice(colon + 1) : text;
  }
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new BlockerError('usage', `bad tarpit target ${shown}: the port must be 0-65535 (${USAGE})`);
  }
  const port = Number(portText);
  return host === undefined ? { port } : { host: parseBlockAddr(host).addr, port };
}

/** The text form parseTarpitTarget reads: `2626`, `192.0.2.1:2626`, `[2001:db8::1]:2626`. */
export function formatTarpitTarget(t: TarpitTarget): string {
  if (t.host === undefined) return String(t.port);
  return t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
}

/** What one family's NAT rule does: `redirect` to the port (host absent) or `dnat` to host:port. */
export interface TarpitRule {
  family: 4 | 6;
  host?: string;
  port: number;
}

/**
 * The per-family NAT rules for a tarpit, checked against the blocked ports. No host, or `::`: both
 * families redirected to the port on the address the connection came to. `0.0.0.0`: IPv4 only. A
 * specific address: `dnat` for its family only; the other family's blocked addresses stay rejected
 * (the tarpit does not listen there). A loopback host is refused: the kernel drops a connection
 * from outside translated to 127.0.0.0/8 or ::1 (martian; route_localnet is off by default).
 */
export function tarpitRules(t: TarpitTarget | undefined, ports: readonly number[]): TarpitRule[] {
  if (t === undefined) return [];
  if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535)
    throw new BlockerError(
      'usage',
      `not a TCP port for the tarpit: ${t.port}${t.port === 0 ? ' (port 0, any free port, only with --dry-run: the firewall needs the real port)' : ''}`,
    );
  if (ports.includes(t.port)) {
    throw new BlockerError('usage', `the tarpit port ${t.port} is one of the blocked ports (${ports.join(', ')}): pick another port`);
  }
  if (t.host === undefined || t.host === '::')
    return [
      { family: 4, port: t.port },
      { family: 6, port: t.port },
    ];
  if (t.host === '0.0.0.0') return [{ family: 4, port: t.port }];
  const a = parseBlockAddr(t.host);
  if ((a.family === 4 && a.bytes[0] === 127) || a.addr === '::1') {
    throw new BlockerError(
      'usage',
      `the tarpit host ${a.addr} is a loopback address, which redirected connections cannot reach: give an address of this machine's interface, or the port alone`,
    );
  }
  return [{ family: a.family, host: a.addr, port: t.port }];
}
