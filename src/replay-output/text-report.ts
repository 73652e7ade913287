import type { Coverage } from '../pipeline.js';
import type { FileReport } from '../source/capture-files.js';
import type { BlockInterval } from '../strikes/strike-engine.js';
import type { ReplayTally } from './client-tally.js';
import { escapeControl } from '../text/control-chars.js';
import { localTime } from './detail-lines.js';

export { localTime } from './detail-lines.js';

export function duration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.round(s % 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

export interface TextReportInput {
  tally: ReplayTally;
  blocks: BlockInterval[];
  coverage: Coverage;
  files: FileReport[];
  summaryOnly: boolean;
}

/** Collects lines into ~64 KiB pieces (a million clients make ~100 MB of text). */
class ChunkedLines {
  private parts: string[] = [];
  private size = 0;
  push(...lines: string[]): void {
    for (const l of lines) {
      this.parts.push(l);
      this.size += l.length + 1;
    }
  }
  get full(): boolean {
    return this.size > 65536;
  }
  take(): string {
    const s = this.parts.length > 0 ? this.parts.join('\n') + '\n' : '';
    this.parts = [];
    this.size = 0;
    return s;
  }
}

/** The terminal report of `replay`: per client, the strike log, blocks, and coverage. */
export function renderText(r: TextReportInput): string {
  return [...textChunks(r)].join('');
}

/**
 * renderText in pieces, made as the consumer asks for them: the writer can wait for a slow pipe
 * between pieces instead of queueing the whole report in memory.
 */
export function* textChunks(r: TextReportInput): Generator<string, void, undefined> {
  const out = new ChunkedLines();
  const { tally, coverage: c } = r;
  const rows = tally.clients.rowsByFailures();
  const tt = tally.totals;
  out.push(`Clients with AUTH outcomes: ${rows.length}` + `  (failures ${tt.failures}, successes ${tt.successes}, temporary failures ${tt.tempfails})`);
  // Encrypted sessions hide their replies: the headline says how many there were and what was
  // inferred inside them, so "nothing read" never reads as "no attack".
  if (c.opaque_flows > 0) {
    out.push(
      `Encrypted (TLS) sessions: ${c.opaque_flows}; inferred inside them from record sizes and timing: ` +
        `failures ${tt.inferred_failures}, successes ${tt.inferred_successes}, temporary failures ${tt.inferred_tempfails}` +
        `  (sessions classified ${c.opaque_sessions_classified}, ambiguous ${c.opaque_sessions_ambiguous}, unclassified ${c.opaque_sessions_unclassified})`,
    );
  }
  for (const row of rows) {
    if (out.full) yield out.take();
    const ip = tally.clients.ipOf(row);
    const t = tally.clients.view(row);
    out.push('');
    const users = t.users.length ? `; users: ${t.users.sort().map(escapeControl).join(', ')}` : '';
    const ti = t.inferred;
    const inferred =
      ti.failures + ti.successes + ti.tempfails > 0
        ? `; inferred inside TLS: ${plural(ti.failures, 'failure')}, ${plural(ti.successes, 'success', 'successes')}, ${plural(ti.tempfails, 'temporary failure')}`
        : '';
    out.push(
      `${ip}: ${plural(t.failures, 'failure')}, ${plural(t.successes, 'success', 'successes')}, ${plural(t.tempfails, 'temporary failure')}${inferred}${users}`,
    );
    if (r.summaryOnly) continue;
    for (const l of t.details) out.push(l);
    if (t.eventsNotKept) out.push(`  … and ${t.eventsNotKept} more (--details-per-client, --json)`);
  }
  if (rows.length === 0) {
    out.push(
      c.opaque_flows > 0
        ? 'No AUTH outcome read in the clear or inferred inside TLS (see the TLS line of the coverage).'
        : 'No SMTP authentication replies found.',
    );
  }

  if (!r.summaryOnly) {
    out.push('', "Strike log (what the seed's iptables rules would have logged):");
    if (tally.log.size === 0) out.push('  (none)');
    for (let i = 0; i < tally.log.size; i++) {
      out.push(tally.log.line(i));
      if (out.full) yield out.take();
    }
    if (tally.logLinesNotKept) out.push(`  … and ${tally.logLinesNotKept} more lines`);
  }

  out.push('', 'Blocks (address, rule, from → until):');
  if (r.blocks.length === 0) out.push('  (none)');
  for (const b of r.blocks) {
    const refused = b.rejects ? `, ${plural(b.rejects, 'connection')} refused` : '';
    const level = b.level > 0 ? `, level ${b.level}` : ''; // a repeat offender's longer block (strikes/escalation.ts)
    out.push(`  ${b.key.padEnd(15)}  ${b.rule.padEnd(4)}  ${localTime(b.from)} → ${localTime(b.until)}  (${duration(b.until - b.from)}${refused}${level})`);
    if (out.full) yield out.take();
  }

  out.push('', 'Coverage:');
  for (const f of r.files) {
    const err = f.error ? `  ERROR: ${f.error.reason} at byte offset ${f.error.offset}` : '';
    out.push(`  ${f.file}: ${f.format}${f.compressed ? ' (gzip)' : ''}, ${plural(f.packets, 'packet')}${err}`);
  }
  const skipped =
    Object.entries(c.skipped)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  out.push(`  packets ${c.packets} (${c.bytes} bytes), SMTP ${c.smtp_packets}; skipped: ${skipped}`);
  if (c.first_ts !== null && c.last_ts !== null)
    out.push(`  time span ${localTime(c.first_ts)} → ${localTime(c.last_ts)} (${duration(c.last_ts - c.first_ts)})`);
  out.push(`  flows ${c.flows}, opaque after STARTTLS/TLS ${c.opaque_flows}, begun mid-stream ${c.midstream_starts}`);
  if (c.opaque_flows > 0) {
    const inf = c.inferred;
    out.push(
      `  TLS: ${c.tls_records} records read, ${c.tls_lost_directions} directions lost; opaque sessions classified ${c.opaque_sessions_classified}, ambiguous ${c.opaque_sessions_ambiguous}, unclassified ${c.opaque_sessions_unclassified}; ` +
        `inferred failures ${inf.failures}, successes ${inf.successes}, temporary failures ${inf.tempfails}, ambiguous records (never counted) ${inf.ambiguous_records}` +
        (c.inferred_not_struck ? `; inferred failures that struck nothing (--no-inferred-strikes or sizes not known) ${c.inferred_not_struck}` : ''),
    );
  }
  out.push(
    `  reassembly: gaps ${c.gaps} (${c.gap_bytes} bytes lost), retransmitted ${c.retransmitted_bytes} bytes, overlapping ${c.overlap_bytes} bytes, out of order ${c.out_of_order_segments} segments, buffer overflows ${c.pending_overflows}`,
  );
  out.push(`  replies: malformed lines ${c.malformed_replies}, codes read from lines cut by a gap ${c.partial_replies}, over-long lines ${c.long_lines}`);
  const ev = Object.entries(c.evictions)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  out.push(`  evictions: ${ev}`);
  if (c.failures_on_rejected_connections) out.push(`  failures on connections the rules had refused (no strike): ${c.failures_on_rejected_connections}`);
  if (c.escalated_rejects) out.push(`  connections refused by repeat offenders' longer blocks (past the strike window): ${c.escalated_rejects}`);
  if (c.whitelisted_events) out.push(`  whitelisted events (never counted): ${c.whitelisted_events}`);
  const d = tally.dropped;
  if (d.clients) {
    out.push(
      `  clients past --max-clients, not listed (counted in totals only): ${d.exact ? '' : 'at least '}${d.clients}` +
        ` (failures ${d.failures}, successes ${d.successes}, temporary failures ${d.tempfails})`,
    );
  }
  yield out.take();
}
