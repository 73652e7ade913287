import type { FileCounters } from '../accounts/types.js';
import { SMTP_SERVICES } from './align.js';
import { contains, subtract } from './intervals.js';
import type { BlindSpots, OneSided, PeriodJson } from './report-doc.js';
import type { ReportInputs } from './report-options.js';
import type { Attempt, Intervals } from './types.js';
import type { WireData } from './wire.js';

/** Failures and logins per address, as the blind spots list them (a 454 counts as a failure here). */
class OneSidedAcc {
  private readonly m = new Map<string, { ip: string; failures: number; successes: number }>();
  private failures = 0;
  private successes = 0;

  add(a: Attempt): void {
    let e = this.m.get(a.ip);
    if (!e) this.m.set(a.ip, (e = { ip: a.ip, failures: 0, successes: 0 }));
    if (a.outcome === 'success') {
      e.successes++;
      this.successes++;
    } else {
      e.failures++;
      this.failures++;
    }
  }

  result(): OneSided {
    const addresses = [...this.m.values()].sort((a, b) => b.failures + b.successes - (a.failures + a.successes) || (a.ip < b.ip ? -1 : 1));
    return { failures: this.failures, successes: this.successes, addresses };
  }
}

/** The blind spots, fed attempt by attempt (what is kept: per address and per period, counts). */
export class BlindSpotsAccumulator {
  private readonly haveWire: boolean;
  private readonly haveLogs: boolean;
  private readonly op = new Map<string, BlindSpots['opaque_sessions']['addresses'][number]>();
  private readonly inside = { failures: 0, successes: 0, tempfails: 0 };
  /** Periods one side covers and the other does not (longer than the tolerance), with what the covering side saw in them. */
  private readonly periods: { kind: 'wire_only' | 'logs_only'; from: number; to: number; acc: OneSidedAcc }[] = [];
  /** Per side, its periods in time order (disjoint, perhaps touching). */
  private readonly sides: { pick: (a: Attempt) => boolean; list: { from: number; to: number; acc: OneSidedAcc }[] }[] = [];
  private readonly wireNotLogged = new OneSidedAcc();
  private readonly smtpSessions: number;
  private opaqueSessions: number;
  private readonly loggedNotOnWire = new OneSidedAcc();

  constructor(
    private readonly wire: WireData,
    private readonly logCov: Intervals,
    inputs: ReportInputs,
    tolerance: number,
  ) {
    this.haveWire = inputs.captures.length > 0 || inputs.state !== null;
    this.haveLogs = inputs.logs.length > 0;
    // Sessions gone opaque, and (from the attempts) what the logs say happened inside them.
    // The denominator: sessions with AUTH replies in the clear, and sessions gone opaque (kept or not).
    this.smtpSessions = wire.sessions.size + wire.opaqueNotKept;
    this.opaqueSessions = wire.opaqueNotKept;
    for (const s of wire.sessions) {
      if (s.tlsTs === null) continue;
      this.opaqueSessions++;
      let e = this.op.get(s.client);
      if (!e)
        this.op.set(
          s.client,
          (e = { ip: s.client, sessions: 0, ports: [], log_failures: 0, log_successes: 0, log_tempfails: 0, first_ts: s.start, last_ts: s.end }),
        );
      e.sessions++;
      if (!e.ports.includes(s.serverPort)) e.ports.push(s.serverPort);
      e.first_ts = Math.min(e.first_ts, s.start);
      e.last_ts = Math.max(e.last_ts, s.end);
    }
    if (this.haveWire && this.haveLogs) {
      const sides: ['wire_only' | 'logs_only', Intervals, (a: Attempt) => boolean][] = [
        ['wire_only', subtract(wire.coverage, logCov), (a) => a.seen === 'wire'],
        ['logs_only', subtract(logCov, wire.coverage), (a) => a.seen === 'log' && a.services.some((s) => SMTP_SERVICES.has(s))],
      ];
      for (const [kind, iv, pick] of sides) {
        const side = { pick, list: [] as { from: number; to: number; acc: OneSidedAcc }[] };
        for (const [from, to] of iv) {
          if (to - from <= tolerance) continue;
          const p = { kind, from, to, acc: new OneSidedAcc() };
          this.periods.push(p);
          side.list.push(p);
        }
        this.sides.push(side);
      }
    }
  }

