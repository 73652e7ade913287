/**
 * One line per packet in tcpdump's `-nn` format (no `-v`, no `-e`), written from tcpdump 4.99's
 * observable output and checked line for line against it (test/dump-format.test.ts): link layers
 * Ethernet (VLAN tags skipped, as tcpdump does without -e), Linux cooked v1/v2 (v2 with tcpdump's
 * interface/direction prefix), BSD loopback, raw IP; IPv4 and IPv6 (extension headers, fragments,
 * truncation notes); TCP in full (flags, relative sequence numbers, options, the first-line text
 * tcpdump adds for SMTP on port 25, FTP, WHOIS, HTTP, RTSP), UDP, DNS (53, mDNS 5353, TCP 53),
 * ICMP, ICMPv6, ARP. Its other application decoders (NTP, DHCP, BGP, …) are not reproduced: such
 * packets end at `UDP, length N` / `length N`, and protocols unknown here get tcpdump's generic
 * forms (`ip-proto-N`, hex dumps).
 *
 * Like tcpdump's print-*.c, one file per layer: print-link.ts (link headers, read by
 * decode/link-layer.ts as replay reads them), print-arp.ts, print-ip.ts, print-tcp.ts,
 * print-udp.ts, print-icmp.ts; what they share while a packet is printed is PrintState. This file
 * only dispatches on the link type.
 */
import type { PacketRecord } from '../source/packet-record.js';
import { hexAsciiLines } from './text.js';
import { PrintState } from './print-state.js';
import { ether, loopback, rawIp, sll, sll2 } from './print-link.js';

export type { PrinterOptions } from './print-state.js';

export class PacketPrinter extends PrintState {
  /** The text after the time stamp (without a newline; unknown types add tcpdump's hex lines). */
  print(rec: PacketRecord): string {
    const off = rec.off;
    this.buf = rec.buf;
    this.end = off + rec.caplen;
    this.payloadOff = -1;
    this.frameOff = off;
    const wire = rec.origlen;
    switch (rec.linktype) {
      case 1:
        return ether(this, off, wire);
      case 113:
        return sll(this, off, wire);
      case 276:
        return sll2(this, off, wire);
      case 0:
      case 108:
        return loopback(this, rec.linktype, off, wire);
      case 101:
      case 12:
      case 14:
      case 228:
      case 229:
        return rawIp(this, rec.linktype, off, wire);
      default:
        this.payloadOff = off;
        return 'UNSUPPORTED' + hexAsciiLines(rec.buf, off, this.end);
    }
  }
}
