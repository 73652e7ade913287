import type { ReportDoc } from '../../src/report/report-doc.js';

/**
 * The ground truth of a report fixture (`pcaps/report/report.verdicts.json`, written by
 * scripts/testbed/make-report-fixtures.sh from the scenario it ran) and the check of a report
 * against it. `wire`/`log` count attempts each side saw (an attempt seen by both counts in both).
 */
export interface VerdictTruth {
  captures: string[];
  logs: string[];
  server_tz: string;
  compromised: {
    account: string;
    address: string;
    failures_before: number;
    failures_wire: number;
    failures_log: number;
    success_seen: 'wire' | 'log' | 'both';
    inside_tls: boolean;
  }[];
  suspect: { account: string; addresses: string[]; rule: 'addresses' | 'unlisted' }[];
  distributed: { account: string; addresses: string[] }[];
  attacked: { address: string; failures: number; wire: number; log: number; both: number; blocked: boolean }[];
  successes: { address: string; account: string; seen: 'wire' | 'log' | 'both'; inside_tls: boolean }[];
  blind_spots: {
    opaque_sessions: Record<string, number>;
    logs_only_period_failures: { address: string; failures: number }[];
    wire_only_period_failures: { address: string; failures: number }[];
    unparseable_lines: number;
  };
}

/** Every difference between the report and the truth, as readable lines (empty: they agree). */
export function checkVerdicts(doc: ReportDoc, t: VerdictTruth): string[] {
  const bad: string[] = [];
  const eq = (what: string, got: unknown, want: unknown): void => {
    if (JSON.stringify(got) !== JSON.stringify(want)) bad.push(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  };
  const rows = doc.verdicts;

  const comp = rows.flatMap((r) => (r.verdict === 'COMPROMISED' ? [r] : []));
  eq('COMPROMISED accounts', comp.map((r) => r.account).sort(), t.compromised.map((c) => c.account).sort());
  for (const c of t.compromised) {
    const r = comp.find((x) => x.account === c.account);
    const a = r?.addresses.find((x) => x.ip === c.address);
    if (!a) {
      bad.push(`COMPROMISED ${c.account}: address ${c.address} missing`);
      continue;
    }
    eq(`COMPROMISED ${c.account} ${c.address} failures before`, a.failures_before, c.failures_before);
    eq(`COMPROMISED ${c.account} ${c.address} failures seen on the wire`, a.failures_before_wire_only + a.failures_before_both, c.failures_wire);
    eq(`COMPROMISED ${c.account} ${c.address} failures seen in the logs`, a.failures_before_log_only + a.failures_before_both, c.failures_log);
    eq(`COMPROMISED ${c.account} ${c.address} success seen`, a.success_seen, c.success_seen);
    eq(`COMPROMISED ${c.account} ${c.address} success inside TLS`, a.success_inside_tls, c.inside_tls);
  }

  const sus = rows.flatMap((r) => (r.verdict === 'SUSPECT' ? [r] : []));
  eq('SUSPECT accounts', sus.map((r) => r.account).sort(), t.suspect.map((s) => s.account).sort());
  for (const s of t.suspect) {
    const r = sus.find((x) => x.account === s.account);
    eq(`SUSPECT ${s.account} addresses`, r?.addresses.map((a) => a.ip).sort(), [...s.addresses].sort());
    eq(`SUSPECT ${s.account} rule`, r?.rules.includes(s.rule), true);
  }

  const dist = rows.flatMap((r) => (r.verdict === 'DISTRIBUTED' ? [r] : []));
  eq('DISTRIBUTED accounts', dist.map((r) => r.account).sort(), t.distributed.map((d) => d.account).sort());
  for (const d of t.distributed) {
    const r = dist.find((x) => x.account === d.account);
    eq(`DISTRIBUTED ${d.account} addresses`, r?.addresses.map((a) => a.ip).sort(), [...d.addresses].sort());
  }

  const att = rows.flatMap((r) => (r.verdict === 'ATTACKED' ? [r] : []));
  eq('ATTACKED addresses', att.map((r) => r.address).sort(), t.attacked.map((a) => a.address).sort());
  for (const a of t.attacked) {
    const r = att.find((x) => x.address === a.address);
    if (!r) continue;
    const f = r.failures;
    eq(
      `ATTACKED ${a.address} failures (all, wire, log, both)`,
      [f.all, f.wire_only + f.both, f.log_only + f.both, f.both],
      [a.failures, a.wire, a.log, a.both],
    );
    eq(`ATTACKED ${a.address} blocked`, r.blocks.length > 0, a.blocked);
  }

  for (const s of t.successes) {
    const addr = doc.addresses.find((x) => x.ip === s.address);
    const ev = addr?.events.filter((e) => e.outcome === 'success') ?? [];
    eq(
      `logins of ${s.address}`,
      ev.map((e) => [e.user, e.seen, e.tls]),
      [[s.account, s.seen, s.inside_tls]],
    );
  }
  const allOk = doc.addresses.reduce((n, a) => n + a.successes.all, 0);
  eq('logins in all', allOk, t.successes.length);

  const b = doc.blind_spots;
  eq(
    'opaque sessions',
    Object.fromEntries(b.opaque_sessions.addresses.map((o) => [o.ip, o.sessions]).sort()),
    Object.fromEntries(Object.entries(t.blind_spots.opaque_sessions).sort()),
  );
  const periodFails = (kind: 'wire_only' | 'logs_only'): { address: string; failures: number }[] =>
    b.periods.filter((p) => p.kind === kind).flatMap((p) => p.addresses.filter((a) => a.failures > 0).map((a) => ({ address: a.ip, failures: a.failures })));
  eq('failures in periods the logs cover and the captures do not', periodFails('logs_only'), t.blind_spots.logs_only_period_failures);
  eq('failures in periods the captures cover and the logs do not', periodFails('wire_only'), t.blind_spots.wire_only_period_failures);
  eq(
    'unparseable log lines',
    b.unparseable.reduce((n, u) => n + u.lines, 0),
    t.blind_spots.unparseable_lines,
  );
  eq('attempts one side missed while both covered (wire)', b.wire_not_logged.failures + b.wire_not_logged.successes, 0);
  eq('attempts one side missed while both covered (logs)', b.logged_not_on_wire.failures + b.logged_not_on_wire.successes, 0);
  return bad;
}
