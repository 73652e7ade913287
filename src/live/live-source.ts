/**
 * Live capture sources: one interface, two backends (the `cap` native module in-process, or a
 * `tcpdump -U -w -` child whose pcap stream is parsed by the file reader). Both hand the pipeline
 * the same PacketRecord a capture file does. Figures and the choice of default:
 * native-notes/live-capture.md.
 */
import { isNetnsName } from '../net/netns-name.js';
import { readdirSync, statSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { PacketRecord } from '../source/packet-record.js';

export type LiveBackend = 'cap' | 'tcpdump';

export interface LiveSourceOptions {
  /** Interface name, `any` included. */
  iface: string;
  /** BPF filter expression ('' = everything); see `bpfForPorts`. */
  filter: string;
  /**
   * Kernel capture buffer in bytes (tcpdump gets `-B` in KiB, rounded up). 0 = libpcap's default
   * (2 MiB: tcpdump without -B; cap is given 2 MiB, as it must pass a size).
   */
  bufferSize: number;
  /**
   * Snapshot length. tcpdump: `-s` (default DEFAULT_SNAPLEN = 1960, see there). cap hard-codes
   * 65535 in its open(); a smaller value is applied by cutting `caplen` in JS (no ring gain).
   */
  snaplen?: number;
  /**
   * libpcap immediate mode (tcpdump `--immediate-mode`; default true). Immediate mode makes
   * libpcap use TPACKET_V2, a ring of fixed slots sized for the largest frame (≈64 KiB when the
   * NIC offloads, else MTU+18): a 128 MiB buffer then holds only ≈2,000 packets. Without it,
   * TPACKET_V3 packs frames into blocks (a 128 MiB buffer holds ≈400,000 small packets) and
   * hands a block over when it is full or after 1 s. cap hard-codes immediate mode.
   * See native-notes/live-capture.md.
   */
  immediate?: boolean;
  /**
   * Network namespace (a name under /run/netns). tcpdump: runs as `ip netns exec NS tcpdump …`.
   * cap captures in the namespace of the calling process and cannot switch: start the whole node
   * process with `ip netns exec NS node …`; a netns that differs from the process's own is
   * refused with that advice.
   */
  netns?: string;
  /**
   * Called once when capture ends on its own after a successful start (tcpdump exited, the
   * interface vanished, a packet handler threw). Not called for stop().
   */
  onError?: (err: LiveCaptureError) => void;
  /**
   * stop(): wait until no packet has arrived for this long (ms, default 250) before closing, so what
   * the kernel still holds is delivered; bounded by `drainMaxMs` (default 3000).
   */
  drainQuietMs?: number;
  drainMaxMs?: number;
  /**
   * tcpdump backend: after a small read, wait this long (ms) before reading again, so the packets
   * of the next moment are read together (default READ_COALESCE_MS; 0 = read as soon as data
   * arrives). See `ReadCoalescer` (read-coalescer.ts) and native-notes/live-capture.md.
   */
  coalesceMs?: number;
}

export interface LiveStats {
  /** Packets the kernel passed through the filter (libpcap ps_recv); null = unknown. */
  received: number | null;
  /** Packets the kernel dropped because the capture buffer was full (ps_drop); null = unknown. */
  dropped: number | null;
  /** Packets the interface/driver dropped (ps_ifdrop); null = unknown. */
  ifDropped: number | null;
  /** Packets this source handed to onPacket (always known). */
  delivered: number;
}

export interface LiveSource {
  readonly backend: LiveBackend;
  /** Resolves once the capture is live (packets sent after this are seen); rejects with LiveCaptureError. */
  start(onPacket: (rec: PacketRecord) => void): Promise<void>;
  /** Flushes what is buffered and resolves when no more packets will come. Idempotent. */
  stop(): Promise<void>;
  /** Capture statistics now (null fields = this backend cannot tell). */
  stats(): Promise<LiveStats>;
}

export type LiveErrorKind = 'filter' | 'interface' | 'permission' | 'module' | 'tool' | 'netns' | 'capture';

/** A capture that could not start or ended: the message says what and how to fix it. */
export class LiveCaptureError extends Error {
  constructor(
    readonly kind: LiveErrorKind,
    message: string,
    /** The backend's own words (tcpdump's stderr line, libpcap's error), when there are any. */
    readonly detail: string = '',
  ) {
    super(message);
    this.name = 'LiveCaptureError';
  }
}

/** `tcp port 25 or tcp port 587` for [25, 587]. */
export function bpfForPorts(ports: readonly number[]): string {
  const uniq = [...new Set(ports)];
  for (const p of uniq) {
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new RangeError(`not a TCP port: ${p}`);
  }
  return uniq.map((p) => `tcp port ${p}`).join(' or ');
}

/**
 * tcpdump's snapshot length unless told otherwise. Not libpcap's 262144: in immediate mode libpcap
 * uses TPACKET_V2, whose ring slots are sized for the snapshot length (capped at 65535+18 on
 * Ethernet with offloads, not capped at all on `any`) and rounded up to a power-of-two block, so
 * a 128 MiB buffer holds 1,024 packets (256 on `any`). 1960 bytes (a full 1500-byte-MTU frame
 * with VLAN tag or cooked header) puts two slots in a 4 KiB page: 65,536 packets in 128 MiB.
 * Longer frames (GRO/TSO aggregates, jumbo frames, loopback) are cut; the reassembler counts the
 * cut bytes as a gap. Measured: native-notes/live-capture.md.
 */
export const DEFAULT_SNAPLEN = 1960;
/** libpcap's own default capture buffer (pcap_set_buffer_size not called). */
export const LIBPCAP_DEFAULT_BUFFER = 2 * 1024 * 1024;

/** Permission fix, worded for the backend. */
export function permissionHint(backend: LiveBackend): string {
  return backend === 'cap'
    ? 'run as root, or give node the capabilities: setcap cap_net_raw,cap_net_admin+eip "$(readlink -f "$(command -v node)")" (systemd: AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN)'
    : 'run as root, or grant CAP_NET_RAW and CAP_NET_ADMIN to the service (systemd: AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN, inherited by the tcpdump child) or to tcpdump itself (setcap cap_net_raw,cap_net_admin+eip /usr/bin/tcpdump)';
}

/** Names of the interfaces this process can see (its own network namespace). */
export function interfaceNames(): string[] {
  try {
    return readdirSync('/sys/class/net').sort();
  } catch {
    return Object.keys(networkInterfaces()).sort();
  }
}

export function noSuchInterface(iface: string, detail: string, names: string[] | null): LiveCaptureError {
  const list = names && names.length > 0 ? ` (interfaces here: ${names.join(', ')}, or any)` : '';
  return new LiveCaptureError('interface', `no such interface "${iface}"${list}: pass an existing interface with -i, or -i any`, detail);
}

export function badFilter(filter: string, detail: string): LiveCaptureError {
  return new LiveCaptureError(
    'filter',
    `bad capture filter "${filter}": ${detail} — fix the BPF expression (see man 7 pcap-filter), or let --ports build it`,
    detail,
  );
}

/** Classifies a libpcap / tcpdump error text. */
export function classifyPcapError(backend: LiveBackend, iface: string, filter: string, text: string): LiveCaptureError {
  const t = text.trim();
  if (/permission|not permitted|EPERM|EACCES/i.test(t)) {
    return new LiveCaptureError('permission', `no permission to capture on "${iface}" (${t}): ${permissionHint(backend)}`, t);
  }
  if (/no such device|doesn't exist|no such interface|SIOCGIF|ENODEV|ENXIO/i.test(t)) return noSuchInterface(iface, t, interfaceNames());
  if (/filter|syntax error|parse|bpf|expression|unknown (host|port|protocol)|illegal/i.test(t)) return badFilter(filter, t);
  if (/network is down|not up/i.test(t)) {
    return new LiveCaptureError('interface', `interface "${iface}" is down (${t}): bring it up (ip link set ${iface} up) or capture on another`, t);
  }
  return new LiveCaptureError('capture', `${backend} capture on "${iface}" failed: ${t}`, t);
}

/** Whether this process already lives in network namespace `name` (/run/netns/NAME). */
export function inNetns(name: string): boolean {
  try {
    const mine = statSync('/proc/self/ns/net');
    const want = statSync(`/run/netns/${name}`);
    return mine.ino === want.ino && mine.dev === want.dev;
  } catch {
    return false;
  }
}

export function validateOptions(o: LiveSourceOptions): void {
  if (typeof o.iface !== 'string' || o.iface === '' || o.iface.length > 64 || /[\s/]/.test(o.iface) || o.iface.startsWith('-')) {
    throw new LiveCaptureError('interface', `bad interface name "${String(o.iface)}"`);
  }
  if (!Number.isInteger(o.bufferSize) || (o.bufferSize !== 0 && (o.bufferSize < 65536 || o.bufferSize > 2 ** 31 - 1))) {
    throw new RangeError(`buffer size must be 0 (default) or an integer from 65536 to ${2 ** 31 - 1} bytes (got ${o.bufferSize})`);
  }
  if (o.snaplen !== undefined && (!Number.isInteger(o.snaplen) || o.snaplen < 64 || o.snaplen > 262144)) {
    throw new RangeError(`snaplen must be an integer from 64 to 262144 (got ${o.snaplen})`);
  }
  if (o.netns !== undefined && !isNetnsName(o.netns)) throw new LiveCaptureError('netns', `bad network namespace name "${o.netns}"`);
  if (o.coalesceMs !== undefined && (!Number.isInteger(o.coalesceMs) || o.coalesceMs < 0 || o.coalesceMs > 10)) {
    throw new RangeError(`coalesceMs must be an integer from 0 to 10 (got ${o.coalesceMs})`);
  }
}

/** Waits until `lastActivity()` is at least `quietMs` old, or `maxMs` passed. */
export async function waitQuiet(lastActivity: () => number, quietMs: number, maxMs: number): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const now = Date.now();
    if (now - lastActivity() >= quietMs || now - t0 >= maxMs) return;
    await new Promise((r) => setTimeout(r, Math.min(50, quietMs)));
  }
}
