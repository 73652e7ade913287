import type { AuthEvent, EventSink, PipelineEvent, StrikeSource } from '../events.js';
import { formatIpv6, parseIp } from '../net/ip-text.js';
import type { StrikeEngine, StrikeResult } from './strike-engine.js';

export type AttemptOutcome = 'failure' | 'success' | 'tempfail';

/**
 * One AUTH attempt as a sensor saw it. `ts` is the source's own time (packet time; the log line's
 * stamp, seconds, in the log's zone); `user` and `serverPort` are null when the sensor does not know
 * them (an outcome inferred inside TLS has no user; a Postfix line names no port).
 */
export interface Attempt {
  source: StrikeSource;
  ts: number;
  client: string;
  outcome: AttemptOutcome;
  user: string | null;
  serverPort: number | null;
}

export interface SensorMergeOptions {
  /**
   * A log sensor feeds log(): wire attempts are then held for `tolerance` seconds to recognise the
   * log's sighting of the same attempt. Off (the default: no log configured), a wire attempt is passed
   * straight to the strike engine and nothing is held.
   */
  logSensor: boolean;
  /** The wire sensor (capture) is on: log attempts are held for it. Default on. */
  wireSensor: boolean;
  /**
   * Seconds two sightings of one attempt (one per sensor) may lie apart, on the arrival clock. Measured
   * in the test bed: the Postfix line is read a median 2 ms after the reply packet, at most 12.6 ms
   * on a quiet host and 196 ms on a loaded one (179 attempts; native-notes/sensor-merge.md); 2 s
   * leaves room for a busier host, a slow syslog relay or a journal batch. Nothing waits for it.
   */
  tolerance: number;
  /** Held sightings at most (all clients together); the oldest is let go first, counted. */
  maxHeld: number;
  /**
   * When a log line arrived (seconds): watch passes wall time (Date.now() / 1000), so a line is placed
   * on the clock the packets carry — not at its own stamp, which is whole seconds in the server's zone.
   * A wire sighting is at its packet time: the kernel's capture stamp, wall clock too, and unaffected
   * by a backlog between tcpdump and the pipeline. Null: a log sighting at its own `ts` (files, tests).
   */
  clock: (() => number) | null;
}

export const defaultSensorMergeOptions = (): SensorMergeOptions => ({
  logSensor: false,
  wireSensor: true,
  tolerance: 2,
  maxHeld: 65_536,
  clock: null,
});

/** What the sensors saw, for watch's stats and the JSON summaries. */
export interface SensorCoverage {
  /** Sightings handed in, per source. */
  sightings: Record<StrikeSource, number>;
  /** Attempts settled as seen by one sensor only (no partner within the tolerance), per source. */
  only: Record<StrikeSource, number>;
  /** Attempts both sensors saw (counted once), by the wire side's kind. */
  both: { wire: number; inferred: number };
  /** Sightings still held, waiting for the other sensor (settled within the tolerance). */
  held: number;
  held_peak: number;
  /** Held sightings let go before their time for room (a later partner would then count twice). */
  held_evicted: number;
  /** Attempts the log confirmed after the wire's inference could not strike: struck from the log. */
  confirmed_inferred: number;
}

/** The two sensors: the wire (read or inferred) and the log. */
const enum Side {
  Wire = 0,
  Log = 1,
}

interface Held {
  side: Side;
  source: StrikeSource;
  at: number;
  client: string;
  outcome: AttemptOutcome;
  user: string | null;
  serverPort: number | null;
  result: StrikeResult;
  /** Matched or let go: skipped by expiry. */
  done: boolean;
}

const OUTCOME_OF: Record<AuthEvent['type'], AttemptOutcome> = {
  auth_failure: 'failure',
  auth_success: 'success',
  auth_tempfail: 'tempfail',
};

