/**
 * Many-clients capture generator (issue 9, item 4): N distinct clients, each making one SMTP
 * connection with one AUTH PLAIN failure, so the product's per-client state is what grows.
 *
 *   node dist/bench/many-clients.js [--clients 1000000] [--family 4|6] [--span-s 10800] [--out FILE]
 *
 * Each session is the smallest exchange the product counts: SYN, SYN/ACK, ACK, 220 greeting,
 * `AUTH PLAIN <user>`, `535`, FIN/ACK each way (8 packets). Sessions start evenly spread over the
 * span and last ~2 s (Dovecot's failure delay), so they overlap; the packets of all sessions are
 * merged in time order. IPv4 clients are distinct addresses in 16.0.0.0/4; IPv6 clients each come
 * from their own /64 of 2001:db8::/32 (so `--ipv6-prefix 64` keys are distinct too).
 *
 * The ground truth needs no file: client i failed once as user `userName(i)` (see `expectedClient`).
 * Deterministic: same arguments → byte-identical file.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { PcapOut, TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN, ipToString } from './emit.js';

export interface ManyClientsOptions {
  clients: number;
  family: 4 | 6;
  /** Seconds of capture time over which the sessions start. */
  spanS: number;
  out: string;
}

/** Bump when the output changes, so the harness makes its capture again. */
export const MANY_CLIENTS_VERSION = 1;

const SERVER4 = 0xc0000219; // 192.0.2.25
const SERVER6 = Uint8Array.from([0x20, 0x01, 0x0d, 0xb9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x25]); // 2001:db9::25
const PORT = 587;
const GREETING = '220 mx.example.net ESMTP\r\n';
const REJECT = '535 5.7.8 Error: authentication failed: authentication failure\r\n';
const START = 1_767_225_600e6; // 2026-01-01T00:00:00Z in µs

/** A bijection of [0, 2^28): spreads consecutive client numbers over the address range. */
function spread28(i: number): number {
  return Math.imul(i, 0x9e3779b1) & 0x0fffffff;
}

/** IPv4 address of client i: distinct for i < 2^28, all in 16.0.0.0/4. */
export function client4(i: number): number {
  return (0x10000000 + spread28(i)) >>> 0;
}

/** IPv6 address of client i (written into `out`): 2001:db8:<spread i>/64, interface id from i. */
export function client6(i: number, out: Uint8Array): Uint8Array {
  const p = Math.imul(i, 0x9e3779b1) >>> 0; // bijection of 32 bits: one /64 per client
  out[0] = 0x20;
  out[1] = 0x01;
  out[2] = 0x0d;
  out[3] = 0xb8;
  out[4] = p >>> 24;
  out[5] = (p >>> 16) & 0xff;
  out[6] = (p >>> 8) & 0xff;
  out[7] = p & 0xff;
  const iid = Math.imul(i ^ 0x5bd1e995, 0x85ebca6b) >>> 0;
  out[8] = 0x02;
  out[9] = 0x16;
  out[10] = 0x3e;
  out[11] = 0xff; // a SLAAC-looking interface id
  out[12] = iid >>> 24;
  out[13] = (iid >>> 16) & 0xff;
  out[14] = (iid >>> 8) & 0xff;
  out[15] = (iid & 0xff) | 1;
  return out;
}

/** Username client i tries: a pool of 1,000 names, as a botnet sharing one list. */
export function userName(i: number): string {
  return `user${i % 1000}@example.net`;
}

function b64(s: string): string {
  return Buffer.from(s, 'latin1').toString('base64');
}

/** One step of the session: when (µs after its start), who sends, which flags, what payload. */
interface Step {
  at: number;
  fromClient: boolean;
  flags: number;
  payload: (i: number) => string;
}

const RTT = 40_000;
const STEPS: Step[] = [
  { at: 0, fromClient: true, flags: TCP_SYN, payload: () => '' },
  { at: RTT / 2, fromClient: false, flags: TCP_SYN | TCP_ACK, payload: () => '' },
  { at: RTT, fromClient: true, flags: TCP_ACK, payload: () => '' },
  { at: RTT + 5_000, fromClient: false, flags: TCP_PSH | TCP_ACK, payload: () => GREETING },
  { at: 2 * RTT, fromClient: true, flags: TCP_PSH | TCP_ACK, payload: (i) => `AUTH PLAIN ${b64(`\0${userName(i)}\0secret${i % 97}`)}\r\n` },
  { at: 2 * RTT + 2_000_000, fromClient: false, flags: TCP_PSH | TCP_ACK, payload: () => REJECT },
  { at: 3 * RTT + 2_000_000, fromClient: true, flags: TCP_FIN | TCP_ACK, payload: () => '' },
  { at: 3 * RTT + 2_020_000, fromClient: false, flags: TCP_FIN | TCP_ACK, payload: () => '' },
];

