import type { Zone } from '../accounts/clock.js';
import type { Service } from '../accounts/types.js';
import type { AttemptOutcome, LogAuth, WireAuth, WireSession } from './types.js';

/**
 * Time alignment: log timestamps without a zone are placed on the capture's clock, and one
 * attempt logged by two daemons becomes one attempt.
 */

/** Epoch seconds of a wall time written as if UTC (`wall`), in `zone`. */
export function wallToEpoch(wall: number, zone: Zone): number {
  if (zone !== 'local') return wall - zone * 60;
  const s = Math.floor(wall);
  const d = new Date(s * 1000);
  return new Date(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()).getTime() / 1000 + (wall - s);
}

/** `+05:30`, `-04:00`, `+00:00` */
export function offsetLabel(minutes: number): string {
  const a = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/** The zone's offset east of UTC at `ts`, minutes. */
export function zoneOffsetAt(zone: Zone, ts: number): number {
  return zone === 'local' ? -new Date(Math.floor(ts) * 1000).getTimezoneOffset() : zone;
}

export function placeEvents(events: LogAuth[], zone: Zone): void {
  for (const e of events) e.ts = e.guessed ? wallToEpoch(e.wall, zone) : e.wall;
}

/** Services that speak SMTP AUTH: their log lines are what the wire can see too. */
export const SMTP_SERVICES: ReadonlySet<Service> = new Set<Service>(['postfix', 'exim']);

/** Per client: what the wire saw, in time order, for matching log lines against it. */
export class WireIndex {
  /** Failure and 454 times per client, sorted. */
  readonly failTimes = new Map<string, number[]>();
  /** Windows [from, to] per client in which a log line about a success (or inside TLS, anything) belongs to a wire session. */
  readonly successWindows = new Map<string, [number, number][]>();
  readonly opaqueWindows = new Map<string, [number, number][]>();

  constructor(
    auths: Iterable<WireAuth>,
    sessions: Iterable<WireSession>,
    readonly tolerance: number,
  ) {
    for (const a of auths) {
      if (a.outcome === 'success') continue;
      let l = this.failTimes.get(a.client);
      if (!l) this.failTimes.set(a.client, (l = []));
      l.push(a.ts);
    }
    for (const l of this.failTimes.values()) l.sort((x, y) => x - y);
    for (const s of sessions) {
      if (s.successTs !== null) push(this.successWindows, s.client, [s.successTs - tolerance, s.end + tolerance]);
      if (s.tlsTs !== null) push(this.opaqueWindows, s.client, [s.tlsTs - tolerance, s.end + tolerance]);
    }
    for (const m of [this.successWindows, this.opaqueWindows]) for (const l of m.values()) l.sort((x, y) => x[0] - y[0]);
  }

  get empty(): boolean {
    return this.failTimes.size === 0 && this.successWindows.size === 0 && this.opaqueWindows.size === 0;
  }

  /** Whether a log line from `ip` at `ts` has something on the wire to belong to. */
  explains(ip: string, outcome: AttemptOutcome, ts: number): boolean {
    if (outcome !== 'success') {
      const l = this.failTimes.get(ip);
      if (l && nearest(l, ts) <= this.tolerance) return true;
    } else if (inWindows(this.successWindows.get(ip), ts)) return true;
    return inWindows(this.opaqueWindows.get(ip), ts);
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

/** Distance from `ts` to the nearest value of the sorted list. */
function nearest(l: readonly number[], ts: number): number {
  let lo = 0;
  let hi = l.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (l[m]! < ts) lo = m + 1;
    else hi = m;
  }
  let d = Infinity;
  if (lo < l.length) d = l[lo]! - ts;
  if (lo > 0) d = Math.min(d, ts - l[lo - 1]!);
  return d;
}

function inWindows(w: readonly [number, number][] | undefined, ts: number): boolean {
  if (!w) return false;
  let lo = 0;
  let hi = w.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (w[m]![0] <= ts) lo = m + 1;
    else hi = m;
  }
  // Windows of one client may overlap: look back a few from the last one starting by `ts`.
  for (let k = lo - 1; k >= 0 && k >= lo - 64; k--) if (ts <= w[k]![1]) return true;
  return false;
}

export interface ZoneEstimate {
  /** The chosen zone. */
  zone: Zone;
  /** Whether it differs from the default (`local`) because the wire said so. */
  moved: boolean;
  /** SMTP log lines without a zone that were tried against the wire. */
  sample: number;
  /** Of those, how many the chosen zone lines up with the wire. */
  matched: number;
  /** How many the local zone lines up. */
  localMatched: number;
}

const MAX_SAMPLE = 3000;

/**
 * When the logs do not say their zone and `--log-tz` is not given: tries every offset from -12:00
 * to +14:00 in 15-minute steps, and the local zone, and keeps the one under which most SMTP log
 * lines (Postfix, Exim) have their attempt on the wire (same client, within the tolerance). The
 * local zone is kept unless another lines up strictly more.
 */
export function estimateZone(events: readonly LogAuth[], wire: WireIndex): ZoneEstimate {
  const cand = events.filter((e) => e.guessed && SMTP_SERVICES.has(e.service));
  const step = Math.max(1, Math.ceil(cand.length / MAX_SAMPLE));
  const sample: LogAuth[] = [];
  for (let i = 0; i < cand.length; i += step) sample.push(cand[i]!);
  const score = (place: (e: LogAuth) => number): number => {
    let n = 0;
    for (const e of sample) if (wire.explains(e.ip, e.outcome, place(e))) n++;
    return n;
  };
  const localMatched = score((e) => wallToEpoch(e.wall, 'local'));
  let best = -1;
  let bestOff = 0;
  const localOff = sample.length > 0 ? zoneOffsetAt('local', sample[0]!.wall) : 0;
  for (let off = -720; off <= 840; off += 15) {
    const s = score((e) => e.wall - off * 60);
    if (s > best || (s === best && Math.abs(off - localOff) < Math.abs(bestOff - localOff))) {
      best = s;
      bestOff = off;
    }
  }
  if (best > localMatched) return { zone: bestOff, moved: true, sample: sample.length, matched: best, localMatched };
  return { zone: 'local', moved: false, sample: sample.length, matched: localMatched, localMatched };
}

/** Failure lines written by an authentication back end (Dovecot passdb, PAM) rather than the service the client spoke to. */
const BACKEND_REASONS = new Set(['password-mismatch', 'unknown-user', 'pam']);
/** A back end's line and the front end's line about the same attempt are at most this far apart (Dovecot's failure delay and penalty). */
export const BACKEND_WINDOW = 20;

function isBackend(e: LogAuth): boolean {
  return e.outcome === 'failure' && e.reason !== null && BACKEND_REASONS.has(e.reason) && !SMTP_SERVICES.has(e.service);
}

function canPair(back: LogAuth, front: LogAuth): boolean {
  if (back.service === 'ssh') return front.service === 'ssh';
  if (back.service === 'dovecot') return front.service === 'postfix' || front.service === 'exim' || front.service === 'dovecot';
  return false;
}

const compatible = (a: string | null, b: string | null): boolean => a === null || b === null || a === b;

/**
 * One failed attempt is often logged twice: by the front end the client spoke to (Postfix's
 * `SASL LOGIN authentication failed`, sshd's `Failed password`) and by the back end that checked
 * the password (Dovecot's `Password mismatch` / `unknown user`, `pam_unix(...): authentication
 * failure`). Each back-end line is merged into the earliest unpaired front-end line of the same
 * client and account within BACKEND_WINDOW seconds (a front end's 454 line too: Dovecot may log
 * the mismatch after Postfix gave up waiting and answered 454); a back-end line with no partner stays an
 * attempt of its own. Events must be placed (same clock) first; returns them in time order.
 */
export function mergeBackendLines(events: LogAuth[]): { merged: LogAuth[]; pairs: number } {
  const byIp = new Map<string, LogAuth[]>();
  for (const e of events) push(byIp, e.ip, e);
  const out: LogAuth[] = [];
  let pairs = 0;
  for (const list of byIp.values()) {
    list.sort((a, b) => a.ts - b.ts);
    const fronts: LogAuth[] = [];
    const backs: LogAuth[] = [];
    for (const e of list) (isBackend(e) ? backs : fronts).push(e);
    const used = new Uint8Array(fronts.length);
    let from = 0;
    for (const b of backs) {
      while (from < fronts.length && (used[from] || fronts[from]!.ts < b.ts - BACKEND_WINDOW)) from++;
      let hit = -1;
      for (let k = from; k < fronts.length && fronts[k]!.ts <= b.ts + BACKEND_WINDOW; k++) {
        const f = fronts[k]!;
        if (used[k] || f.outcome === 'success' || !canPair(b, f) || !compatible(b.user, f.user)) continue;
        hit = k;
        break;
      }
      if (hit < 0) {
        out.push(b);
        continue;
      }
      used[hit] = 1;
      pairs++;
      const f = fronts[hit]!;
      f.lines += b.lines;
      if (f.user === null) f.user = b.user;
      for (const s of b.services) if (!f.services.includes(s)) f.services.push(s);
    }
    for (const f of fronts) out.push(f); // no push(...fronts): one address may have millions of lines (call stack)
  }
  out.sort((a, b) => a.ts - b.ts || (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
  return { merged: out, pairs };
}
