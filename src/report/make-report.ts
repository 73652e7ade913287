import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { isoTime as zonedIso, type Zone } from '../accounts/clock.js';
import { GeoIp, geoInfoJson, geoText, type GeoInfo } from '../geoip/geoip.js';
import { estimateZone, offsetLabel, wallToEpoch, WireIndex, zoneOffsetAt } from './align.js';
import { BlindSpotsAccumulator } from './blind-spots.js';
import { EventList, joinByAddress, MAX_LISTED_EVENTS, zoneSample } from './join-stream.js';
import { LogStore } from './log-store.js';
import { logReplies } from './log-replies.js';
import { span, unionAll } from './intervals.js';
import { scanLogs } from './logs.js';
import { readWatchLogs, TarpitAggregator } from './tarpit.js';
import { bump, VerdictAccumulator, VERDICT_ORDER } from './rules.js';
import {
  REPORT_SCHEMA_VERSION,
  type AddressJson,
  type AddressStat,
  type Counts3,
  type GeoJson,
  type PlaceCount,
  type ReportDoc,
  type VerdictCounts,
} from './report-doc.js';
import type { ReportInputs, ReportOptions } from './report-options.js';
import { emptyWire, mergeState, readCaptures } from './wire.js';

/**
 * `smtpstrike report`: the wire (captures replayed through the pipeline, or a watch state file)
 * and the logs (the accounts parsers) joined into one document — the verdicts, every address with
 * its timeline, counts per country and ASN, and the blind spots. Text, JSON and HTML are all
 * renderings of this one document, so they cannot disagree.
 */

// Its inputs and options (report-options.ts) and the 535 text learned from the logs
// (log-replies.ts), importable from here as before.
export type { ReportInputs, ReportOptions } from './report-options.js';
export { logReplies } from './log-replies.js';

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

function geoJson(g: GeoInfo, level: number): GeoJson {
  return {
    ...geoInfoJson(g),
    place: geoText(g, level),
  };
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
