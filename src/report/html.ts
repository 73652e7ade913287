import { jsonPieces } from './json-out.js';
import type { Zone } from '../accounts/clock.js';
import type { AddressJson, PlaceCount, ReportDoc, TarpitJson, VerdictName, VerdictRow } from './report-doc.js';
import { escapeControl } from '../text/control-chars.js';
import { pageFiles } from './page-files.js';
import { Clock, duration, opaqueHeadline, seenText, tarpitted } from './text.js';

/**
 * `--html FILE`: one self-contained page — inline CSS, inline SVG, a little inline JavaScript (the
 * CSS and scripts live in src/report/page/: see page-files.ts), no URL of any kind (a
 * Content-Security-Policy forbids every fetch) — rendered from the same document as `--json`,
 * which it also carries (`<script type="application/json" id="report-data">`).
 * Everything is drawn on the server side, so the page reads the same without JavaScript; the
 * script only sorts tables, filters the timeline and reports its own errors into the page
 * (`#js-errors`, `data-errors` on <html>). Every number shown carries `data-path`, the JSON path of
 * the value it shows, so a test can check each one against the JSON.
 *
 * Everything that came from the wire or a log (usernames above all: attackers choose them) is
 * escaped; the embedded JSON escapes `<`, so no `</script>` can end it.
 */

const VERDICT_COLOURS: Record<VerdictName, string> = {
  COMPROMISED: '#b00020',
  SUSPECT: '#c75b00',
  DISTRIBUTED: '#6a3fb5',
  ATTACKED: '#1f5fa8',
};

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

/** A number with the JSON path it comes from. */
function num(v: number, path: string): string {
  return `<span class="n" data-path="${esc(path)}">${v}</span>`;
}

function badge(v: VerdictName): string {
  return `<span class="badge" style="background:${VERDICT_COLOURS[v]}">${v}</span>`;
}

