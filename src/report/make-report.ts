import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { isoTime as zonedIso, type Zone } from '../accounts/clock.js';
import type { FileCounters, Mode } from '../accounts/types.js';
import type { Whitelist } from '../accounts/whitelist.js';
import { GeoIp, geoInfoJson, geoText, type GeoInfo } from '../geoip/geoip.js';
import type { PipelineOptions } from '../pipeline.js';
import { estimateZone, offsetLabel, SMTP_SERVICES, wallToEpoch, WireIndex, zoneOffsetAt } from './align.js';
import { EventList, joinByAddress, MAX_LISTED_EVENTS, zoneSample } from './join-stream.js';
import { LogStore } from './log-store.js';
import { contains, span, subtract, unionAll } from './intervals.js';
import { scanLogs } from './logs.js';
import { readWatchLogs, TarpitAggregator } from './tarpit.js';
import { bump, VerdictAccumulator, VERDICT_ORDER } from './rules.js';
import type { Attempt, Intervals } from './types.js';
import {
  REPORT_SCHEMA_VERSION,
  type AddressJson,
  type AddressStat,
  type BlindSpots,
  type Counts3,
  type GeoJson,
  type OneSided,
  type PeriodJson,
  type PlaceCount,
  type ReportDoc,
  type VerdictCounts,
} from './report-doc.js';
import { emptyWire, mergeState, readCaptures, type WireData } from './wire.js';
import { learnFailureText } from './reply-texts.js';
import { ReplyResolver } from '../tls/reply-profiles.js';

/**
 * `smtpstrike report`: the wire (captures replayed through the pipeline, or a watch state file)
 * and the logs (the accounts parsers) joined into one document — the verdicts, every address with
 * its timeline, counts per country and ASN, and the blind spots. Text, JSON and HTML are all
 * renderings of this one document, so they cannot disagree.
 */

export interface ReportInputs {
  captures: string[];
  state: string | null;
  logs: string[];
  /** Watch's own logs (pino JSON lines), for the TARPITTED section. */
  watchLogs?: string[];
}

export interface ReportOptions {
  pipeline: PipelineOptions;
  mode: Mode;
  /** `--log-year`. */
  logYear?: number;
  /** `--log-tz`; undefined: estimated against the wire (or local when there is no wire). */
  logTz?: Zone;
  /** Zone of the report's days and times. */
  zone: Zone;
  tolerance: number;
  gap: number;
  minFailures: number;
  distributedMin: number;
  distributedWindow: number;
  limit: number;
  whitelist: Whitelist | null;
  geoLevel: number;
  geoDb: string[];
  warn: (msg: string) => void;
  /** Timeline events listed per address (beyond: counted). */
  eventsPerAddress?: number;
}

const zero = (): Counts3 => ({ all: 0, wire_only: 0, log_only: 0, both: 0 });

export function zoneLabel(zone: Zone, at: number): string {
  return zone === 'local' ? `local (${offsetLabel(zoneOffsetAt('local', at))})` : offsetLabel(zone);
}

