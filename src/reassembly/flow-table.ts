import type { PacketDecoder } from '../decode/packet-decoder.js';
import { formatIp } from '../net/ip-text.js';
import { HalfStream, TcpAssembler, TcpFlag } from './tcp-assembler.js';
import type { CloseReason, FlowInfo, StreamConsumer, StreamFactory } from './stream.js';

/**
 * One TCP connection between a client and an SMTP server port, both directions. It is its own
 * FlowInfo (what the consumer is told about it): one object a flow instead of two.
 */
export class Flow implements FlowInfo {
  /** Both directions; once the flow is closed, a shared empty stand-in (a lingering flow keeps no streams). */
  c2s = new HalfStream();
  s2c = new HalfStream();
  closed = false;
  /**
   * The client's initial sequence number (int32) when its SYN was seen, else -1 (an ISN of
   * 0xffffffff reads the same: harmless). A SYN with another one on the same ports is a new flow.
   */
  isn = -1;
  /** Packet time of the last segment; for closed flows, when they may be forgotten. */
  lastSeen = 0;
  /** The protocol on top (set right after construction); once the flow is closed, a no-op (a lingering flow keeps no session). */
  consumer: StreamConsumer = FINISHED;
  /** Its key in the table, and its neighbours in recency order (FlowLru's list: no per-entry node). */
  key: number | string = 0;
  older: Flow | null = null;
  newer: Flow | null = null;
  constructor(
    readonly id: number,
    readonly ipVersion: 4 | 6,
    readonly client: string,
    readonly clientPort: number,
    readonly server: string,
    readonly serverPort: number,
    /** IPv4 server address as int32 (a small integer, not a boxed double), to verify a numeric-key hit (0 for IPv6). */
    readonly server4: number,
  ) {}
}

export interface FlowTableOptions {
  maxFlows: number;
  /** Seconds of packet time after which a quiet flow is dropped (and flushed). */
  idleTimeout: number;
  /** Seconds a closed flow is remembered so that late retransmissions are not taken as new flows. */
  closedLinger: number;
}

export const defaultFlowTableOptions: FlowTableOptions = { maxFlows: 100_000, idleTimeout: 600, closedLinger: 30 };

export interface FlowStats {
  flows: number;
  /** Flows dropped because the table was full (least recently used first). */
  evicted: number;
  /** Open flows dropped after the idle timeout. */
  expired: number;
  /** A client SYN with a new ISN replaced a flow on the same ports. */
  reused: number;
}

/**
 * The flow table's recency order: a Map from key to flow, and a doubly linked list through the
 * flows themselves (`older` / `newer`), least recently used first. It does what the lru-cache
 * package did here (`get` moves a flow to the recent end; `set` of a new key into a full table
 * evicts the least recently used first, telling `evicted` before it goes), in the same order, but
 * per packet it is one Map lookup and at most six pointer writes: lru-cache's `get` also made an
 * options object, read a diagnostics channel and checked staleness on every call (4–7 % of replay).
 */
class FlowLru {
  private readonly map = new Map<number | string, Flow>();
  /** Least and most recently used ends of the list (null when empty). */
  oldest: Flow | null = null;
  newest: Flow | null = null;

  constructor(
    private readonly max: number,
    /** Told of a flow the full table pushes out, while it is still in the table (as lru-cache's dispose was). */
    private readonly evicted: (flow: Flow) => void,
  ) {}

  get size(): number {
    return this.map.size;
  }

  /** The flow under `key`, made the most recently used. */
  get(key: number | string): Flow | undefined {
    const f = this.map.get(key);
    if (f !== undefined && f !== this.newest) {
      this.unlink(f);
      this.append(f);
    }
    return f;
  }

  /** Adds `flow` under `key`, which must not be in the table; a full table first evicts its oldest. */
  set(key: number | string, flow: Flow): void {
    const old = this.oldest;
    if (this.map.size >= this.max && old !== null) {
      this.evicted(old);
      this.unlink(old);
      this.map.delete(old.key);
    }
    flow.key = key;
    this.map.set(key, flow);
    this.append(flow);
  }

  delete(flow: Flow): void {
    this.unlink(flow);
    this.map.delete(flow.key);
  }

  clear(): void {
    // The flows are unlinked too, so that a forgotten flow holds no neighbours alive.
    for (let f = this.oldest; f !== null;) {
      const n = f.newer;
      f.older = f.newer = null;
      f = n;
    }
    this.map.clear();
    this.oldest = this.newest = null;
  }

  private unlink(f: Flow): void {
    const o = f.older;
    const n = f.newer;
    if (o === null) this.oldest = n;
    else o.newer = n;
    if (n === null) this.newest = o;
    else n.older = o;
    f.older = f.newer = null;
  }

  private append(f: Flow): void {
    const last = this.newest;
    f.older = last;
    f.newer = null;
    if (last === null) this.oldest = f;
    else last.newer = f;
    this.newest = f;
  }
}

