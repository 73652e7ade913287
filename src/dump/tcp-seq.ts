/**
 * tcpdump's relative sequence numbers. One entry per connection (both directions share it, keyed
 * with the lower port's side first; equal ports: the lower address). An ACK-bearing segment whose
 * connection has no entry, or any segment with SYN set, (re)starts the entry and is printed with
 * absolute numbers; later segments print `seq - first seq` and `ack - (first ack - 1)`, seen from
 * their own direction. Segments without ACK never use the table. As observed from tcpdump 4.99.
 */
export class RelativeSeq {
  private readonly table = new Map<string, { seq: number; ack: number }>();
  /** Set by `apply`: whether this segment's direction is the reverse of the entry's. */
  rev = false;
  /** The entry's numbers (for SACK blocks), valid after `apply`. */
  thSeq = 0;
  thAck = 0;
  seq = 0;
  ack = 0;

  constructor(private readonly maxEntries = 1 << 20) {}

  /**
   * Updates the table for one segment and leaves the numbers to print in `seq`/`ack`. `src`/`dst`
   * are the address bytes as text keys (any injective encoding).
   */
  apply(src: string, dst: string, sport: number, dport: number, seq: number, ack: number, syn: boolean): void {
    let rev = false;
    if (sport > dport) rev = true;
    else if (sport === dport && src > dst) rev = true;
    const key = rev ? `${dst}|${src}|${dport}|${sport}` : `${src}|${dst}|${sport}|${dport}`;
    this.rev = rev;
    const th = this.table.get(key);
    if (!th || syn) {
      const e = rev ? { seq: (ack - 1) >>> 0, ack: seq } : { seq, ack: (ack - 1) >>> 0 };
      if (!th) {
        if (this.table.size >= this.maxEntries) this.table.delete(this.table.keys().next().value as string);
        this.table.set(key, e);
      } else {
        th.seq = e.seq;
        th.ack = e.ack;
      }
      this.seq = seq;
      this.ack = ack;
      this.thSeq = e.seq;
      this.thAck = e.ack;
      return;
    }
    if (rev) {
      this.seq = (seq - th.ack) >>> 0;
      this.ack = (ack - th.seq) >>> 0;
    } else {
      this.seq = (seq - th.seq) >>> 0;
      this.ack = (ack - th.ack) >>> 0;
    }
    this.thSeq = th.seq;
    this.thAck = th.ack;
  }
}