/** Sequence numbers each side has used before step k (SYN and FIN count one). */
function seqBefore(k: number, fromClient: boolean, i: number): number {
  let n = 0;
  for (let j = 0; j < k; j++) {
    const s = STEPS[j]!;
    if (s.fromClient !== fromClient) continue;
    n += s.payload(i).length + ((s.flags & (TCP_SYN | TCP_FIN)) !== 0 ? 1 : 0);
  }
  return n;
}

export interface ManyClientsResult {
  packets: number;
  bytes: number;
}

/**
 * Writes the capture. The sessions all have the same shape and evenly spaced starts, so a k-way
 * merge over the steps (one cursor per step) yields the packets in time order without a heap.
 */
export function generateManyClients(o: ManyClientsOptions): ManyClientsResult {
  const out = new PcapOut(o.out);
  const n = o.clients;
  const gap = (o.spanS * 1e6) / Math.max(n, 1);
  const cursor = new Array<number>(STEPS.length).fill(0);
  const ip6 = new Uint8Array(16);
  for (;;) {
    let best = -1;
    let bestT = Infinity;
    for (let k = 0; k < STEPS.length; k++) {
      if (cursor[k]! >= n) continue;
      const t = START + cursor[k]! * gap + STEPS[k]!.at;
      if (t < bestT) {
        bestT = t;
        best = k;
      }
    }
    if (best < 0) break;
    const i = cursor[best]!++;
    const s = STEPS[best]!;
    const cport = 1024 + (i % 60000);
    const iss = Math.imul(i, 2654435761) >>> 0;
    const irs = (iss ^ 0x5a5a5a5a) >>> 0;
    const seq = ((s.fromClient ? iss : irs) + seqBefore(best, s.fromClient, i)) >>> 0;
    const ack = ((s.fromClient ? irs : iss) + seqBefore(best, !s.fromClient, i)) >>> 0;
    const payload = s.payload(i);
    if (o.family === 4) {
      const c = client4(i);
      if (s.fromClient) out.tcpStr(bestT, c, SERVER4, cport, PORT, seq, ack, s.flags, 52, true, payload);
      else out.tcpStr(bestT, SERVER4, c, PORT, cport, seq, ack, s.flags, 64, false, payload);
    } else {
      client6(i, ip6);
      if (s.fromClient) out.tcp6Str(bestT, ip6, SERVER6, cport, PORT, seq, ack, s.flags, 52, true, payload);
      else out.tcp6Str(bestT, SERVER6, ip6, PORT, cport, seq, ack, s.flags, 64, false, payload);
    }
  }
  out.close();
  return { packets: out.packets, bytes: out.bytes };
}

/** What the product must report for client i. */
export function expectedClient(i: number, family: 4 | 6): { ip: string; failures: number; users: string[] } {
  const ip = family === 4 ? ipToString(client4(i)) : formatIpv6Short(client6(i, new Uint8Array(16)));
  return { ip, failures: 1, users: [userName(i)] };
}

/** RFC 5952 text, from the WHATWG URL serializer (independent of the product's formatter). */
function formatIpv6Short(b: Uint8Array): string {
  const g: string[] = [];
  for (let k = 0; k < 16; k += 2) g.push(((b[k]! << 8) | b[k + 1]!).toString(16));
  return new URL(`http://[${g.join(':')}]/`).hostname.slice(1, -1);
}

function main(): void {
  const { values } = parseArgs({
    options: {
      clients: { type: 'string', default: '1000000' },
      family: { type: 'string', default: '4' },
      'span-s': { type: 'string', default: '10800' },
      out: { type: 'string' },
    },
  });
  const family = values.family === '6' ? 6 : 4;
  const clients = Number(values.clients);
  const out = values.out ?? `bench/out/clients-${clients}-v${family}.pcap`;
  const t0 = Date.now();
  const r = generateManyClients({ clients, family, spanS: Number(values['span-s']), out });
  process.stdout.write(`${out}: ${r.packets} packets, ${(r.bytes / 1e6).toFixed(1)} MB, ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