/**
 * Finds the flow of each decoded SMTP segment, creating it on a SYN or on payload, and feeds the
 * assembler. Bounded by an LRU (FlowLru, size-capped). Idle expiry runs on the packets' own
 * clock, so a replay expires flows exactly as a live run would have: the LRU's least recently used
 * end is also the least recently seen, so a sweep walks from that end and stops at the first flow
 * that is still fresh (no TTL bookkeeping on the per-packet path).
 *
 * IPv4 flows are keyed by a number (client address · 65536 + client port: 48 bits, exact in a
 * double), so the per-packet lookup allocates nothing; the rare second flow from the same client
 * address and port to another server, and all IPv6 flows, use a string key. A string-keyed IPv4
 * flow outlives the numeric one it stood beside (a client that moved its port from :25 to :587,
 * then the :25 flow was swept): so while any exists, a numeric miss also tries the string key
 * before it creates a flow, or the :587 flow would split in two.
 */
export class FlowTable {
  readonly stats: FlowStats = { flows: 0, evicted: 0, expired: 0, reused: 0 };
  private now = 0;
  private nextId = 1;
  private readonly cache: FlowLru;
  /** IPv4 flows in the cache under a string key (beside a numeric-keyed flow on the same client port). */
  private stringKeyed4 = 0;
  /** IPv4 server addresses as text, shared by all their flows (servers are few; bounded anyway). */
  private readonly serverText4 = new Map<number, string>();
  /** The last IPv4 client address made a flow, and its text: a client's connections tend to come in a row. */
  private lastClient4 = -1;
  private lastClientText = '';

  constructor(
    private readonly factory: StreamFactory,
    readonly assembler: TcpAssembler,
    readonly opts: FlowTableOptions = defaultFlowTableOptions,
  ) {
    this.cache = new FlowLru(opts.maxFlows, (flow) => {
      this.forgotten(flow);
      if (!flow.closed) {
        this.stats.evicted++;
        this.finish(flow, 'evicted');
      }
    });
  }

  get size(): number {
    return this.cache.size;
  }

  /** Advances the table's clock (packet time, seconds). */
  setTime(ts: number): void {
    this.now = ts;
  }

  /** Drops open flows idle longer than the timeout and closed ones past their linger (packet time). */
  purgeIdle(): void {
    const idleBefore = this.now - this.opts.idleTimeout;
    const closedBefore = this.now - this.opts.closedLinger;
    for (let flow = this.cache.oldest; flow !== null;) {
      if (flow.lastSeen >= closedBefore) break; // everything after this was seen more recently
      const newer = flow.newer;
      if (flow.closed) this.drop(flow);
      else if (flow.lastSeen < idleBefore) {
        this.stats.expired++;
        this.finish(flow, 'idle');
        this.drop(flow);
      }
      flow = newer;
    }
    if (this.assembler.pendingSegments > 0) this.expireGaps();
  }

  /**
   * A gap's timeout is checked when its own flow sends a packet; a flow that went quiet behind a
   * hole would otherwise hold its bytes (a 535 among them) until the idle timeout. So the sweep
   * also walks every flow while any bytes wait: O(flows) once per sweep, not per packet.
   */
  private expireGaps(): void {
    const a = this.assembler;
    const now = this.now;
    for (let flow = this.cache.newest; flow !== null; flow = flow.older) {
      if (a.pendingSegments === 0) return;
      if (flow.closed) continue;
      if (flow.c2s.pending) a.expireGap(flow.c2s, flow.consumer, true, now);
      if (flow.s2c.pending) a.expireGap(flow.s2c, flow.consumer, false, now);
    }
  }

