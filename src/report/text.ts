import { dayLabel, partsOf, timeLabel, type Zone } from '../accounts/clock.js';
import type { AddressJson, ReportDoc, TarpitJson } from './report-doc.js';
import type { Counts3 } from './report-doc.js';
import type { Seen } from './types.js';
import { escapeControl } from '../text/control-chars.js';

/**
 * The terminal layout: the accounts report's (`DAY -> account USER: N IPs (Last: ADDRESS @ TIME)`,
 * then `count  address  place`), one section per verdict, most urgent first, each address with
 * what the wire and the logs saw of it, then the blind spots.
 */

/** Addresses listed per DISTRIBUTED row, and ATTACKED rows, in the terminal (all of them are in --json / --html). */
const MAX_LINES = 20;
const MAX_ATTACKED = 100;
const MAX_COMPROMISED = 200;

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

export function seenText(s: Seen, tls = false): string {
  if (tls) return 'log only, inside TLS';
  return s === 'both' ? 'wire + log' : s === 'wire' ? 'wire only' : 'log only';
}

export function countsText(c: Counts3): string {
  return `wire ${c.wire_only + c.both}, log ${c.log_only + c.both}, ${c.both} on both`;
}

export function duration(s: number): string {
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  const h = Math.floor(s / 3600);
  return `${h} h ${Math.round((s % 3600) / 60)} min`;
}

export class Clock {
  private readonly oneDay: boolean;
  constructor(
    readonly zone: Zone,
    doc: ReportDoc,
  ) {
    const ts: number[] = [];
    for (const s of [doc.spans.wire, doc.spans.logs]) if (s) ts.push(s.from, s.to);
    for (const a of doc.tarpit?.attackers ?? []) for (const t of [a.first_ts, a.last_ts]) if (t !== null) ts.push(t);
    const days = new Set(ts.map((t) => dayLabel(partsOf(t, zone))));
    this.oneDay = days.size <= 1;
  }

  /** `16:29:52`, or `Nov 27 16:29:52` when the report spans several days. */
  at(ts: number): string {
    const p = partsOf(ts, this.zone);
    return this.oneDay ? timeLabel(p) : `${dayLabel(p)} ${timeLabel(p)}`;
  }

  day(ts: number): string {
    return dayLabel(partsOf(ts, this.zone));
  }

  full(ts: number): string {
    const p = partsOf(ts, this.zone);
    return `${p.y} ${dayLabel(p)} ${timeLabel(p)}`;
  }
}

/**
 * The headline's warning when most captured sessions went opaque (STARTTLS/TLS): the wire saw
 * few AUTH outcomes, and what the logs saw inside those sessions filled the gap (or nothing did).
 */
export function opaqueHeadline(doc: ReportDoc): string | null {
  const o = doc.blind_spots.opaque_sessions;
  if (!o.mostly_opaque) return null;
  const opaque = o.total;
  const pct = Math.round((100 * Math.min(opaque, o.smtp_sessions)) / o.smtp_sessions);
  const inf = o.inferred.failures + o.inferred.successes + o.inferred.tempfails;
  const head =
    `WARNING: ${opaque} of ${plural(o.smtp_sessions, 'captured session')} (${pct}%) went opaque (STARTTLS/TLS): the wire cannot read their AUTH replies` +
    (inf > 0 ? ` (it inferred ${plural(inf, 'outcome')} from TLS record sizes, not joined here)` : '');
  if (doc.inputs.logs.length === 0) return `${head}; give the server's mail log to see inside them`;
  const l = o.log_attempts_inside;
  const n = l.failures + l.successes + l.tempfails;
  if (n === 0) return `${head}; the logs show no attempt inside them either`;
  const what = [
    l.failures ? plural(l.failures, 'failure') : '',
    l.successes ? plural(l.successes, 'login') : '',
    l.tempfails ? plural(l.tempfails, 'temporary failure') : '',
  ]
    .filter(Boolean)
    .join(', ');
  return `${head}; the logs filled the gap: ${plural(n, 'attempt')} inside them (${what}) from ${plural(o.with_log_attempts, 'address', 'addresses')}`;
}

export function renderReportText(doc: ReportDoc, zone: Zone): string {
  return renderReportLines(doc, zone).join('\n') + '\n';
}

/** The text report's lines (no newlines), as a list. */
export function renderReportLines(doc: ReportDoc, zone: Zone): string[] {
  return [...reportLines(doc, zone)];
}