/**
 * One StrikeEngine behind several sensors. An attempt seen by the wire (a reply read in the clear,
 * or inferred inside TLS) and by the server's log is ONE attempt:
 *  - the first sighting counts at once (strikes if the engine's rules say so) — the merge never
 *    delays a strike — and, when the other sensor is on, is held for `tolerance` seconds;
 *  - a sighting from the other sensor that finds a held one (same client, same outcome, same user and
 *    server port where both know them, arrival within the tolerance; the oldest first) is the same
 *    attempt: it strikes nothing (a wire event is still passed on, marked by nothing but the count),
 *    and both are counted `both`. Sightings from the same sensor never match: two 535s are two
 *    attempts, so wire 2 + log 2 within the tolerance is 2;
 *  - except: an inferred failure that could not strike (size unknown, --no-inferred-strikes) and that
 *    the log then reports is struck from the log (the log's own evidence), once.
 * Memory: one global FIFO of held sightings (capped at maxHeld, the oldest let go first and counted)
 * and a per-client index into it; entries leave at tick() or at the next sighting once older than the
 * tolerance.
 */
export class SensorMerge implements EventSink {
  readonly opts: SensorMergeOptions;
  private readonly cov: SensorCoverage = {
    sightings: { wire: 0, inferred: 0, log: 0 },
    only: { wire: 0, inferred: 0, log: 0 },
    both: { wire: 0, inferred: 0 },
    held: 0,
    held_peak: 0,
    held_evicted: 0,
    confirmed_inferred: 0,
  };
  /** Held sightings in arrival order; `head` is the oldest still in it. */
  private queue: Held[] = [];
  private head = 0;
  private readonly byClient = new Map<string, Held[]>();
  /** The latest arrival time seen (arrivals from two sources need not be monotonic). */
  private now = -Infinity;

  constructor(
    private readonly engine: StrikeEngine,
    opts: Partial<SensorMergeOptions> = {},
  ) {
    this.opts = { ...defaultSensorMergeOptions(), ...opts };
  }

  /** Turns sensors on or off (watch: when --log is given), or changes the tolerance or the clock. */
  configure(opts: Partial<SensorMergeOptions>): void {
    Object.assign(this.opts, opts);
  }

  /** The pipeline's sink: AUTH outcomes go through the merge, every other event straight on. */
  event(ev: PipelineEvent): void {
    switch (ev.type) {
      case 'auth_failure':
      case 'auth_success':
      case 'auth_tempfail':
        this.wire(ev);
        break;
      default:
        this.engine.event(ev);
    }
  }

  /** A wire sighting (read in the clear, or inferred: `ev.inferred`), at its packet time. */
  wire(ev: AuthEvent, arrival: number = ev.ts): void {
    const source: StrikeSource = ev.inferred ? 'inferred' : 'wire';
    this.cov.sightings[source]++;
    if (!this.opts.logSensor) {
      this.cov.only[source]++;
      this.engine.auth(ev);
      return;
    }
    this.advance(arrival);
    const outcome = OUTCOME_OF[ev.type];
    const client = canonicalClient(ev.client);
    const partner = this.find(Side.Log, arrival, client, outcome, ev.user, ev.serverPort);
    if (partner) {
      this.cov.both[source]++;
      this.engine.passOn(ev); // the log counted it already
      return;
    }
    const result = this.engine.auth(ev);
    this.hold({ side: Side.Wire, source, at: arrival, client, outcome, user: ev.user, serverPort: ev.serverPort, result, done: false });
  }

  /**
   * A log sighting; `arrival` = the clock (watch: when the line was read), or the line's own time. A
   * follower catching up on lines written while it was not reading (a restart) should pass their own
   * time: such a line is no sighting of an attempt the wire saw just now.
   */
  log(a: Attempt, arrival: number = this.opts.clock ? this.opts.clock() : a.ts): StrikeResult {
    this.cov.sightings.log++;
    const client = canonicalClient(a.client);
    if (!this.opts.wireSensor) {
      this.cov.only.log++;
      return this.engine.logged({ ts: arrival, client, outcome: a.outcome, serverPort: a.serverPort });
    }
    this.advance(arrival);
    const partner = this.find(Side.Wire, arrival, client, a.outcome, a.user, a.serverPort);
    if (partner) {
      this.cov.both[partner.source === 'inferred' ? 'inferred' : 'wire']++;
      if (partner.result !== 'inferred_not_struck') return 'not_struck';
      // The inference could not strike it; the log says it was a failure: it counts now, once.
      const r = this.engine.logged({ ts: arrival, client, outcome: a.outcome, serverPort: a.serverPort });
      if (r === 'struck') this.cov.confirmed_inferred++;
      return r;
    }
    const result = this.engine.logged({ ts: arrival, client, outcome: a.outcome, serverPort: a.serverPort });
    this.hold({ side: Side.Log, source: 'log', at: arrival, client, outcome: a.outcome, user: a.user, serverPort: a.serverPort, result, done: false });
    return result;
  }

