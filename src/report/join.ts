import { strikeKey } from '../strikes/address-key.js';
import type { Service } from '../accounts/types.js';
import type { Attempt, AttemptOutcome, LogAuth, Seen, WireAuth, WireSession } from './types.js';

/**
 * The join: per client address, the wire's AUTH outcomes and the log's lines become attempts.
 *
 *  - A failure (535) on the wire and a failure line in the log of the same client, within
 *    `tolerance` seconds, with the same username where both know it, are ONE attempt (matched in
 *    time order, earliest first); a 454 on the wire and a tempfail line in the log (Postfix's
 *    `Connection lost to authentication server`) likewise. A log line joins a wire reply of its
 *    own kind when one is in reach, else any (a log that writes a 454 as a plain failure, as
 *    Exim's `authenticator failed` does): the wire's reply code decides the attempt's outcome.
 *  - A success line in the log belongs to the wire's 235 of the same client whose session it falls
 *    in (from the 235 to the session's end, ± tolerance; Postfix writes it when the mail comes, not
 *    at AUTH time), and several success lines of one session (one per mail) are one login.
 *  - A log line that falls in a session the wire saw go opaque (STARTTLS, TLS) is an attempt the
 *    wire could not see: `tls`. Several success lines in one such session are one login.
 *  - What only one side saw stays an attempt of that side.
 */

export interface JoinStats {
  /** Attempts seen on the wire only. */
  wireOnly: number;
  /** Attempts seen in the logs only. */
  logOnly: number;
  /** Attempts seen on the wire and in a log. */
  both: number;
  /** Log-only attempts inside sessions the wire saw go opaque. */
  insideTls: number;
}

/** Sessions of one client looked at backwards from the latest candidate (they may overlap in time). */
const OVERLAP_SCAN = 64;

const compatible = (a: string | null, b: string | null): boolean => a === null || b === null || a === b;

function group<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const l = m.get(k);
    if (l) l.push(it);
    else m.set(k, [it]);
  }
  return m;
}

/**
 * The address a log line joins under: its own, or the IPv6 prefix a state file counted it in
 * (`2001:db8:1::/64`), when the wire only knows the prefix.
 */
export function prefixMapper(wireClients: Iterable<string>): (ip: string) => string {
  const bits = new Set<number>();
  const keys = new Set<string>();
  for (const c of wireClients) {
    const slash = c.indexOf('/');
    if (slash > 0 && c.includes(':')) {
      bits.add(Number(c.slice(slash + 1)));
      keys.add(c);
    }
  }
  if (bits.size === 0) return (ip) => ip;
  return (ip) => {
    if (!ip.includes(':')) return ip;
    for (const b of bits) {
      const k = strikeKey(ip, b);
      if (keys.has(k)) return k;
    }
    return ip;
  };
}