/**
 * The text report's lines (no newlines), made one at a time as they are taken: `report` writes
 * them as they come, so neither the text (~20 MB over 10 M log lines) nor a list of its lines is
 * ever held whole (issue 15; native-notes/report-memory.md).
 */
export function* reportLines(doc: ReportDoc, zone: Zone): Generator<string> {
  for (const line of untrimmedLines(doc, zone)) yield line.trimEnd();
}

function* untrimmedLines(doc: ReportDoc, zone: Zone): Generator<string> {
  const c = new Clock(zone, doc);
  const addr = new Map<string, AddressJson>(doc.addresses.map((a) => [a.ip, a]));
  const place = (ip: string): string => addr.get(ip)?.geo?.place ?? '';
  let ipWidth = 15;
  for (const a of doc.addresses) ipWidth = Math.max(ipWidth, a.ip.length);
  const ipCol = (ip: string): string => ip.padEnd(ipWidth);

  // ---- header
  const caps = doc.inputs.captures.length;
  const inputs = [
    caps ? plural(caps, 'capture') : null,
    doc.inputs.state ? 'a watch state file' : null,
    doc.inputs.logs.length ? plural(doc.inputs.logs.length, 'log') : null,
    watchLogCount(doc) ? plural(watchLogCount(doc), 'watch log') : null,
  ]
    .filter(Boolean)
    .join(', ');
  yield `smtpstrike report: ${inputs || 'no input'}; times in ${doc.tz}`;
  if (doc.spans.wire) yield `  wire: ${c.full(doc.spans.wire.from)} -> ${c.at(doc.spans.wire.to)}`;
  if (doc.spans.logs) yield `  logs: ${c.full(doc.spans.logs.from)} -> ${c.at(doc.spans.logs.to)}`;
  if (doc.clock.zoneless_lines > 0) {
    const how = doc.clock.log_tz_source === 'option' ? 'as given' : doc.clock.log_tz_source === 'estimated' ? 'estimated against the wire' : 'the local zone';
    const est = doc.clock.estimate ? `, ${doc.clock.estimate.matched} of ${doc.clock.estimate.sample} SMTP log lines line up with the wire` : '';
    yield `  log times without a zone read as ${doc.clock.log_tz} (${how}${est})`;
  }
  const t = doc.totals;
  yield (
    `  ${plural(t.failures.all, 'failed attempt')} (${countsText(t.failures)}), ${plural(t.successes.all, 'login')} (${countsText(t.successes)})` +
    (t.tempfails.all ? `, ${plural(t.tempfails.all, 'temporary failure')}` : '') +
    ` from ${plural(t.addresses, 'address', 'addresses')}`
  );
  const opaqueLine = opaqueHeadline(doc);
  if (opaqueLine) yield `  ${opaqueLine}`;
  const k = doc.counts;
  yield (
    `  COMPROMISED ${k.COMPROMISED}, SUSPECT ${k.SUSPECT}, DISTRIBUTED ${k.DISTRIBUTED}, ATTACKED ${k.ATTACKED}, BLIND SPOTS ${k.BLIND_SPOTS}` +
    (tarpitted(doc.tarpit) ? `, TARPITTED ${doc.tarpit!.attackers_count}` : '')
  );

  const rows = doc.verdicts;
  // ---- COMPROMISED
  const comp = rows.filter((r) => r.verdict === 'COMPROMISED');
  yield '';
  yield `== COMPROMISED: failed attempts, then a login (change these passwords first) ==`;
  if (comp.length === 0) yield '  (none)';
  for (const r of comp) {
    if (r.verdict !== 'COMPROMISED') continue;
    const last = r.addresses.reduce((a, b) => (b.success_ts > a.success_ts ? b : a));
    const who = r.subject === 'account' ? `account ${escapeControl(r.account ?? '')}` : `address ${r.address} (username unknown)`;
    yield `${c.day(last.success_ts)} -> ${who}: ${plural(r.addresses.length, 'IP')} (Last: ${last.ip} @ ${c.at(last.success_ts)})`;
    for (const e of r.addresses.slice(0, MAX_COMPROMISED)) {
      const p = place(e.ip);
      yield `  ${String(e.failures_before).padStart(5)} failed, then logged in ${c.at(e.success_ts)} (${seenText(e.success_seen, e.success_inside_tls)})  ${ipCol(e.ip)}${p ? `  ${p}` : ''}`;
      const tried = e.users_tried.length ? `; accounts tried: ${e.users_tried.map(escapeControl).join(', ')}` : '';
      yield (
        `         failures from ${c.at(e.first_failure_ts)}: wire ${e.failures_before_wire_only + e.failures_before_both}, log ${e.failures_before_log_only + e.failures_before_both}, ${e.failures_before_both} on both${tried}` +
        (e.successes > 1 ? `; ${e.successes} logins` : '') +
        (e.blocked ? '; blocked by the strike rules' : '')
      );
    }
    if (r.addresses.length > MAX_COMPROMISED) yield `  … and ${r.addresses.length - MAX_COMPROMISED} more addresses (--json or --html for all)`;
  }

  // ---- SUSPECT
  const sus = rows.filter((r) => r.verdict === 'SUSPECT');
  yield '';
  yield '== SUSPECT: logins the accounts rules flag ==';
  if (sus.length === 0) yield '  (none)';
  for (const r of sus) {
    if (r.verdict !== 'SUSPECT') continue;
    const last = r.addresses.reduce((a, b) => (b.last_ts > a.last_ts ? b : a));
    const why = r.rules
      .map((x) => (x === 'addresses' ? `${plural(r.addresses.length, 'address', 'addresses')} in a day` : 'from unlisted addresses'))
      .join(', ');
    yield `${c.day(r.first_ts)} -> account ${r.account === null ? '(unknown)' : escapeControl(r.account)}: ${plural(r.addresses.length, 'IP')} (Last: ${last.ip} @ ${c.at(last.last_ts)})  [${why}]`;
    for (const e of r.addresses.slice(0, MAX_LINES)) {
      const p = place(e.ip);
      const wl = e.whitelisted ? `  [whitelisted: ${e.whitelisted}]` : '';
      yield `  ${String(e.successes).padStart(5)}  ${ipCol(e.ip)}  ${seenText(e.seen, e.inside_tls > 0 && e.seen === 'log').padEnd(20)}${p ? `  ${p}` : ''}${wl}`;
    }
    if (r.addresses.length > MAX_LINES) yield `  … and ${r.addresses.length - MAX_LINES} more addresses (--json or --html for all)`;
  }

  // ---- DISTRIBUTED
  const dist = rows.filter((r) => r.verdict === 'DISTRIBUTED');
  yield '';
  yield '== DISTRIBUTED: one account, many addresses, each under the strike threshold ==';
  if (dist.length === 0) yield '  (none)';
  for (const r of dist) {
    if (r.verdict !== 'DISTRIBUTED') continue;
    yield (
      `${c.day(r.first_ts)} -> account ${escapeControl(r.account)}: ${plural(r.addresses.length, 'IP')}, ${plural(r.failures, 'failure')} ${c.at(r.first_ts)} -> ${c.at(r.last_ts)}` +
      (r.over_threshold.length ? ` (also failing over the threshold: ${r.over_threshold.join(', ')})` : '')
    );
    for (const e of r.addresses.slice(0, MAX_LINES)) {
      const p = place(e.ip);
      yield `  ${String(e.failures).padStart(5)}  ${ipCol(e.ip)}${p ? `  ${p}` : ''}`;
    }
    if (r.addresses.length > MAX_LINES) yield `  … and ${r.addresses.length - MAX_LINES} more addresses (--json or --html for all)`;
  }

  // ---- ATTACKED
  const att = rows.filter((r) => r.verdict === 'ATTACKED');
  yield '';
  yield '== ATTACKED: failures only ==';
  if (att.length === 0) yield '  (none)';
  else yield `  ${'fails'.padStart(5)}  ${'wire'.padStart(4)}  ${'log'.padStart(4)}  ${'both'.padStart(4)}  ${'address'.padEnd(ipWidth)}  blocks, place`;
  for (const r of att.slice(0, MAX_ATTACKED)) {
    if (r.verdict !== 'ATTACKED') continue;
    const f = r.failures;
    const blocks = r.blocks.length
      ? r.blocks
          .map(
            (b) =>
              `blocked (${b.rule}) ${c.at(b.from)} -> ${c.at(b.until)}${b.rejects ? `, ${plural(b.rejects, 'connection')} refused` : ''}${b.level > 0 ? `, level ${b.level}` : ''}${b.source === 'state' ? ' [state file]' : ''}`,
          )
          .join('; ')
      : r.would_block
        ? 'not blocked on the wire, but its failures (wire + log) reach the threshold'
        : 'not blocked';
    const extra = [
      r.tempfails ? plural(r.tempfails, 'temporary failure') : '',
      r.users.length ? `accounts: ${r.users.map(escapeControl).join(', ')}` : '',
      r.distributed.length ? `part of DISTRIBUTED ${r.distributed.join(', ')}` : '',
      place(r.address),
    ]
      .filter(Boolean)
      .join('; ');
    yield `  ${String(f.all).padStart(5)}  ${String(f.wire_only + f.both).padStart(4)}  ${String(f.log_only + f.both).padStart(4)}  ${String(f.both).padStart(4)}  ${ipCol(r.address)}  ${blocks}${extra ? `; ${extra}` : ''}`;
  }

  if (att.length > MAX_ATTACKED) yield `  … and ${att.length - MAX_ATTACKED} more addresses with fewer failures (--json or --html for all)`;

  // ---- BLIND SPOTS
  const b = doc.blind_spots;
  yield '';
  yield '== BLIND SPOTS: what neither side could see ==';
  if (b.count === 0) yield '  (none)';
  for (const m of b.missing) yield `  ${m}`;
  if (b.opaque_sessions.total > 0) {
    const o = b.opaque_sessions;
    yield (
      `  opaque after STARTTLS/TLS: ${plural(o.total, 'session')} from ${plural(o.addresses.length, 'address', 'addresses')}; the logs show attempts inside those of ${plural(o.with_log_attempts, 'address', 'addresses')}` +
      (o.not_kept ? ` (${o.not_kept} sessions not kept)` : '')
    );
    const inf = o.inferred;
    if (inf.failures + inf.successes + inf.tempfails > 0) {
      yield (
        `    inferred inside them from TLS record sizes (replay and watch count these; not joined with the logs here): ` +
        `${plural(inf.failures, 'failure')}, ${plural(inf.successes, 'login')}, ${plural(inf.tempfails, 'temporary failure')}`
      );
    }
    for (const e of o.addresses.slice(0, 20)) {
      const inside =
        e.log_failures + e.log_successes + e.log_tempfails > 0
          ? `the logs show inside: ${[e.log_failures ? plural(e.log_failures, 'failure') : '', e.log_successes ? plural(e.log_successes, 'login') : '', e.log_tempfails ? plural(e.log_tempfails, 'temporary failure') : ''].filter(Boolean).join(', ')}`
          : 'nothing in the logs';
      yield `    ${ipCol(e.ip)}  ${plural(e.sessions, 'session')} (port ${e.ports.join(', ')}), ${inside}`;
    }
    if (o.addresses.length > 20) yield `    … and ${o.addresses.length - 20} more addresses`;
  }
  for (const p of b.periods) {
    const side = p.kind === 'wire_only' ? 'wire only (no log)' : 'logs only (no capture)';
    const what =
      p.failures + p.successes > 0
        ? `${[p.failures ? plural(p.failures, 'failure') : '', p.successes ? plural(p.successes, 'login') : ''].filter(Boolean).join(', ')} (${p.addresses
            .slice(0, 5)
            .map((a) => `${a.ip} ${a.failures + a.successes}`)
            .join(', ')}${p.addresses.length > 5 ? ', …' : ''}) ${p.kind === 'wire_only' ? 'the logs cannot confirm' : 'the wire did not see'}`
        : 'nothing happened there on the covering side';
    yield `  ${side} ${c.at(p.from)} -> ${c.at(p.to)} (${duration(p.seconds)}): ${what}`;
  }
  for (const [label, s] of [
    ['on the wire but in no log line, while the logs were covering', b.wire_not_logged],
    ['in the logs (SMTP) but not on the wire, while it was captured', b.logged_not_on_wire],
  ] as const) {
    if (s.addresses.length === 0) continue;
    yield `  ${plural(s.failures, 'failure')} and ${plural(s.successes, 'login')} ${label}: ${s.addresses
      .slice(0, 8)
      .map((a) => `${a.ip} ${a.failures + a.successes}`)
      .join(', ')}${s.addresses.length > 8 ? ', …' : ''}`;
  }
  for (const u of b.unparseable) yield `  ${u.file}: ${plural(u.lines, 'line')} that could not be parsed`;
  for (const e of b.read_errors) yield `  read error: ${e.error}`;
  const cap = b.capture;
  if (cap.gaps + cap.evicted_flows + cap.auths_not_kept > 0) {
    yield `  capture: ${plural(cap.gaps, 'reassembly gap')} (${cap.gap_bytes} bytes lost), ${plural(cap.evicted_flows, 'flow')} evicted, ${cap.auths_not_kept} AUTH replies not joined (memory cap)`;
  }

  // ---- TARPITTED (only when the tarpit logged anything: reports without one are unchanged)
  if (doc.tarpit && tarpitted(doc.tarpit)) yield* tarpitText(doc.tarpit, c, ipWidth);

  if (doc.countries.length > 0) {
    yield '';
    yield 'Per country (addresses, failures, logins):';
    for (const p of doc.countries.slice(0, 15))
      yield `  ${String(p.addresses).padStart(5)} ${String(p.failures + p.tempfails).padStart(7)} ${String(p.successes).padStart(6)}  ${p.name}`;
    yield 'Per AS (addresses, failures, logins):';
    for (const p of doc.asns.slice(0, 15))
      yield `  ${String(p.addresses).padStart(5)} ${String(p.failures + p.tempfails).padStart(7)} ${String(p.successes).padStart(6)}  ${p.name}`;
  }
}

