import type { RejectEvent, StrikeEvent, StrikeSource, WireSnapshot } from '../events.js';
import { formatIpv6, parseIp } from '../net/ip-text.js';

/** The log prefixes of the seed's iptables rules. */
const STRIKE_PREFIXES = Array.from({ length: 33 }, (_, n) => `SMTP_AUTH_FAIL: Strike ${n}:`);

/**
 * A strike on a failure inferred inside TLS: the seed's prefix with `TLS inferred` in it, so a LOG
 * line never passes an inference off as a 535 read on the wire.
 */
const INFERRED_PREFIXES = Array.from({ length: 33 }, (_, n) => `SMTP_AUTH_FAIL: Strike ${n} (TLS inferred):`);

/**
 * A strike on a failure the server's log reported and no packet showed in the clear (the log sensor,
 * src/strikes/sensor-merge.ts): `(log)` in the prefix, and no packet behind the line's fields.
 */
const LOG_PREFIXES = Array.from({ length: 33 }, (_, n) => `SMTP_AUTH_FAIL: Strike ${n} (log):`);

export const LogPrefix = {
  strike: (n: number): string => STRIKE_PREFIXES[n] ?? `SMTP_AUTH_FAIL: Strike ${n}:`,
  inferredStrike: (n: number): string => INFERRED_PREFIXES[n] ?? `SMTP_AUTH_FAIL: Strike ${n} (TLS inferred):`,
  logStrike: (n: number): string => LOG_PREFIXES[n] ?? `SMTP_AUTH_FAIL: Strike ${n} (log):`,
  strikeFrom: (source: StrikeSource, n: number): string =>
    source === 'wire' ? LogPrefix.strike(n) : source === 'inferred' ? LogPrefix.inferredStrike(n) : LogPrefix.logStrike(n),
  authReject: 'SMTP_AUTH_REJECTED: Go AWAY:',
  connReject: 'SMTP Brute Force Attempt:',
} as const;

const FLAG_NAMES: [number, string][] = [
  [0x80, 'CWR'],
  [0x40, 'ECE'],
  [0x20, 'URG'],
  [0x10, 'ACK'],
  [0x08, 'PSH'],
  [0x04, 'RST'],
  [0x02, 'SYN'],
  [0x01, 'FIN'],
];

/** Two upper-case hex digits of a byte, from a table (a strike's LOG line is made per 535 under a flood). */
const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, '0'));
const hex2 = (n: number): string => HEX2[n & 0xff]!;

/** %pI6: eight 4-digit groups, the kernel's uncompressed form. */
function fullIpv6(ip: string): string {
  const b = parseIp(ip);
  if (!b || b.length !== 16) return formatIpv6(new Uint8Array(16));
  const g: string[] = [];
  for (let i = 0; i < 16; i += 2) g.push(((b[i]! << 8) | b[i + 1]!).toString(16).padStart(4, '0'));
  return g.join(':');
}

/**
 * The kernel message the iptables LOG target writes for this packet (nf_log_ipv4/ipv6 layout),
 * after the rule's prefix. `inbound` picks IN= (INPUT chain: SYNs) or OUT= (OUTPUT chain: replies).
 */
export function iptablesLogLine(prefix: string, w: WireSnapshot, inbound: boolean): string {
  const parts = [prefix, inbound ? `IN=${w.iface} OUT=` : `IN= OUT=${w.iface}`];
  if (w.ipVersion === 4) {
    parts.push(
      `SRC=${w.src} DST=${w.dst} LEN=${w.ipLen} TOS=0x${hex2(w.tos & 0x1e)} PREC=0x${hex2(w.tos & 0xe0)} TTL=${w.ttl} ID=${w.ipId}${w.df ? ' DF' : ''}`,
    );
  } else {
    parts.push(`SRC=${fullIpv6(w.src)} DST=${fullIpv6(w.dst)} LEN=${w.ipLen} TC=${w.tos} HOPLIMIT=${w.ttl} FLOWLBL=${w.flowLabel}`);
  }
  parts.push(`PROTO=TCP SPT=${w.sport} DPT=${w.dport} WINDOW=${w.window} RES=0x00`);
  for (const [bit, name] of FLAG_NAMES) if (w.tcpFlags & bit) parts.push(name);
  parts.push('URGP=0');
  return parts.join(' ');
}

/** The kernel log line of a strike (OUTPUT chain: the 535 reply) or a refusal (INPUT chain: the SYN). */
export function strikeLogLine(ev: StrikeEvent | RejectEvent): string {
  return iptablesLogLine(ev.prefix, ev.wire, ev.type === 'reject');
}
