/** A SYN's wire fields as the decoder keeps them for an iptables LOG line (tests of watch's events). */
import type { WireSnapshot } from '../../src/events.js';

export function synSnapshot(dport: number): WireSnapshot {
  return { ipVersion: 4, src: '', dst: '', ipLen: 60, tos: 0, ttl: 64, ipId: 0, df: true, flowLabel: 0, sport: 0, dport, window: 0, tcpFlags: 2, iface: '' };
}