export async function makeReport(inputs: ReportInputs, o: ReportOptions): Promise<ReportDoc> {
  const warnings: string[] = [];
  const warn = (m: string): void => {
    warnings.push(m);
    o.warn(m);
  };

  // ---- the 535 text of the server, from its log, for the TLS inference on the captures
  const tlsReplies = await logReplies(inputs, o, warn);

  // ---- the wire
  const wire = inputs.captures.length > 0 ? await readCaptures(inputs.captures, tlsReplies.pipeline, o.gap) : emptyWire();
  if (inputs.state) mergeState(wire, inputs.state);
  const wireSpan = span(wire.coverage);
  const center = wireSpan ? (wireSpan[0] + wireSpan[1]) / 2 : undefined;

  // ---- the tarpit's sessions (watch's log, or its lines met in the logs); the wire sessions it served leave the wire
  const tarpit = new TarpitAggregator(wire.sessions, o.tolerance);
  const watchLogs = inputs.watchLogs ?? [];
  await readWatchLogs(watchLogs, tarpit);

  // ---- the logs, on the wire's clock (their outcomes in columns: log-store.ts)
  const store = new LogStore();
  const scan = await scanLogs(inputs.logs, {
    mode: o.mode,
    year: o.logYear,
    center: o.logYear === undefined ? center : undefined,
    gap: o.gap,
    tarpit,
    store,
  });
  const served = tarpit.excludeServed(wire.auths, wire.sessions);
  wire.opaqueTotal -= served.opaque;
  const zoneless = scan.files.reduce((s, f) => s + f.zoneless, 0);
  const yearless = scan.files.reduce((s, f) => s + f.yearless, 0);
  let zone: Zone = 'local';
  let tzSource: ReportDoc['clock']['log_tz_source'] = 'local';
  let estimate: ReportDoc['clock']['estimate'] = null;
  const at = center ?? (store.size > 0 ? store.wallAt(0) : Date.now() / 1000);
  if (o.logTz !== undefined) {
    zone = o.logTz;
    tzSource = 'option';
  } else if (wireSpan && zoneless > 0) {
    const est = estimateZone(zoneSample(store), new WireIndex(wire.auths, wire.sessions, o.tolerance));
    zone = est.zone;
    tzSource = est.moved ? 'estimated' : 'local';
    estimate = { sample: est.sample, matched: est.matched, local_matched: est.localMatched };
    if (est.moved) {
      warn(
        `log timestamps carry no zone: placed at UTC${offsetLabel(est.zone as number)}, where ${est.matched} of ${est.sample} SMTP log lines line up with the wire (the local zone: ${est.localMatched}); --log-tz sets it`,
      );
    } else {
      warn(
        `log timestamps carry no zone: read in the local zone ${zoneLabel('local', at)}` +
          (est.sample > 0 ? ` (${est.matched} of ${est.sample} SMTP log lines line up with the wire)` : '') +
          '; --log-tz sets it',
      );
    }
  } else if (zoneless > 0) {
    warn(`log timestamps carry no zone: read in the local zone ${zoneLabel('local', at)}; --log-tz sets it`);
  }
  let yearSource: ReportDoc['clock']['log_year_source'] = null;
  let logYear: number | null = null;
  if (yearless > 0) {
    if (o.logYear !== undefined) {
      yearSource = 'option';
      logYear = o.logYear;
    } else if (center !== undefined) {
      yearSource = 'wire';
      logYear = new Date(center * 1000).getUTCFullYear();
      warn(`log timestamps carry no year: each placed in the year nearest the wire's time (${logYear}); --log-year sets it`);
    } else {
      yearSource = 'file time';
      warn("log timestamps carry no year: guessed from each file's modification time; --log-year sets it");
    }
  }
  // ---- coverage: the logs' (on the chosen zone) and the wire's
  const logCoverage = unionAll(
    scan.files.map((f) => f.wallCoverage.map(([a, b]): [number, number] => (f.coverageGuessed ? [wallToEpoch(a, zone), wallToEpoch(b, zone)] : [a, b]))),
  );
  const logSpan = span(logCoverage);

  // ---- GeoIP (the whitelist's rules may need it while the verdicts are made)
  let geo: GeoIp | null = null;
  const needGeo = o.geoLevel > 0 || (o.whitelist?.needsGeo ?? false);
  if (needGeo && (wire.auths.size > 0 || store.size > 0)) {
    geo = new GeoIp(o.geoDb, warn);
    if (!geo.available) {
      warn('GeoIP is unavailable: addresses are listed without places');
      geo = null;
    }
  }
  const geoOf = (ip: string): GeoInfo | null => (geo && !ip.includes('/') ? geo.lookup(ip) : null);

  // ---- the join and the verdicts, address by address: each address's log lines are made objects,
  // joined with its wire outcomes, and folded into the verdicts, the totals, the blind spots and
  // its listed events; then dropped (issue 15: bounded memory)
  const acc = new VerdictAccumulator(wire.blocks, {
    minFailures: o.minFailures,
    hitcount: o.pipeline.strikes.hitcount,
    seconds: o.pipeline.strikes.seconds,
    tempfailStrikes: o.pipeline.strikes.tempfailStrikes,
    distributedMin: o.distributedMin,
    distributedWindow: o.distributedWindow,
    limit: o.limit,
    zone: o.zone,
    whitelist: o.whitelist,
    geoOf,
  });
  const totals: ReportDoc['totals'] = {
    addresses: 0,
    attempts: 0,
    failures: zero(),
    successes: zero(),
    tempfails: zero(),
    inside_tls: 0,
    join: { wireOnly: 0, logOnly: 0, both: 0, insideTls: 0 },
  };
  const blindAcc = new BlindSpotsAccumulator(wire, logCoverage, inputs, o.tolerance);
  const perAddress = o.eventsPerAddress ?? 500;
  const listed = new EventList(perAddress);
  let pairs = 0;
  joinByAddress(wire, store, zone, o.tolerance, (ip, attempts, stats, merged) => {
    pairs += merged;
    const j = totals.join;
    j.wireOnly += stats.wireOnly;
    j.logOnly += stats.logOnly;
    j.both += stats.both;
    j.insideTls += stats.insideTls;
    if (attempts.length === 0) return;
    acc.addAddress(ip, attempts);
    listed.add(ip, attempts);
    for (const a of attempts) {
      totals.attempts++;
      const c = a.outcome === 'failure' ? totals.failures : a.outcome === 'success' ? totals.successes : totals.tempfails;
      bump(c, a.seen);
      if (a.tls) totals.inside_tls++;
      blindAcc.add(a);
    }
  });
  // The rows are not needed past the join: their memory goes back before the verdicts and the document are made.
  store.release();
  wire.auths.release();
  wire.sessions.release();
  collectNow();
  const v = acc.finish();
  if (geo?.failed) {
    warn('GeoIP is unavailable: addresses are listed without places');
    geo = null;
  }
  const geoLevel = geo ? o.geoLevel : 0;

  // ---- addresses, most urgent first (their events: at most perAddress each, MAX_LISTED_EVENTS in all)
  const rank = (s: AddressStat): number => (s.verdicts.length > 0 ? VERDICT_ORDER.indexOf(s.verdicts[0]!) : VERDICT_ORDER.length);
  let budget = MAX_LISTED_EVENTS;
  const addresses: AddressJson[] = [...v.addresses.values()]
    .sort((a, b) => rank(a) - rank(b) || b.failures.all - a.failures.all || b.successes.all - a.successes.all || (a.ip < b.ip ? -1 : 1))
    .map((s) => {
      const g = geoLevel > 0 ? geoOf(s.ip) : null;
      const ev = listed.take(s.ip, budget);
      budget -= ev.events.length;
      // The statistics object becomes the address's entry (its fields, then these three, in this
      // order: what `{ ...s, geo, events, events_not_listed }` gave) — not a copy of each.
      const a = s as AddressJson;
      a.geo = g ? geoJson(g, geoLevel) : null;
      a.events = ev.events;
      a.events_not_listed = ev.notListed;
      return a;
    });
  totals.addresses = addresses.length;
  listed.release();

  // ---- countries and ASNs
  const countries = new Map<string, PlaceCount>();
  const asns = new Map<string, PlaceCount>();
  if (geoLevel > 0) {
    for (const a of addresses) {
      const g = a.geo;
      const ck = g?.country_code ?? (g?.label ? `label:${g.label}` : 'unknown');
      const cn = g?.country ?? g?.label ?? 'Unknown';
      const ak = g?.asn != null ? `AS${g.asn}` : g?.label ? `label:${g.label}` : 'unknown';
      const an = g?.asn != null ? `AS${g.asn}${g.org ? ` ${g.org}` : ''}` : (g?.label ?? 'Unknown');
      for (const [m, k, n] of [
        [countries, ck, cn],
        [asns, ak, an],
      ] as const) {
        let c = m.get(k);
        if (!c) m.set(k, (c = { key: k, name: n, addresses: 0, failures: 0, successes: 0, tempfails: 0, compromised: 0, attacked: 0 }));
        c.addresses++;
        c.failures += a.failures.all;
        c.successes += a.successes.all;
        c.tempfails += a.tempfails.all;
        if (a.verdicts.includes('COMPROMISED')) c.compromised++;
        if (a.verdicts.includes('ATTACKED')) c.attacked++;
      }
    }
  }
  const byWeight = (a: PlaceCount, b: PlaceCount): number =>
    b.compromised - a.compromised || b.failures + b.tempfails - (a.failures + a.tempfails) || b.successes - a.successes || (a.key < b.key ? -1 : 1);

  // ---- blind spots
  const blind = blindAcc.finish(scan.files.map((f) => f.counters));

  const counts: VerdictCounts = { COMPROMISED: 0, SUSPECT: 0, DISTRIBUTED: 0, ATTACKED: 0, BLIND_SPOTS: blind.count };
  for (const r of v.rows) counts[r.verdict]++;
  for (const c of scan.files) if (c.counters.error) warn(c.counters.error);
  for (const f of wire.captures) if (f.error) warn(f.error.message); // the message names the file
  const tarpitDoc = watchLogs.length > 0 || tarpit.any ? tarpit.result(served.json, (ip) => v.addresses.get(ip)?.verdicts ?? []) : null;
  for (const f of tarpitDoc?.files ?? []) if (f.error) warn(f.error);

  return {
    type: 'report',
    version: REPORT_SCHEMA_VERSION,
    generated_at: new Date().toISOString(),
    tz: zoneLabel(o.zone, at),
    inputs: { captures: wire.captures, state: wire.state, logs: scan.files.map((f) => f.counters) },
    clock: {
      log_tz: zoneLabel(zone, at),
      log_tz_offset_min: zoneOffsetAt(zone, at),
      log_tz_source: tzSource,
      log_year: logYear,
      log_year_source: yearSource,
      zoneless_lines: zoneless,
      yearless_lines: yearless,
      estimate,
      backend_lines_merged: pairs,
    },
    spans: {
      wire: wireSpan ? { from: wireSpan[0], to: wireSpan[1], intervals: wire.coverage } : null,
      logs: logSpan ? { from: logSpan[0], to: logSpan[1], intervals: logCoverage } : null,
    },
    totals,
    counts,
    verdicts: v.rows,
    addresses,
    countries: [...countries.values()].sort(byWeight),
    asns: [...asns.values()].sort(byWeight),
    blind_spots: blind,
    ...(tarpitDoc ? { tarpit: tarpitDoc } : {}),
    tls_replies: tlsReplies.doc,
    warnings,
    options: {
      captures: inputs.captures,
      state: inputs.state,
      logs: inputs.logs,
      mode: o.mode,
      log_year: o.logYear ?? null,
      log_tz: o.logTz === undefined ? null : zoneLabel(o.logTz, at),
      tz: zoneLabel(o.zone, at),
      tolerance: o.tolerance,
      gap: o.gap,
      min_failures: o.minFailures,
      distributed_min: o.distributedMin,
      distributed_window: o.distributedWindow,
      limit: o.limit,
      geoip: geoLevel,
      ports: o.pipeline.ports,
      hitcount: o.pipeline.strikes.hitcount,
      seconds: o.pipeline.strikes.seconds,
      tempfail_strikes: o.pipeline.strikes.tempfailStrikes,
    },
  };
}