export function joinAttempts(
  wire: readonly WireAuth[],
  sessions: readonly WireSession[],
  logs: readonly LogAuth[],
  tolerance: number,
): { attempts: Attempt[]; stats: JoinStats } {
  const mapIp = prefixMapper(new Set(wire.map((w) => w.client)));
  const wBy = group(wire, (w) => w.client);
  const lBy = group(logs, (l) => mapIp(l.ip));
  const sBy = group(sessions, (s) => s.client);
  const sessionOf = new Map<number, WireSession>();
  for (const s of sessions) sessionOf.set(s.flow, s);
  const stats: JoinStats = { wireOnly: 0, logOnly: 0, both: 0, insideTls: 0 };
  const out: Attempt[] = [];
  const ips = new Set<string>([...wBy.keys(), ...lBy.keys()]);

  for (const ip of ips) {
    const w = (wBy.get(ip) ?? []).slice().sort((a, b) => a.ts - b.ts);
    const l = (lBy.get(ip) ?? []).slice().sort((a, b) => a.ts - b.ts);
    const opaque = (sBy.get(ip) ?? []).filter((s) => s.tlsTs !== null).sort((a, b) => a.tlsTs! - b.tlsTs!);
    const wFail = w.filter((a) => a.outcome !== 'success');
    const wOk = w.filter((a) => a.outcome === 'success');
    const lFail = l.filter((a) => a.outcome !== 'success');
    const lOk = l.filter((a) => a.outcome === 'success');

    const opaqueAt = (ts: number): WireSession | null => {
      // The last session gone opaque by `ts`, then a few before it (sessions of one client may overlap).
      let lo = 0;
      let hi = opaque.length;
      while (lo < hi) {
        const m = (lo + hi) >> 1;
        if (opaque[m]!.tlsTs! - tolerance <= ts) lo = m + 1;
        else hi = m;
      }
      for (let k = lo - 1; k >= 0 && k >= lo - OVERLAP_SCAN; k--) {
        const s = opaque[k]!;
        if (ts <= s.end + tolerance) return s;
      }
      return null;
    };

    // Failures: order-preserving, earliest unmatched compatible wire failure within the tolerance.
    const usedF = new Uint8Array(wFail.length);
    const partnerF: (LogAuth | null)[] = new Array<LogAuth | null>(wFail.length).fill(null);
    let from = 0;
    for (const e of lFail) {
      while (from < wFail.length && (usedF[from] || wFail[from]!.ts < e.ts - tolerance)) from++;
      let hit = -1;
      let other = -1;
      for (let k = from; k < wFail.length && wFail[k]!.ts <= e.ts + tolerance; k++) {
        if (!usedF[k] && compatible(wFail[k]!.user, e.user)) {
          if (wFail[k]!.outcome === e.outcome) {
            hit = k;
            break;
          }
          if (other < 0) other = k;
        }
      }
      if (hit < 0) hit = other;
      if (hit >= 0) {
        usedF[hit] = 1;
        partnerF[hit] = e;
        continue;
      }
      const s = opaqueAt(e.ts);
      const att = logAttempt(ip, e, e.outcome, s !== null);
      if (s) {
        stats.insideTls++;
        inSession(att, s);
      }
      stats.logOnly++;
      out.push(att);
    }
    for (let k = 0; k < wFail.length; k++) {
      const a = wFail[k]!;
      const e = partnerF[k];
      if (e) stats.both++;
      else stats.wireOnly++;
      out.push(wireAttempt(ip, a, e ?? null));
    }

    // Successes: a log line joins the latest compatible wire 235 whose session it falls in.
    const okAtt = wOk.map((a) => wireAttempt(ip, a, null));
    const tlsLogins = new Map<number, Attempt>();
    for (const e of lOk) {
      // The latest 235 at most `tolerance` after the line, then a few before it.
      let lo = 0;
      let hi = wOk.length;
      while (lo < hi) {
        const m = (lo + hi) >> 1;
        if (wOk[m]!.ts - tolerance <= e.ts) lo = m + 1;
        else hi = m;
      }
      let hit = -1;
      for (let k = lo - 1; k >= 0 && k >= lo - OVERLAP_SCAN; k--) {
        const a = wOk[k]!;
        const end = (sessionOf.get(a.flow)?.end ?? a.ts) + tolerance;
        if (e.ts <= end && compatible(a.user, e.user)) {
          hit = k;
          break;
        }
      }
      if (hit >= 0) {
        merge(okAtt[hit]!, e);
        continue;
      }
      const s = opaqueAt(e.ts);
      if (s) {
        const prev = tlsLogins.get(s.flow);
        if (prev && compatible(prev.user, e.user)) {
          merge(prev, e);
          continue;
        }
        const att = logAttempt(ip, e, 'success', true);
        inSession(att, s);
        tlsLogins.set(s.flow, att);
        stats.logOnly++;
        stats.insideTls++;
        out.push(att);
        continue;
      }
      stats.logOnly++;
      out.push(logAttempt(ip, e, 'success', false));
    }
    for (const att of okAtt) {
      if (att.seen === 'both') stats.both++;
      else stats.wireOnly++;
      out.push(att);
    }
  }
  out.sort((a, b) => a.ts - b.ts || (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
  return { attempts: out, stats };
}

/** An Attempt made with `new`, not an object literal (see LogRow in log-store.ts). */
class AttemptRow implements Attempt {
  constructor(
    public ts: number,
    public ip: string,
    public user: string | null,
    public outcome: AttemptOutcome,
    public seen: Seen,
    public tls: boolean,
    public mech: string | null,
    public port: number | null,
    public services: Service[],
    public logLines: number,
    public fromState: boolean,
  ) {}
}

function wireAttempt(ip: string, a: WireAuth, e: LogAuth | null): Attempt {
  return new AttemptRow(
    a.ts,
    ip,
    a.user ?? e?.user ?? null,
    a.outcome,
    e ? 'both' : 'wire',
    false,
    a.mech ?? e?.method ?? null,
    a.serverPort || null,
    e ? e.services.slice() : [],
    e ? e.lines : 0,
    a.source === 'state',
  );
}

function logAttempt(ip: string, e: LogAuth, outcome: AttemptOutcome, tls: boolean): Attempt {
  return new AttemptRow(e.ts, ip, e.user, outcome, 'log', tls, e.method, null, e.services.slice(), e.lines, false);
}

/**
 * A log-only attempt inside a session the wire saw go opaque happened after the STARTTLS and
 * before the session ended: logs with whole seconds may put it a fraction earlier than wire events
 * of the same second, which would misorder "failed, then logged in".
 */
function inSession(att: Attempt, s: WireSession): void {
  att.port = s.serverPort;
  att.ts = Math.min(Math.max(att.ts, s.tlsTs!), s.end);
}

function merge(att: Attempt, e: LogAuth): void {
  if (att.seen === 'wire') att.seen = 'both';
  att.logLines += e.lines;
  if (att.user === null) att.user = e.user;
  if (att.mech === null) att.mech = e.method;
  for (const s of e.services) if (!att.services.includes(s)) att.services.push(s);
}