  /** Settles the sightings older than the tolerance at `now` (watch: every second, wall time). */
  tick(now: number = this.opts.clock ? this.opts.clock() : this.now): void {
    this.advance(now);
  }

  /** End of input (replay): every held sighting settles as seen by one sensor. */
  flush(): void {
    while (this.head < this.queue.length) this.settle(this.queue[this.head++]!);
    this.compact();
  }

  coverage(): SensorCoverage {
    const c = this.cov;
    return {
      sightings: { ...c.sightings },
      only: { ...c.only },
      both: { ...c.both },
      held: c.held,
      held_peak: c.held_peak,
      held_evicted: c.held_evicted,
      confirmed_inferred: c.confirmed_inferred,
    };
  }

  /** The oldest held sighting of the other side that is this attempt, taken out of the index; null if none. */
  private find(side: Side, at: number, client: string, outcome: AttemptOutcome, user: string | null, port: number | null): Held | null {
    const list = this.byClient.get(client);
    if (!list) return null;
    const tol = this.opts.tolerance;
    for (let i = 0; i < list.length; i++) {
      const h = list[i]!;
      if (h.side !== side || h.outcome !== outcome) continue;
      if (user !== null && h.user !== null && user !== h.user) continue;
      if (port !== null && h.serverPort !== null && port !== h.serverPort) continue;
      if (Math.abs(at - h.at) > tol) continue;
      h.done = true;
      this.cov.held--;
      list.splice(i, 1);
      if (list.length === 0) this.byClient.delete(client);
      return h;
    }
    return null;
  }

  private hold(h: Held): void {
    if (this.cov.held >= this.opts.maxHeld) this.evictOldest();
    this.queue.push(h);
    let list = this.byClient.get(h.client);
    if (!list) this.byClient.set(h.client, (list = []));
    list.push(h);
    if (++this.cov.held > this.cov.held_peak) this.cov.held_peak = this.cov.held;
  }

  private evictOldest(): void {
    while (this.head < this.queue.length) {
      const h = this.queue[this.head++]!;
      if (h.done) continue;
      this.cov.held_evicted++;
      this.settle(h);
      break;
    }
    this.compact();
  }

  /** Moves the clock to `now` and settles what is older than the tolerance. */
  private advance(now: number): void {
    if (now > this.now) this.now = now;
    const limit = this.now - this.opts.tolerance;
    const q = this.queue;
    while (this.head < q.length) {
      const h = q[this.head]!;
      if (!h.done && h.at >= limit) break;
      this.head++;
      this.settle(h);
    }
    this.compact();
  }

  /** A held sighting leaves unmatched: an attempt one sensor saw. */
  private settle(h: Held): void {
    if (h.done) return;
    h.done = true;
    this.cov.held--;
    this.cov.only[h.source]++;
    const list = this.byClient.get(h.client);
    if (!list) return;
    const i = list.indexOf(h); // the oldest of its client: index 0 but for arrivals out of order
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byClient.delete(h.client);
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}

/** A log's client text as the wire writes it (canonical IPv6, IPv4-mapped as IPv4), so the two compare. */
export function canonicalClient(ip: string): string {
  if (!ip.includes(':')) return ip;
  const lower = ip.toLowerCase();
  if (lower.startsWith('::ffff:') && lower.includes('.')) return lower.slice(7);
  const b = parseIp(ip);
  return b && b.length === 16 ? formatIpv6(b) : ip;
}
