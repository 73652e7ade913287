import { LinkFrame } from '../decode/link-layer.js';
import { RelativeSeq } from './tcp-seq.js';
import { hexAsciiLines } from './text.js';

export interface PrinterOptions {
  /** `-S`: absolute TCP sequence numbers. */
  absoluteSeq: boolean;
  /** -X given: tcpdump then leaves out its default hex dump of payloads it cannot decode. */
  suppressDefaultDump?: boolean;
  /** `--redact`: no payload text after `length N` (tcpdump's port-25 line may be a base64 password). */
  noPayloadText?: boolean;
}

/**
 * What the layer printers (print-*.ts) share while one packet is printed: its bytes, where the
 * captured bytes end, the options, TCP's relative sequence numbers, and where -A/-X start.
 */
export class PrintState {
  readonly rel = new RelativeSeq();
  /** The link header of the packet, read as the decoder reads it. */
  readonly link = new LinkFrame();
  /**
   * After print(): offset in the record's buffer where -A/-X start: the link layer's payload, or
   * the frame itself when tcpdump's printer stopped at a field it could not read (its hdrlen is
   * then lost), -1 when there is nothing to dump.
   */
  payloadOff = -1;
  frameOff = 0;
  // the packet being printed
  buf: Buffer = Buffer.alloc(0);
  end = 0;

  constructor(readonly opts: PrinterOptions = { absoluteSeq: false }) {}

  /** tcpdump's default dump of undecoded bytes (left out with -X). */
  dump(start: number, end: number, withAscii = true): string {
    return this.opts.suppressDefaultDump ? '' : hexAsciiLines(this.buf, start, end, withAscii);
  }

  /** A truncation where tcpdump's printer long-jumps out: -A/-X then dump the whole frame. */
  cut<T>(text: T): T {
    this.payloadOff = this.frameOff;
    return text;
  }

  /** Runs an inner printer with the captured end cut to the outer packet's end. */
  sub(f: () => string, capEnd: number): string {
    const saved = this.end;
    this.end = capEnd;
    try {
      return f();
    } finally {
      this.end = saved;
    }
  }
}