/**
 * With captures and logs, and no 535 text given (`--tls-reply`, `--tls-replies-file`): the one
 * 535 text the logs show becomes the captures' failure size (over the banner's built-in profile).
 */
export async function logReplies(
  inputs: ReportInputs,
  o: ReportOptions,
  warn: (m: string) => void,
): Promise<{ pipeline: PipelineOptions; doc: ReportDoc['tls_replies'] }> {
  const given = o.pipeline.tlsReplies.inputs;
  const fixed = given.option?.[535] !== undefined ? 'option' : given.file?.[535] !== undefined ? 'file' : null;
  const doc: ReportDoc['tls_replies'] = { failure_source: fixed ?? 'banner', log_failure_text: null, log_failure_texts: [] };
  if (fixed || inputs.captures.length === 0 || inputs.logs.length === 0) return { pipeline: o.pipeline, doc };
  const l = await learnFailureText(inputs.logs);
  doc.log_failure_texts = l.texts;
  if (l.text !== null) {
    doc.failure_source = 'log';
    doc.log_failure_text = l.text;
    return { pipeline: { ...o.pipeline, tlsReplies: new ReplyResolver({ ...given, log: { 535: l.text } }) }, doc };
  }
  if (l.texts.length > 1) {
    warn(
      `the logs show ${l.texts.length}${l.texts.length >= 8 ? '+' : ''} different 535 texts (${l.texts
        .slice(0, 3)
        .map((t) => JSON.stringify(t))
        .join(', ')}${l.texts.length > 3 ? ', …' : ''}): ` +
        'none is used for the sizes inside TLS (several servers, or reasons in the replies?); give --tls-reply 535=TEXT or --tls-replies-file',
    );
  }
  return { pipeline: o.pipeline, doc };
}

function geoJson(g: GeoInfo, level: number): GeoJson {
  return {
    ...geoInfoJson(g),
    place: geoText(g, level),
  };
}

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
class BlindSpotsAccumulator {
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

/**
 * One full garbage collection, now. The join's rows (~150 MB over 10 M log lines and a 1 GB
 * capture) were just dropped; they live in slabs outside the JS heap (columns.ts), given back to
 * the system only when a full collection finds them unreachable, and the heap held little garbage
 * to start one soon: the verdicts and then the document were built on top of them (+30 MB of
 * peak RSS measured, native-notes/report-memory.md). One collection of a ~150 MB heap: ~0.1–0.2 s.
 * `gc` is reached the way `--expose-gc` would give it, through a new context.
 */
function collectNow(): void {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc');
    // null where a Node release no longer honours the flag set at run time: then nothing is done.
    gc = runInNewContext('typeof gc === "function" ? gc : null') as (() => void) | null;
  }
  gc?.();
}
let gc: (() => void) | null | undefined;

/** ISO time in the report's zone. */
export function timeIn(ts: number, zone: Zone): string {
  return zonedIso(ts, zone);
}