  add(a: Attempt): void {
    if (a.tls) {
      const e = this.op.get(a.ip);
      if (e) {
        if (a.outcome === 'success') {
          e.log_successes++;
          this.inside.successes++;
        } else if (a.outcome === 'failure') {
          e.log_failures++;
          this.inside.failures++;
        } else {
          e.log_tempfails++;
          this.inside.tempfails++;
        }
      }
    }
    // The periods holding its time (they may touch at their ends: an attempt there counts in both).
    for (const { pick, list } of this.sides) {
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const m = (lo + hi) >> 1;
        if (list[m]!.to < a.ts) lo = m + 1;
        else hi = m;
      }
      for (let k = lo; k < list.length && list[k]!.from <= a.ts; k++) if (pick(a)) list[k]!.acc.add(a);
    }
    if (this.haveLogs && a.seen === 'wire' && !a.fromState && contains(this.logCov, a.ts)) this.wireNotLogged.add(a);
    if (this.haveWire && a.seen === 'log' && !a.tls && a.services.some((s) => SMTP_SERVICES.has(s)) && contains(this.wire.coverage, a.ts))
      this.loggedNotOnWire.add(a);
  }

  finish(logCounters: readonly FileCounters[]): BlindSpots {
    const { wire } = this;
    const missing: string[] = [];
    if (!this.haveWire) missing.push('no capture or state file: nothing was seen on the wire, failures inside logs only');
    if (!this.haveLogs) missing.push('no log files: logins inside TLS and everything the wire did not capture are invisible');
    let withLog = 0;
    for (const e of this.op.values()) {
      e.ports.sort((a, b) => a - b);
      if (e.log_failures + e.log_successes + e.log_tempfails > 0) withLog++;
    }
    const { opaqueSessions, smtpSessions } = this;
    const opaqueAddrs = [...this.op.values()].sort(
      (a, b) =>
        b.log_successes - a.log_successes ||
        b.log_failures - a.log_failures ||
        b.log_tempfails - a.log_tempfails ||
        b.sessions - a.sessions ||
        (a.ip < b.ip ? -1 : 1),
    );
    const periods: PeriodJson[] = this.periods.map(({ kind, from, to, acc }) => {
      const os = acc.result();
      return {
        kind,
        from,
        to,
        seconds: Math.round((to - from) * 1000) / 1000,
        failures: os.failures,
        successes: os.successes,
        addresses: os.addresses,
      };
    });
    periods.sort((a, b) => a.from - b.from);
    const empty = (): OneSided => ({ failures: 0, successes: 0, addresses: [] });
    const wireNotLogged = this.haveLogs ? this.wireNotLogged.result() : empty();
    const loggedNotOnWire = this.haveWire ? this.loggedNotOnWire.result() : empty();

    const unparseable = logCounters.filter((c) => c.unparseable > 0).map((c) => ({ file: c.file, lines: c.unparseable }));
    const readErrors = [
      ...logCounters.filter((c) => c.error).map((c) => ({ file: c.file, error: c.error! })),
      ...wire.captures.filter((f) => f.error).map((f) => ({ file: f.file, error: f.error!.message })),
    ];
    const cc = wire.captureCoverage;
    const capture = {
      gaps: cc?.gaps ?? 0,
      gap_bytes: cc?.gap_bytes ?? 0,
      midstream_starts: cc?.midstream_starts ?? 0,
      evicted_flows: cc ? (cc.evictions.flows ?? 0) : 0,
      auths_not_kept: wire.authsNotKept,
    };
    const count =
      missing.length +
      opaqueAddrs.length +
      periods.length +
      (wireNotLogged.addresses.length > 0 ? 1 : 0) +
      (loggedNotOnWire.addresses.length > 0 ? 1 : 0) +
      unparseable.length +
      readErrors.length +
      (capture.gaps + capture.evicted_flows + capture.auths_not_kept > 0 ? 1 : 0);
    return {
      count,
      missing,
      opaque_sessions: {
        total: wire.opaqueTotal,
        not_kept: wire.opaqueNotKept,
        with_log_attempts: withLog,
        inferred: { failures: cc?.inferred.failures ?? 0, successes: cc?.inferred.successes ?? 0, tempfails: cc?.inferred.tempfails ?? 0 },
        smtp_sessions: smtpSessions,
        mostly_opaque: smtpSessions > 0 && opaqueSessions * 2 > smtpSessions,
        log_attempts_inside: this.inside,
        addresses: opaqueAddrs,
      },
      periods,
      wire_not_logged: wireNotLogged,
      logged_not_on_wire: loggedNotOnWire,
      unparseable,
      read_errors: readErrors,
      capture,
    };
  }
}
