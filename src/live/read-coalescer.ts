/**
 * When to wait before the next read of tcpdump's pipe (the tcpdump backend's coalesced reads;
 * measured in native-notes/live-capture.md, "Coalesced reads, shipped").
 *
 * tcpdump `-U` writes every packet on its own, so on a host that keeps up each read carries a
 * packet or two, and the cost per read (the wake-up, the stream, the syscall) is most of watch's
 * CPU. Waiting a millisecond after a small read lets the next packets pile up in the pipe and be
 * read at once. What a wait holds back sits in the pipe; when that is full, tcpdump blocks and the
 * kernel ring holds the rest (65,536 slots at 128 MiB and `-s 1960`: half a second at 120,000
 * packets/s). A wait never caps the rate:
 * - only after a small read with nothing else buffered: when a timer fires late on a busy machine,
 *   the reads that follow are large and none waits until watch has caught up;
 * - never at more than MAX_RATE packets per millisecond (measured over the time since the last
 *   wait began): above it the pipe would fill within a wait, and reads are large enough already;
 * - never twice in a row: the first read after a wait is the one chunk that stopped the stream
 *   (its high-water mark is 1 byte, see TcpdumpSource.start), the rest follows in the next read.
 */

/** Default wait, ms. */
export const READ_COALESCE_MS = 1;
/**
 * A read this large means packets are piling up. 32 packets: the pipe (libuv's socket pair, its
 * 208 KiB send buffer charged with each write's overhead) is full at ~280 one-packet writes, so a
 * full pipe always reads as more than this; 32 KiB: half of what libuv reads at once (large frames).
 */
const SMALL_READ_PACKETS = 32;
const SMALL_READ_BYTES = 32 * 1024;
/** Packets per ms above which no read waits: 150 ms⁻¹ fill half the ~280-packet pipe in a wait of 1 ms. */
export const MAX_RATE = 150;
/** The rate is measured over at most this long (ms), so it follows the traffic. */
const RATE_SPAN_MS = 10;

export class ReadCoalescer {
  private waited = false;
  /** Start (ms) of the span the rate is measured over, and the packets read since. */
  private since = -Infinity;
  private packets = 0;

  /** `waitMs` 0: never wait. */
  constructor(readonly waitMs: number) {}

  /**
   * After a read's packets were handled: how long to wait (ms) before the next read. `buffered`:
   * bytes the stream already holds; `now`: a monotonic clock in ms.
   */
  afterRead(packets: number, bytes: number, buffered: number, now: number): number {
    if (this.waitMs <= 0) return 0;
    this.packets += packets;
    if (this.waited) {
      this.waited = false;
      return 0;
    }
    if (buffered > 0 || packets >= SMALL_READ_PACKETS || bytes >= SMALL_READ_BYTES) return 0;
    const span = now - this.since;
    if (this.packets > MAX_RATE * span) {
      if (span > RATE_SPAN_MS) this.restart(now);
      return 0;
    }
    this.restart(now);
    this.waited = true;
    return this.waitMs;
  }

  private restart(now: number): void {
    this.since = now;
    this.packets = 0;
  }
}
