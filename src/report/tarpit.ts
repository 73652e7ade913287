import { canonicalIp, intern } from '../accounts/ip.js';
import { LineSplitter, openLog } from '../accounts/reader.js';
import type { Compression } from '../accounts/types.js';
import type { TarpitAttackerJson, TarpitFileJson, TarpitJson, TarpitWireJson, VerdictName } from './report-doc.js';
import type { WireSession } from './types.js';
import type { WireAuths, WireSessions } from './wire-store.js';

/**
 * The TARPITTED section: what watch's tarpit logged (one pino JSON line per finished tarpit
 * connection, `event: 'tarpit_session'`, and one per connection a cap refused, `tarpit_refused`),
 * summed per attacker address while the lines are read — nothing per line or per session is kept.
 * Watch's log holds other events too, and whatever else was written to the same file; a line
 * that is not JSON is counted (`garbage`) and skipped, a tarpit line of the wrong shape likewise
 * (`malformed`).
 *
 * The tarpit answers some AUTH attempts with a decoy 235. A capture of the SMTP port sees that
 * conversation too (the redirect happens after the capture point), and a 235 after 535s is what
 * makes the report say COMPROMISED. So every wire session that a tarpit session served — same
 * client address, same client port (when the tarpit logged one), starting within the tarpit
 * session's time (± the join's tolerance) — is taken out of the wire before the join: its AUTH
 * outcomes were the decoy's, not the mail server's; `wire_excluded` counts them.
 */

/** Attackers listed (beyond: their sessions are counted in the totals and in `sessions_not_listed`). */
export const MAX_TARPIT_ATTACKERS = 100_000;
/** Distinct usernames kept per attacker (beyond: counted in `usernames_more`), as many as the tarpit logs per session. */
export const MAX_TARPIT_USERNAMES = 16;
/** Characters kept of a username (longer ones are cut, ending in `…`): 100,000 attackers × 16 names stay within a few hundred MB. */
export const MAX_TARPIT_USERNAME_CHARS = 64;

interface Attacker {
  ip: string;
  sessions: number;
  held: number;
  longest: number;
  auths: number;
  decoys: number;
  users: string[];
  usersMore: number;
  refused: number;
  first: number;
  last: number;
}

interface WireStart {
  start: number;
  port: number;
  flow: number;
}

/** A pino line's `time`: epoch milliseconds (pino's default) or ISO text (watch's `isoTime`); seconds, or NaN. */
function pinoTime(v: unknown): number {
  if (typeof v === 'number') return v / 1000;
  if (typeof v === 'string') return Date.parse(v) / 1000;
  return NaN;
}

const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);

/** A line that looks like pino's JSON: an object with a numeric `level`. */
export function isPinoLine(line: string): boolean {
  return line.charCodeAt(0) === 123 && line.includes('"level":');
}

export class TarpitAggregator {
  private readonly attackers = new Map<string, Attacker>();
  private readonly files = new Map<string, TarpitFileJson>();
  private sessions = 0;
  private held = 0;
  private auths = 0;
  private decoys = 0;
  private refusedTotal = 0;
  private refusedPerAddress = 0;
  private notListedSessions = 0;
  private notListedHeld = 0;
  /** Wire sessions per client, by start, for the decoy exclusion; null without a wire. */
  private readonly wire: Map<string, WireStart[]> | null;
  private readonly served = new Set<number>();

  constructor(
    wireSessions: Iterable<WireSession>,
    private readonly tolerance: number,
    private readonly maxAttackers = MAX_TARPIT_ATTACKERS,
  ) {
    const wire = new Map<string, WireStart[]>();
    for (const s of wireSessions) {
      const l = wire.get(s.client);
      const e = { start: s.start, port: s.clientPort, flow: s.flow };
      if (l) l.push(e);
      else wire.set(s.client, [e]);
    }
    for (const l of wire.values()) l.sort((a, b) => a.start - b.start);
    this.wire = wire.size > 0 ? wire : null;
  }

  /** Whether any tarpit event was read. */
  get any(): boolean {
    return this.sessions + this.refusedTotal + this.refusedPerAddress > 0;
  }

  file(name: string, compression: Compression = 'none'): TarpitFileJson {
    let f = this.files.get(name);
    if (!f) {
      f = newFile(name, compression);
      this.files.set(name, f);
    }
    return f;
  }

  /**
   * A line met in a mail log (a watch log arriving as a stream, or mixed into one): taken, and
   * true, when it is a pino line; the file is listed from its first such line on.
   */
  logLine(name: string, line: string, compression: Compression = 'none'): boolean {
    if (!isPinoLine(line)) return false;
    const f = this.files.get(name) ?? newFile(name, compression);
    if (!this.line(line, f)) return false;
    f.lines++;
    this.files.set(name, f);
    return true;
  }