/** JSON text made safe inside a <script> element (each character on its own: pieces may be escaped one by one). */
function scriptSafe(json: string): string {
  return json
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function renderHtml(doc: ReportDoc, zone: Zone): string {
  return [...renderHtmlPieces(doc, zone)].join('');
}

/**
 * The page in pieces, its embedded document (`report-data`, the largest part: ~175 MB over
 * 10 M log lines) written as it is made (json-out.ts) rather than held whole; `report --html`
 * writes them in turn. Joined, they are `renderHtml`.
 */
export function* renderHtmlPieces(doc: ReportDoc, zone: Zone): Generator<string> {
  const c = new Clock(zone, doc);
  const addr = new Map<string, AddressJson>(doc.addresses.map((a) => [a.ip, a]));
  const addrIndex = new Map<string, number>(doc.addresses.map((a, i) => [a.ip, i]));
  const place = (ip: string): string => esc(addr.get(ip)?.geo?.place ?? '');
  const ipCell = (ip: string): string => `<span class="mono" data-ip="${esc(ip)}">${esc(ip)}</span>`;
  const page = pageFiles();
  // The page's lines, each handed out as it is made (joined, they were one string of ~17 MB, often
  // two bytes a character, copied again on its way to the file: +95 MB of peak RSS measured).
  let started = false;
  const line = (x: string): string => {
    const out = started ? `\n${x}` : x;
    started = true;
    return out;
  };
  yield line('<!doctype html><html lang="en"><head><meta charset="utf-8">');
  yield line(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">`);
  yield line('<meta name="viewport" content="width=device-width, initial-scale=1">');
  yield line(`<title>smtpstrike report</title><style>${page.css}</style><script>${page.errorsScript}</script></head><body>`);
  yield line('<h1>smtpstrike report</h1>');
  const spans: string[] = [];
  if (doc.spans.wire) spans.push(`wire ${esc(c.full(doc.spans.wire.from))} → ${esc(c.at(doc.spans.wire.to))}`);
  if (doc.spans.logs) spans.push(`logs ${esc(c.full(doc.spans.logs.from))} → ${esc(c.at(doc.spans.logs.to))}`);
  yield line(
    `<div class="muted">${doc.inputs.captures.length} capture(s)${doc.inputs.state ? ', a watch state file' : ''}, ${doc.inputs.logs.length} log(s)${doc.tarpit ? `, ${doc.tarpit.files.length} file(s) with watch log lines` : ''}; ${spans.join('; ')}; times in ${esc(doc.tz)}; log times without a zone read as ${esc(doc.clock.log_tz)} (${esc(doc.clock.log_tz_source)}). Generated ${esc(doc.generated_at)}.</div>`,
  );
  const opaqueLine = opaqueHeadline(doc);
  if (opaqueLine) yield line(`<div class="warn" id="opaque-headline">${esc(opaqueLine)}</div>`);
  for (const w of doc.warnings) yield line(`<div class="warn">${esc(w)}</div>`);
  yield line('<pre id="js-errors"></pre>');

  // ---- cards
  yield line('<div class="cards">');
  for (const v of ['COMPROMISED', 'SUSPECT', 'DISTRIBUTED', 'ATTACKED'] as const) {
    yield line(`<div class="card" style="border-top:4px solid ${VERDICT_COLOURS[v]}"><b>${num(doc.counts[v], `counts.${v}`)}</b>${v}</div>`);
  }
  yield line(`<div class="card"><b>${num(doc.counts.BLIND_SPOTS, 'counts.BLIND_SPOTS')}</b>BLIND SPOTS</div>`);
  const t = doc.totals;
  yield line(
    `<div class="card"><b>${num(t.failures.all, 'totals.failures.all')}</b>failed attempts<br><span class="muted">wire only ${num(t.failures.wire_only, 'totals.failures.wire_only')} · log only ${num(t.failures.log_only, 'totals.failures.log_only')} · both ${num(t.failures.both, 'totals.failures.both')}</span></div>`,
  );
  yield line(
    `<div class="card"><b>${num(t.successes.all, 'totals.successes.all')}</b>logins<br><span class="muted">wire only ${num(t.successes.wire_only, 'totals.successes.wire_only')} · log only ${num(t.successes.log_only, 'totals.successes.log_only')} · both ${num(t.successes.both, 'totals.successes.both')}</span></div>`,
  );
  yield line(`<div class="card"><b>${num(t.addresses, 'totals.addresses')}</b>addresses</div>`);
  if (doc.tarpit && tarpitted(doc.tarpit)) {
    yield line(
      `<div class="card"><b>${num(doc.tarpit.attackers_count, 'tarpit.attackers_count')}</b>TARPITTED<br><span class="muted">${num(doc.tarpit.hours, 'tarpit.hours')} hours wasted</span></div>`,
    );
  }
  yield line('</div><div id="js-summary" class="muted">(the page\'s script did not run)</div>');

  // ---- verdict table
  yield line('<h2>Verdicts, most urgent first</h2>');
  if (doc.verdicts.length === 0) yield line('<p class="muted">No verdicts.</p>');
  else {
    yield line(
      '<table class="sortable" id="verdicts"><thead><tr><th>verdict</th><th>account / address</th><th>addresses</th><th class="r">failures</th><th class="r">logins</th><th>seen</th><th>when</th><th>details</th></tr></thead><tbody>',
    );
    for (let i = 0; i < Math.min(MAX_TABLE, doc.verdicts.length); i++) yield line(verdictRow(doc.verdicts[i]!, i, c, ipCell, place));
    yield line('</tbody></table>');
    if (doc.verdicts.length > MAX_TABLE)
      yield line(`<p class="muted">First ${MAX_TABLE} of ${doc.verdicts.length} verdict rows listed (all are in the embedded JSON).</p>`);
  }

  // ---- timeline
  yield line('<h2>Timeline: failures and logins per address</h2>');
  yield line('<div id="filters">Show: ');
  for (const v of ['COMPROMISED', 'SUSPECT', 'DISTRIBUTED', 'ATTACKED', 'NONE'] as const) {
    yield line(`<label><input type="checkbox" value="${v}" checked> ${v === 'NONE' ? 'no verdict' : v}</label>`);
  }
  yield line('</div>');
  // The timeline is one line of the page, in pieces (several MB: up to 500 events for each of 300 addresses).
  let firstPiece = true;
  for (const t of timeline(doc, c, addrIndex)) {
    yield firstPiece ? line(t) : t;
    firstPiece = false;
  }
  yield line(
    '<div class="muted">● red: failure, ● green: login, ● orange: 454; filled: wire and log, hollow: wire only, pale: log only, black ring: inside TLS (log only); red band: blocked; top bands: when the wire (blue) and the logs (green) were covering.</div>',
  );

  // ---- countries and ASNs
  yield line('<h2>Per country and AS</h2>');
  if (doc.countries.length === 0) yield line('<p class="muted">No GeoIP (-g 0, or no database).</p>');
  else {
    yield line('<div style="display:flex;gap:24px;flex-wrap:wrap"><div style="flex:1;min-width:420px"><h3>Countries</h3>');
    yield line(placeTable(doc.countries, 'countries'));
    yield line('</div><div style="flex:1;min-width:420px"><h3>Autonomous systems</h3>');
    yield line(placeTable(doc.asns, 'asns'));
    yield line('</div></div>');
  }

  // ---- addresses
  yield line('<h2>Addresses</h2>');
  yield line(
    '<table class="sortable" id="addresses"><thead><tr><th>address</th><th>verdicts</th><th class="r">failures</th><th class="r">wire only</th><th class="r">log only</th><th class="r">both</th><th class="r">logins</th><th class="r">454</th><th>accounts</th><th>blocks</th><th>place</th></tr></thead><tbody>',
  );
  for (let i = 0; i < Math.min(MAX_TABLE, doc.addresses.length); i++) {
    const a = doc.addresses[i]!;
    const p = `addresses.${i}`;
    yield line(
      `<tr data-ip="${esc(a.ip)}"><td>${ipCell(a.ip)}</td><td>${a.verdicts.map(badge).join(' ')}</td>` +
        `<td class="r">${num(a.failures.all, `${p}.failures.all`)}</td><td class="r">${num(a.failures.wire_only, `${p}.failures.wire_only`)}</td>` +
        `<td class="r">${num(a.failures.log_only, `${p}.failures.log_only`)}</td><td class="r">${num(a.failures.both, `${p}.failures.both`)}</td>` +
        `<td class="r">${num(a.successes.all, `${p}.successes.all`)}</td><td class="r">${num(a.tempfails.all, `${p}.tempfails.all`)}</td>` +
        `<td>${esc(a.users.join(', '))}</td><td>${a.blocks.map((b) => `${esc(b.rule)} ${esc(c.at(b.from))} → ${esc(c.at(b.until))}`).join('<br>')}</td><td>${place(a.ip)}</td></tr>`,
    );
  }
  yield line('</tbody></table>');
  if (doc.addresses.length > MAX_TABLE)
    yield line(`<p class="muted">First ${MAX_TABLE} of ${doc.addresses.length} addresses listed (all are in the embedded JSON).</p>`);

  // ---- blind spots
  yield line('<h2>Blind spots</h2><ul id="blind-spots">');
  const b = doc.blind_spots;
  for (const m of b.missing) yield line(`<li>${esc(m)}</li>`);
  if (b.opaque_sessions.total > 0) {
    const inf = b.opaque_sessions.inferred;
    const inferred =
      inf.failures + inf.successes + inf.tempfails > 0
        ? `; inferred inside them from TLS record sizes (counted by replay and watch, not joined here): ${num(inf.failures, 'blind_spots.opaque_sessions.inferred.failures')} failure(s), ${num(inf.successes, 'blind_spots.opaque_sessions.inferred.successes')} login(s), ${num(inf.tempfails, 'blind_spots.opaque_sessions.inferred.tempfails')} temporary failure(s)`
        : '';
    yield line(
      `<li>Sessions opaque after STARTTLS/TLS: ${num(b.opaque_sessions.total, 'blind_spots.opaque_sessions.total')}${inferred}; the logs show attempts inside them for ${num(b.opaque_sessions.with_log_attempts, 'blind_spots.opaque_sessions.with_log_attempts')} address(es):<ul>`,
    );
    for (const [i, e] of b.opaque_sessions.addresses.slice(0, 200).entries()) {
      const p = `blind_spots.opaque_sessions.addresses.${i}`;
      yield line(
        `<li>${ipCell(e.ip)}: ${num(e.sessions, `${p}.sessions`)} session(s) on port ${esc(e.ports.join(', '))}; the logs show inside ${num(e.log_failures, `${p}.log_failures`)} failure(s), ${num(e.log_successes, `${p}.log_successes`)} login(s) and ${num(e.log_tempfails, `${p}.log_tempfails`)} temporary failure(s)</li>`,
      );
    }
    yield line('</ul></li>');
  }
  for (const [i, p] of b.periods.entries()) {
    const path = `blind_spots.periods.${i}`;
    const side = p.kind === 'wire_only' ? 'Captured, not logged' : 'Logged, not captured';
    yield line(
      `<li>${side}: ${esc(c.at(p.from))} → ${esc(c.at(p.to))} (${esc(duration(p.seconds))}): ${num(p.failures, `${path}.failures`)} failure(s), ${num(p.successes, `${path}.successes`)} login(s)` +
        (p.addresses.length
          ? ` — ${p.addresses
              .slice(0, 10)
              .map((a) => `${ipCell(a.ip)} ${a.failures + a.successes}`)
              .join(', ')}`
          : '') +
        '</li>',
    );
  }
  for (const [label, key] of [
    ['On the wire, in no log line (while the logs were covering)', 'wire_not_logged'],
    ['In the logs (SMTP), not on the wire (while it was captured)', 'logged_not_on_wire'],
  ] as const) {
    const s = b[key];
    if (s.addresses.length === 0) continue;
    yield line(
      `<li>${label}: ${num(s.failures, `blind_spots.${key}.failures`)} failure(s), ${num(s.successes, `blind_spots.${key}.successes`)} login(s) — ${s.addresses
        .slice(0, 10)
        .map((a) => ipCell(a.ip))
        .join(', ')}</li>`,
    );
  }
  for (const [i, u] of b.unparseable.entries())
    yield line(`<li>${esc(u.file)}: ${num(u.lines, `blind_spots.unparseable.${i}.lines`)} line(s) could not be parsed</li>`);
  for (const e of b.read_errors) yield line(`<li>Read error: ${esc(e.error)}</li>`);
  if (b.capture.gaps + b.capture.evicted_flows + b.capture.auths_not_kept > 0) {
    yield line(
      `<li>Capture: ${num(b.capture.gaps, 'blind_spots.capture.gaps')} reassembly gap(s), ${num(b.capture.evicted_flows, 'blind_spots.capture.evicted_flows')} flow(s) evicted</li>`,
    );
  }
  if (b.count === 0) yield line('<li class="muted">None.</li>');
  yield line('</ul>');
  if (doc.tarpit && tarpitted(doc.tarpit)) yield line(tarpitSection(doc.tarpit, c, ipCell));
  yield line(
    '<p class="muted">GeoIP: IP Geolocation by DB-IP (db-ip.com), AS numbers from RouteViews and the NRO (ip-location-db), CC BY 4.0 — unless other databases were given.</p>',
  );
  yield '\n<script type="application/json" id="report-data">';
  for (const p of jsonPieces(doc)) yield scriptSafe(p);
  yield `</script>\n<script>${page.mainScript}</script>\n</body></html>`;
}

function verdictRow(r: VerdictRow, i: number, c: Clock, ipCell: (ip: string) => string, place: (ip: string) => string): string {
  const p = `verdicts.${i}`;
  const when = `${esc(c.at(r.first_ts))} → ${esc(c.at(r.last_ts))}`;
  const sortTs = `data-sort="${r.first_ts}"`;
  switch (r.verdict) {
    case 'COMPROMISED': {
      const seen = r.addresses.map((a) => seenText(a.success_seen, a.success_inside_tls)).join('; ');
      const subject = r.subject === 'account' ? `account <b>${esc(r.account ?? '')}</b>` : `address ${ipCell(r.address ?? '')} (username unknown)`;
      const details =
        r.addresses
          .slice(0, MAX_DETAILS)
          .map(
            (a, k) =>
              `${ipCell(a.ip)} ${place(a.ip)}: ${num(a.failures_before, `${p}.addresses.${k}.failures_before`)} failed (wire only ${num(a.failures_before_wire_only, `${p}.addresses.${k}.failures_before_wire_only`)}, log only ${num(a.failures_before_log_only, `${p}.addresses.${k}.failures_before_log_only`)}, both ${num(a.failures_before_both, `${p}.addresses.${k}.failures_before_both`)}), then logged in ${esc(c.at(a.success_ts))}${a.users_tried.length ? `; tried: ${esc(a.users_tried.join(', '))}` : ''}`,
          )
          .join('<br>') + more(r.addresses.length);
      return (
        `<tr data-verdict="COMPROMISED"><td>${badge('COMPROMISED')}</td><td>${subject}</td><td>${r.addresses
          .slice(0, MAX_DETAILS)
          .map((a) => ipCell(a.ip))
          .join(' ')}${more(r.addresses.length)}</td>` +
        `<td class="r">${num(r.failures, `${p}.failures`)}</td><td class="r">${num(r.successes, `${p}.successes`)}</td><td>${esc(seen)}</td><td ${sortTs}>${when}</td><td>${details}</td></tr>`
      );
    }
    case 'SUSPECT': {
      const why = r.rules.map((x) => (x === 'addresses' ? `${r.addresses.length} addresses on ${r.day}` : 'unlisted address/country/ASN')).join(', ');
      const details =
        r.addresses
          .slice(0, MAX_DETAILS)
          .map(
            (a, k) =>
              `${ipCell(a.ip)} ${place(a.ip)}: ${num(a.successes, `${p}.addresses.${k}.successes`)} login(s), ${esc(seenText(a.seen, a.inside_tls > 0 && a.seen === 'log'))}${a.whitelisted ? ` [whitelisted: ${esc(a.whitelisted)}]` : ''}`,
          )
          .join('<br>') + more(r.addresses.length);
      return (
        `<tr data-verdict="SUSPECT"><td>${badge('SUSPECT')}</td><td>account <b>${esc(r.account ?? '(unknown)')}</b></td><td>${r.addresses
          .slice(0, MAX_DETAILS)
          .map((a) => ipCell(a.ip))
          .join(' ')}${more(r.addresses.length)}</td>` +
        `<td class="r">0</td><td class="r">${num(r.successes, `${p}.successes`)}</td><td>${esc(why)}</td><td ${sortTs}>${when}</td><td>${details}</td></tr>`
      );
    }
    case 'DISTRIBUTED': {
      const details =
        r.addresses
          .slice(0, MAX_DETAILS)
          .map((a, k) => `${ipCell(a.ip)} ${place(a.ip)}: ${num(a.failures, `${p}.addresses.${k}.failures`)}`)
          .join('<br>') +
        more(r.addresses.length) +
        (r.over_threshold.length
          ? `<br>also over the threshold: ${r.over_threshold.slice(0, MAX_DETAILS).map(ipCell).join(', ')}${more(r.over_threshold.length)}`
          : '');
      return (
        `<tr data-verdict="DISTRIBUTED"><td>${badge('DISTRIBUTED')}</td><td>account <b>${esc(r.account)}</b></td><td>${num(r.addresses.length, `${p}.addresses.length`)} addresses</td>` +
        `<td class="r">${num(r.failures, `${p}.failures`)}</td><td class="r">0</td><td>each under the strike threshold</td><td ${sortTs}>${when}</td><td>${details}</td></tr>`
      );
    }
    case 'ATTACKED': {
      const blocks = r.blocks.length
        ? r.blocks
            .map(
              (b) =>
                `blocked (${esc(b.rule)}) ${esc(c.at(b.from))} → ${esc(c.at(b.until))}${b.rejects ? `, ${b.rejects} refused` : ''}${b.level > 0 ? `, level ${b.level}` : ''}`,
            )
            .join('<br>')
        : r.would_block
          ? 'not blocked on the wire; wire + log failures reach the threshold'
          : 'not blocked';
      const f = r.failures;
      return (
        `<tr data-verdict="ATTACKED" data-ip="${esc(r.address)}"><td>${badge('ATTACKED')}</td><td>address ${ipCell(r.address)}</td><td>${place(r.address)}</td>` +
        `<td class="r">${num(f.all, `${p}.failures.all`)}</td><td class="r">0</td><td>wire only ${num(f.wire_only, `${p}.failures.wire_only`)}, log only ${num(f.log_only, `${p}.failures.log_only`)}, both ${num(f.both, `${p}.failures.both`)}</td>` +
        `<td ${sortTs}>${when}</td><td>${blocks}${r.users.length ? `<br>accounts: ${esc(r.users.join(', '))}` : ''}${r.distributed.length ? `<br>part of DISTRIBUTED ${esc(r.distributed.join(', '))}` : ''}</td></tr>`
      );
    }
  }
}

/** TARPITTED: the time watch's tarpit held each attacker (only when it logged anything). */
function tarpitSection(t: TarpitJson, c: Clock, ipCell: (ip: string) => string): string {
  const h: string[] = [];
  h.push('<h2>Tarpitted: time wasted per attacker</h2>');
  h.push(
    `<p id="tarpit-totals">${num(t.attackers_count, 'tarpit.attackers_count')} attacker(s), ${num(t.sessions, 'tarpit.sessions')} session(s), ${num(t.hours, 'tarpit.hours')} hours wasted; ` +
      `${num(t.auth_attempts, 'tarpit.auth_attempts')} AUTH attempt(s), ${num(t.decoy_successes, 'tarpit.decoy_successes')} decoy 235(s) (no account involved); refused by the caps: ` +
      `${num(t.refused.per_address, 'tarpit.refused.per_address')} per address, ${num(t.refused.total, 'tarpit.refused.total')} total.` +
      (t.wire_excluded.sessions > 0
        ? ` Taken out of the wire: ${num(t.wire_excluded.sessions, 'tarpit.wire_excluded.sessions')} captured session(s) the tarpit served (${num(t.wire_excluded.successes, 'tarpit.wire_excluded.successes')} decoy 235(s)).`
        : '') +
      '</p>',
  );
  h.push(
    '<table class="sortable" id="tarpitted"><thead><tr><th>address</th><th class="r">held s</th><th class="r">sessions</th><th class="r">longest s</th><th class="r">auths</th><th class="r">decoys</th><th class="r">refused</th><th>first → last</th><th>usernames</th><th>also</th></tr></thead><tbody>',
  );
  t.attackers.slice(0, MAX_TABLE).forEach((a, i) => {
    const p = `tarpit.attackers.${i}`;
    const when = a.first_ts !== null && a.last_ts !== null ? `${esc(c.at(a.first_ts))} → ${esc(c.at(a.last_ts))}` : '';
    h.push(
      `<tr data-ip="${esc(a.ip)}"><td>${ipCell(a.ip)}</td><td class="r" data-sort="${a.held_s}">${num(a.held_s, `${p}.held_s`)} <span class="muted">${esc(duration(a.held_s))}</span></td>` +
        `<td class="r">${num(a.sessions, `${p}.sessions`)}</td><td class="r" data-sort="${a.longest_s}">${num(a.longest_s, `${p}.longest_s`)}</td>` +
        `<td class="r">${num(a.auth_attempts, `${p}.auth_attempts`)}</td><td class="r">${num(a.decoy_successes, `${p}.decoy_successes`)}</td><td class="r">${num(a.refused, `${p}.refused`)}</td>` +
        `<td data-sort="${a.first_ts ?? ''}">${when}</td><td>${esc(a.usernames.map(escapeControl).join(', '))}${a.usernames_more ? ` <span class="muted">(+${a.usernames_more} more tries)</span>` : ''}</td>` +
        `<td>${a.verdicts.map(badge).join(' ')}</td></tr>`,
    );
  });
  h.push('</tbody></table>');
  if (t.attackers.length > MAX_TABLE)
    h.push(`<p class="muted">First ${MAX_TABLE} of ${t.attackers.length} attackers listed (all are in the embedded JSON).</p>`);
  return h.join('\n');
}

function placeTable(list: readonly PlaceCount[], key: 'countries' | 'asns'): string {
  let max = 1; // a loop, not Math.max(...list): the list can be long (call stack)
  for (const p of list) max = Math.max(max, p.failures + p.tempfails + p.successes);
  const rows = list.map((p, i) => {
    const path = `${key}.${i}`;
    const wf = Math.round(((p.failures + p.tempfails) / max) * 90);
    const ws = Math.round((p.successes / max) * 90);
    return (
      `<tr><td>${esc(p.name)}</td><td class="r">${num(p.addresses, `${path}.addresses`)}</td><td class="r">${num(p.failures, `${path}.failures`)}</td>` +
      `<td class="r">${num(p.successes, `${path}.successes`)}</td><td class="r">${num(p.compromised, `${path}.compromised`)}</td><td class="r">${num(p.attacked, `${path}.attacked`)}</td>` +
      `<td class="bars" data-sort="${p.failures + p.tempfails}"><span class="bar" style="width:${wf}px"></span><span class="bar ok" style="width:${ws}px"></span></td></tr>`
    );
  });
  return `<table class="sortable" id="${key}"><thead><tr><th>${key === 'countries' ? 'country' : 'AS'}</th><th class="r">addresses</th><th class="r">failures</th><th class="r">logins</th><th class="r">compromised</th><th class="r">attacked</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

const MAX_ROWS = 300;
/** Rows of the verdict and address tables, and addresses per verdict row, drawn at most. */
const MAX_TABLE = 2000;
const MAX_DETAILS = 50;

function more(n: number): string {
  return n > MAX_DETAILS ? `<br><span class="muted">… and ${n - MAX_DETAILS} more</span>` : '';
}

function* timeline(doc: ReportDoc, c: Clock, addrIndex: Map<string, number>): Generator<string> {
  const list = doc.addresses.slice(0, MAX_ROWS);
  let t0 = Infinity;
  let t1 = -Infinity;
  for (const a of list)
    for (const e of a.events) {
      t0 = Math.min(t0, e.ts);
      t1 = Math.max(t1, e.ts);
    }
  for (const s of [doc.spans.wire, doc.spans.logs])
    if (s) {
      t0 = Math.min(t0, s.from);
      t1 = Math.max(t1, s.to);
    }
  if (!Number.isFinite(t0)) {
    yield '<p class="muted">Nothing to draw.</p>';
    return;
  }
  if (t1 - t0 < 1) t1 = t0 + 1;
  const pad = (t1 - t0) * 0.02;
  t0 -= pad;
  t1 += pad;
  const labelW = 250;
  const plotW = 900;
  const rowH = 18;
  const top = 44;
  const width = labelW + plotW + 60;
  const height = top + list.length * rowH + 10;
  const x = (ts: number): number => labelW + ((Math.min(Math.max(ts, t0), t1) - t0) / (t1 - t0)) * plotW;
  yield `<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="timeline">`;
  // axis and ticks
  const ticks = 8;
  for (let i = 0; i <= ticks; i++) {
    const ts = t0 + ((t1 - t0) * i) / ticks;
    const xx = x(ts).toFixed(1);
    yield `<line class="grid" x1="${xx}" y1="${top - 4}" x2="${xx}" y2="${height - 6}"/>`;
    yield `<text x="${xx}" y="12" text-anchor="middle">${esc(c.at(ts))}</text>`;
  }
  yield `<text x="4" y="26">wire</text><text x="4" y="38">logs</text>`;
  for (const [cls, iv, y] of [
    ['covw', doc.spans.wire?.intervals ?? [], 18],
    ['covl', doc.spans.logs?.intervals ?? [], 30],
  ] as const) {
    for (const [a, b] of iv)
      yield `<rect class="${cls}" x="${x(a).toFixed(1)}" y="${y}" width="${Math.max(1, x(b) - x(a)).toFixed(1)}" height="9"><title>${esc(c.at(a))} → ${esc(c.at(b))}</title></rect>`;
  }
  for (let i = 0; i < list.length; i++) {
    const a = list[i]!;
    const y = top + i * rowH;
    const cy = y + rowH / 2;
    const verdicts = a.verdicts.length ? a.verdicts.join(' ') : 'NONE';
    yield `<g class="row" data-ip="${esc(a.ip)}" data-verdicts="${esc(verdicts)}" data-index="${addrIndex.get(a.ip)}">`;
    const colour = a.verdicts.length ? VERDICT_COLOURS[a.verdicts[0]!] : '#5f6368';
    yield `<text x="4" y="${cy + 4}" fill="${colour}" style="fill:${colour}">${esc(a.ip)}${a.verdicts.length ? ` ${a.verdicts[0]}` : ''}</text>`;
    yield `<line class="axis" x1="${labelW}" y1="${cy}" x2="${labelW + plotW}" y2="${cy}" style="stroke:#eceef1"/>`;
    for (const b of a.blocks) {
      yield `<rect class="blk" x="${x(b.from).toFixed(1)}" y="${y + 2}" width="${Math.max(1, x(b.until) - x(b.from)).toFixed(1)}" height="${rowH - 4}"><title>blocked (${esc(b.rule)}) ${esc(c.at(b.from))} → ${esc(c.at(b.until))}</title></rect>`;
    }
    for (const e of a.events) {
      const cls = `${e.outcome === 'failure' ? 'f' : e.outcome === 'success' ? 's' : 't'} ${e.seen === 'wire' ? 'wire' : e.seen === 'log' ? 'log' : 'both'}${e.tls ? ' tls' : ''}`;
      const tip = `${c.at(e.ts)} ${e.outcome === 'failure' ? 'failure' : e.outcome === 'success' ? 'login' : '454'}${e.user !== null ? ` ${e.user}` : ''} (${seenText(e.seen, e.tls)})`;
      yield `<circle class="${cls}" cx="${x(e.ts).toFixed(1)}" cy="${cy}" r="${e.outcome === 'success' ? 5 : 4}" data-outcome="${e.outcome}"><title>${esc(tip)}</title></circle>`;
    }
    yield '</g>';
  }
  yield '</svg>';
  if (doc.addresses.length > MAX_ROWS) yield `<p class="muted">First ${MAX_ROWS} of ${doc.addresses.length} addresses drawn.</p>`;
}