  /**
   * Handles one decoded TCP segment whose server side is `fromClient ? dst : src`.
   * `ts` is the packet time in seconds.
   */
  segment(d: PacketDecoder, fromClient: boolean, ts: number): void {
    const flags = d.flags;
    const isClientSyn = fromClient && (flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN;
    let key: number | string;
    let flow: Flow | undefined;
    if (d.ipVersion === 4) {
      const c = fromClient ? d.src4 : d.dst4;
      const s = fromClient ? d.dst4 : d.src4;
      const cp = fromClient ? d.sport : d.dport;
      const sp = fromClient ? d.dport : d.sport;
      key = c * 65536 + cp;
      flow = this.cache.get(key);
      if (flow ? flow.server4 !== (s | 0) || flow.serverPort !== sp : this.stringKeyed4 > 0) {
        const alt = stringKey4(c, cp, s, sp);
        const altFlow = this.cache.get(alt);
        // On a miss the numeric slot is free: a new flow takes it unless the string key holds it.
        if (flow || altFlow) {
          key = alt;
          flow = altFlow;
        }
      }
    } else {
      const b = d.buf;
      const co = fromClient ? d.srcOff : d.dstOff;
      const so = fromClient ? d.dstOff : d.srcOff;
      key =
        b.toString('latin1', co, co + 16) +
        b.toString('latin1', so, so + 16) +
        String.fromCharCode(fromClient ? d.sport : d.dport, fromClient ? d.dport : d.sport);
      flow = this.cache.get(key);
    }

    if (flow && isClientSyn && flow.isn !== (d.seq | 0) && (flow.closed || flow.c2s.started)) {
      // Same ports, new ISN: the old connection is over (we may have missed its end).
      if (!flow.closed) {
        this.stats.reused++;
        this.finish(flow, 'reused');
      }
      this.drop(flow);
      flow = undefined;
    }
    if (!flow) {
      if (!isClientSyn && d.segLen === 0) return; // nothing to anchor a flow on
      flow = this.create(d, fromClient, ts);
      if (typeof key === 'string' && d.ipVersion === 4) this.stringKeyed4++;
      this.cache.set(key, flow);
      if (isClientSyn) flow.consumer.connect(ts);
    } else if (flow.closed) {
      flow.lastSeen = ts;
      // Late packets of a finished connection (retransmitted FIN, a stray ACK, a retransmitted
      // reply): already accounted for.
      if (d.segLen > 0) this.assembler.stats.retransmittedBytes += d.segLen;
      return;
    }

    flow.lastSeen = ts;
    if (isClientSyn && !flow.c2s.started) flow.isn = d.seq | 0;
    const hs = fromClient ? flow.c2s : flow.s2c;
    const other = fromClient ? flow.s2c : flow.c2s;
    if (other.pending && flags & TcpFlag.ACK) this.assembler.acked(other, flow.consumer, !fromClient, d.ack, ts);
    const done = this.assembler.segment(hs, flow.consumer, fromClient, d.seq, flags, d.buf, d.payloadOff, d.payloadLen, d.segLen, ts);
    if (flags & TcpFlag.RST) this.finish(flow, 'rst', ts);
    else if (done && flow.c2s.done && flow.s2c.done) this.finish(flow, 'fin', ts);
  }

  private create(d: PacketDecoder, fromClient: boolean, ts: number): Flow {
    const v = d.ipVersion as 4 | 6;
    const flow = new Flow(
      this.nextId++,
      v,
      v === 4 ? this.client4Text(fromClient ? d.src4 : d.dst4, d, fromClient) : formatIp(d.buf, fromClient ? d.srcOff : d.dstOff, v),
      fromClient ? d.sport : d.dport,
      v === 4 ? this.server4Text(fromClient ? d.dst4 : d.src4, d, fromClient) : formatIp(d.buf, fromClient ? d.dstOff : d.srcOff, v),
      fromClient ? d.dport : d.sport,
      v === 4 ? (fromClient ? d.dst4 : d.src4) | 0 : 0,
    );
    this.stats.flows++;
    flow.consumer = this.factory.create(flow, ts);
    return flow;
  }

  private client4Text(ip: number, d: PacketDecoder, fromClient: boolean): string {
    if (ip !== this.lastClient4) {
      this.lastClient4 = ip;
      this.lastClientText = formatIp(d.buf, fromClient ? d.srcOff : d.dstOff, 4);
    }
    return this.lastClientText;
  }

  private server4Text(ip: number, d: PacketDecoder, fromClient: boolean): string {
    let t = this.serverText4.get(ip);
    if (t === undefined) {
      t = formatIp(d.buf, fromClient ? d.dstOff : d.srcOff, 4);
      if (this.serverText4.size < MAX_SERVER_TEXTS) this.serverText4.set(ip, t);
    }
    return t;
  }

  /** Flushes both directions and tells the consumer the flow is over. */
  private finish(flow: Flow, reason: CloseReason, ts = this.now): void {
    if (flow.closed) return;
    flow.closed = true;
    this.assembler.flush(flow.c2s, flow.consumer, true, ts);
    this.assembler.flush(flow.s2c, flow.consumer, false, ts);
    flow.consumer.close(reason, ts);
    // A closed flow lingers (closedLinger) only to recognise late packets: its session (line
    // buffers and all) and its streams can go now. At 200,000 flows closing that is 100 MB.
    flow.consumer = FINISHED;
    flow.c2s = flow.s2c = CLOSED_STREAM;
  }

  /** Ends every flow (end of input), newest first: waiting bytes are delivered, gaps counted. */
  closeAll(ts: number): void {
    for (let flow = this.cache.newest; flow !== null; flow = flow.older) this.finish(flow, 'end', ts);
    this.cache.clear();
    this.stringKeyed4 = 0;
  }

  /** Takes a flow out of the table. */
  private drop(flow: Flow): void {
    this.forgotten(flow);
    this.cache.delete(flow);
  }

  /** Bookkeeping for a flow leaving the table (dropped or evicted). */
  private forgotten(flow: Flow): void {
    if (typeof flow.key === 'string' && flow.ipVersion === 4) this.stringKeyed4--;
  }
}

const MAX_SERVER_TEXTS = 4096;

/** The streams of every closed flow (never read or written: closed flows stop before their streams). */
const CLOSED_STREAM = new HalfStream();

/** Stands in for the consumer of a closed flow, which is never called again. */
const FINISHED: StreamConsumer = {
  data(): void {},
  gap(): void {},
  connect(): void {},
  close(): void {},
};

function stringKey4(c: number, cp: number, s: number, sp: number): string {
  return `${c}|${cp}|${s}|${sp}`;
}