  /**
   * One line of a watch log (or a pino line met in a mail log). Returns false when it is not a
   * pino JSON line (the caller counts it).
   */
  line(line: string, f: TarpitFileJson): boolean {
    if (line.charCodeAt(0) !== 123) return false;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      return false;
    }
    if (o === null || typeof o !== 'object' || Array.isArray(o) || typeof (o as { level?: unknown }).level !== 'number') return false;
    const r = o as Record<string, unknown>;
    if (typeof r.event !== 'string') {
      f.other_lines++;
      return true;
    }
    f.events++;
    if (r.event === 'tarpit_session') {
      if (this.session(r)) f.tarpit_sessions++;
      else f.malformed++;
    } else if (r.event === 'tarpit_refused') {
      if (this.refused(r)) f.tarpit_refused++;
      else f.malformed++;
    } else f.other_lines++;
    return true;
  }

  private attacker(ip: string, at: number): Attacker | null {
    let a = this.attackers.get(ip);
    if (!a) {
      if (this.attackers.size >= this.maxAttackers) return null;
      const known = Number.isFinite(at);
      a = {
        ip,
        sessions: 0,
        held: 0,
        longest: 0,
        auths: 0,
        decoys: 0,
        users: [],
        usersMore: 0,
        refused: 0,
        first: known ? at : Infinity,
        last: known ? at : -Infinity,
      };
      this.attackers.set(ip, a);
    }
    return a;
  }

  private session(r: Record<string, unknown>): boolean {
    const ip = typeof r.client === 'string' ? canonicalIp(r.client) : null;
    const held = r.held_s;
    if (ip === null || typeof held !== 'number' || !Number.isFinite(held) || held < 0) return false;
    let started = typeof r.started === 'number' && Number.isFinite(r.started) ? r.started : pinoTime(r.time) - held;
    if (!Number.isFinite(started)) return false;
    started = Math.max(0, started);
    const auths = count(r.auth_attempts);
    const decoys = count(r.decoy_successes);
    this.sessions++;
    this.held += held;
    this.auths += auths;
    this.decoys += decoys;
    const port = count(r.client_port);
    this.markServed(ip, port, started, started + held);
    const a = this.attacker(ip, started);
    if (!a) {
      this.notListedSessions++;
      this.notListedHeld += held;
      return true;
    }
    a.sessions++;
    a.held += held;
    if (held > a.longest) a.longest = held;
    a.auths += auths;
    a.decoys += decoys;
    a.first = Math.min(a.first, started);
    a.last = Math.max(a.last, started + held);
    if (Array.isArray(r.usernames)) {
      for (const u of r.usernames) {
        if (typeof u !== 'string') continue;
        const name = u.length > MAX_TARPIT_USERNAME_CHARS ? `${u.slice(0, MAX_TARPIT_USERNAME_CHARS - 1)}…` : u;
        if (a.users.includes(name)) continue;
        if (a.users.length < MAX_TARPIT_USERNAMES) a.users.push(intern(name));
        else a.usersMore++;
      }
    }
    a.usersMore += count(r.usernames_dropped);
    return true;
  }

  private refused(r: Record<string, unknown>): boolean {
    const ip = typeof r.client === 'string' ? canonicalIp(r.client) : null;
    if (ip === null || (r.reason !== 'total' && r.reason !== 'per_address')) return false;
    if (r.reason === 'total') this.refusedTotal++;
    else this.refusedPerAddress++;
    const at = pinoTime(r.time);
    const a = this.attacker(ip, at);
    if (!a) return true;
    a.refused++;
    if (Number.isFinite(at)) {
      a.first = Math.min(a.first, at);
      a.last = Math.max(a.last, at);
    }
    return true;
  }

  /** The wire sessions this tarpit session was: same client and port, starting within its time. */
  private markServed(ip: string, port: number, from: number, to: number): void {
    const l = this.wire?.get(ip);
    if (!l) return;
    const lo = from - this.tolerance;
    const hi = to + this.tolerance;
    let a = 0;
    let b = l.length;
    while (a < b) {
      const m = (a + b) >>> 1;
      if (l[m]!.start < lo) a = m + 1;
      else b = m;
    }
    for (let i = a; i < l.length && l[i]!.start <= hi; i++) {
      const s = l[i]!;
      if (port === 0 || s.port === port) this.served.add(s.flow);
    }
  }

  /**
   * Takes the wire sessions tarpit sessions served, and their AUTH outcomes, out of the wire;
   * `opaque`: how many of those sessions had gone opaque (STARTTLS to the decoy).
   */
  excludeServed(auths: WireAuths, sessions: WireSessions): { json: TarpitWireJson; opaque: number } {
    const out: TarpitWireJson = { sessions: 0, failures: 0, successes: 0, tempfails: 0 };
    let opaque = 0;
    if (this.served.size === 0) return { json: out, opaque };
    auths.filter((i) => {
      const flow = auths.flowAt(i);
      if (!(flow >= 0 && this.served.has(flow))) return true;
      const outcome = auths.outcomeAt(i);
      if (outcome === 'success') out.successes++;
      else if (outcome === 'failure') out.failures++;
      else out.tempfails++;
      return false;
    });
    sessions.filter((i) => {
      if (!this.served.has(sessions.flowAt(i))) return true;
      out.sessions++;
      if (sessions.opaqueAt(i)) opaque++;
      return false;
    });
    return { json: out, opaque };
  }

  /** The section, attackers by time held (most first); `verdictsOf` joins the report's verdicts. */
  result(wireExcluded: TarpitWireJson, verdictsOf: (ip: string) => readonly VerdictName[]): TarpitJson {
    const attackers: TarpitAttackerJson[] = [...this.attackers.values()]
      .sort((x, y) => y.held - x.held || y.sessions - x.sessions || y.refused - x.refused || (x.ip < y.ip ? -1 : 1))
      .map((a) => ({
        ip: a.ip,
        sessions: a.sessions,
        held_s: round3(a.held),
        longest_s: round3(a.longest),
        auth_attempts: a.auths,
        decoy_successes: a.decoys,
        usernames: a.users,
        usernames_more: a.usersMore,
        refused: a.refused,
        first_ts: Number.isFinite(a.first) ? a.first : null,
        last_ts: Number.isFinite(a.last) ? a.last : null,
        verdicts: verdictsOf(a.ip).filter((v) => v === 'COMPROMISED' || v === 'SUSPECT'),
      }));
    return {
      attackers_count: attackers.length,
      sessions: this.sessions,
      held_s: round3(this.held),
      hours: Math.round((this.held / 3600) * 100) / 100,
      auth_attempts: this.auths,
      decoy_successes: this.decoys,
      refused: { total: this.refusedTotal, per_address: this.refusedPerAddress },
      sessions_not_listed: this.notListedSessions,
      held_s_not_listed: round3(this.notListedHeld),
      wire_excluded: wireExcluded,
      files: [...this.files.values()],
      attackers,
    };
  }
}

