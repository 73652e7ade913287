/**
 * The boundary between TCP reassembly and the protocol on top (gopacket's Stream/StreamFactory):
 * the assembler hands each direction's bytes, in order and once, to a consumer that the factory
 * made for the flow. The assembler never knows what protocol rides on top.
 */
import type { PacketHeader } from '../decode/packet-header.js';

export interface FlowInfo {
  /** Unique per flow within one run. */
  readonly id: number;
  readonly ipVersion: 4 | 6;
  readonly client: string;
  readonly clientPort: number;
  readonly server: string;
  readonly serverPort: number;
}

export type CloseReason = 'fin' | 'rst' | 'idle' | 'evicted' | 'reused' | 'end';

export interface StreamConsumer {
  /** In-order bytes of one direction; `buf` is only valid during the call. `ts` in seconds. */
  data(fromClient: boolean, buf: Buffer, start: number, end: number, ts: number): void;
  /** Bytes of one direction that will never arrive: `lost` > 0, or -1 when unknown (mid-stream start). */
  gap(fromClient: boolean, lost: number, ts: number): void;
  /** A new connection attempt: the client's first SYN of this flow. */
  connect(ts: number): void;
  /** The flow ended; no call follows. */
  close(reason: CloseReason, ts: number): void;
}

export interface StreamFactory {
  create(info: FlowInfo, ts: number): StreamConsumer;
}

/** The header fields of the packet being processed, kept with bytes that must wait for a gap. */
export interface HeaderSource {
  keepHeader(): PacketHeader;
}