/** Watch logs read as such (not a mail log with pino lines in it). */
function watchLogCount(doc: ReportDoc): number {
  const logs = new Set(doc.inputs.logs.map((l) => l.file));
  return (doc.tarpit?.files ?? []).filter((f) => !logs.has(f.file)).length;
}

/** Whether the tarpit logged any session or refusal. */
export function tarpitted(t: TarpitJson | undefined): boolean {
  return t !== undefined && t.sessions + t.refused.total + t.refused.per_address > 0;
}

/** Attackers listed in the terminal (all of them are in --json / --html). */
const MAX_TARPITTED = 100;

function* tarpitText(t: TarpitJson, c: Clock, ipWidth0: number): Generator<string> {
  let ipWidth = ipWidth0;
  for (const a of t.attackers.slice(0, MAX_TARPITTED)) ipWidth = Math.max(ipWidth, a.ip.length);
  yield '';
  yield '== TARPITTED: time the tarpit wasted, per attacker ==';
  const refused = t.refused.total + t.refused.per_address;
  yield (
    `  ${plural(t.attackers_count, 'attacker')}, ${plural(t.sessions, 'session')}, ${t.hours.toFixed(2)} hours wasted (${duration(t.held_s)}); ` +
    `${plural(t.auth_attempts, 'AUTH attempt')}, ${plural(t.decoy_successes, 'decoy 235')} (no account involved)` +
    (refused ? `; ${plural(refused, 'connection')} refused by the caps (${t.refused.per_address} per address, ${t.refused.total} total)` : '')
  );
  const w = t.wire_excluded;
  if (w.sessions > 0) {
    yield `  taken out of the wire: ${plural(w.sessions, 'captured session')} the tarpit served (${plural(w.failures, '535')}, ${plural(w.successes, 'decoy 235')}, ${plural(w.tempfails, '454')}): not the mail server's`;
  }
  if (t.sessions_not_listed > 0)
    yield `  ${plural(t.sessions_not_listed, 'session')} (${duration(t.held_s_not_listed)}) of attackers beyond the listed maximum: in the totals only`;
  for (const f of t.files) {
    const skipped = [f.garbage ? plural(f.garbage, 'line') + ' not JSON' : '', f.malformed ? plural(f.malformed, 'tarpit line') + ' of the wrong shape' : '']
      .filter(Boolean)
      .join(', ');
    if (skipped) yield `  ${escapeControl(f.file)}: ${skipped}, skipped`;
  }
  yield `  ${'held'.padStart(12)}  ${'sessions'.padStart(8)}  ${'longest'.padStart(12)}  ${'auths'.padStart(5)}  ${'decoys'.padStart(6)}  ${'refused'.padStart(7)}  ${'address'.padEnd(ipWidth)}  first -> last; usernames`;
  for (const a of t.attackers.slice(0, MAX_TARPITTED)) {
    const when = a.first_ts !== null && a.last_ts !== null ? `${c.at(a.first_ts)} -> ${c.at(a.last_ts)}` : '';
    const users = a.usernames.length
      ? `${a.usernames.length}${a.usernames_more ? '+' : ''} tried: ${a.usernames.map(escapeControl).join(', ')}${a.usernames_more ? `, … (${a.usernames_more} more tries)` : ''}`
      : '';
    const also = a.verdicts.length ? `ALSO ${a.verdicts.join(', ')}` : '';
    const extra = [when, users, also].filter(Boolean).join('; ');
    yield `  ${duration(a.held_s).padStart(12)}  ${String(a.sessions).padStart(8)}  ${duration(a.longest_s).padStart(12)}  ${String(a.auth_attempts).padStart(5)}  ${String(a.decoy_successes).padStart(6)}  ${String(a.refused).padStart(7)}  ${a.ip.padEnd(ipWidth)}  ${extra}`;
  }
  if (t.attackers.length > MAX_TARPITTED) yield `  … and ${t.attackers.length - MAX_TARPITTED} more attackers (--json or --html for all)`;
}