function newFile(file: string, compression: Compression): TarpitFileJson {
  return { file, compression, lines: 0, events: 0, tarpit_sessions: 0, tarpit_refused: 0, other_lines: 0, malformed: 0, garbage: 0, error: null };
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Reads watch logs (plain or compressed, as the log reader opens them) into the aggregator. */
export async function readWatchLogs(files: readonly string[], agg: TarpitAggregator): Promise<void> {
  for (const file of files) {
    const f = agg.file(file);
    const splitter = new LineSplitter();
    const onLine = (line: string): void => {
      if (line.length === 0) return;
      if (!agg.line(line, f)) f.garbage++;
    };
    try {
      const log = await openLog(file);
      f.compression = log.compression;
      for await (const chunk of log.chunks) splitter.push(chunk, onLine);
      splitter.end(onLine);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      f.error = err.code === 'ENOENT' ? `${file}: no such file` : err.code === 'EACCES' ? `${file}: permission denied` : `${file}: ${err.message}`;
    }
    f.lines = splitter.lineNo;
  }
}

/**
 * Whether the head of a file (its first 64 KiB, decompressed) is a watch log: among its first
 * 64 complete non-empty lines, at least one pino line with an `event`, and pino lines at least
 * half of them (other lines may be mixed in: stderr, a note).
 */
export function looksLikeWatchLog(head: string): boolean {
  head = head.slice(0, 65536);
  let pino = 0;
  let withEvent = 0;
  let other = 0;
  const end = head.lastIndexOf('\n');
  if (end < 0) return false;
  for (const line of head.slice(0, end).split('\n').slice(0, 256)) {
    const l = line.trim();
    if (l.length === 0) continue;
    if (isPinoLine(l)) {
      try {
        const o = JSON.parse(l) as unknown;
        if (o !== null && typeof o === 'object' && typeof (o as { level?: unknown }).level === 'number') {
          pino++;
          if (typeof (o as { event?: unknown }).event === 'string') withEvent++;
        } else other++;
      } catch {
        other++;
      }
    } else other++;
    if (pino + other >= 64) break;
  }
  return withEvent > 0 && pino >= other;
}
