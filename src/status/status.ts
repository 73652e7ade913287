/**
 * `smtpstrike status`: a running watch's strikes, blocks and health, with no server of its own.
 *  - strikes and blocks come from the state file watch rewrites within a second of every change
 *    (the file `report --state` reads too);
 *  - health comes from watch's Prometheus endpoint (`--metrics`, `metrics:`), scraped once: capture
 *    counters and drops, flows, outcomes by sensor, the blocker's failures and latency, log lag.
 *    Without an endpoint the health is unknown; an endpoint that does not answer means watch is not
 *    running (or listens elsewhere): exit 3, as `systemctl status` says "not running".
 */
import { request } from 'node:http';
import { readStateChecked } from '../strike-state/state-file.js';
import type { ListenAddress } from '../metrics/listen-address.js';
import { formatListenAddress } from '../metrics/listen-address.js';
import { parsePromText, sumOf, has, type Sample } from '../metrics/prom-text.js';

export const STATUS_EXIT = { ok: 0, failed: 1, notRunning: 3 } as const;

export interface StatusBlock {
  key: string;
  rule: 'auth' | 'conn';
  from: number;
  until: number;
  rejects: number;
  /** Repeat-offender level (strikes/escalation.ts): 0 for a first block, N for N earlier ones within the lookback. */
  level: number;
}

export interface StatusStrike {
  key: string;
  /** Failure stamps kept in the saved table (at most the hitcount). */
  failures: number;
  last_failure: number;
}

export interface StatusHealth {
  /** The endpoint answered. */
  reachable: boolean;
  url: string | null;
  error?: string;
  uptime_seconds?: number | null;
  packets?: number;
  smtp_packets?: number;
  capture_received?: number | null;
  capture_dropped?: { buffer: number | null; interface: number | null };
  flows?: number;
  open_flows?: number;
  opaque_flows?: number;
  auth_outcomes?: Record<'wire' | 'inferred' | 'log', Record<'failure' | 'success' | 'tempfail', number>>;
  strikes?: Record<'wire' | 'inferred' | 'log', number>;
  rejects?: Record<'auth' | 'conn', number>;
  blocks_started?: Record<'auth' | 'conn', number>;
  active_blocks?: Record<'auth' | 'conn', number>;
  strike_entries?: number;
  blocker?: { applied: number; failed: number; queued: number; transactions: number; apply_seconds_mean: number | null };
  logs?: Record<string, { lines: number; unread_bytes: number | null; lag_seconds: number | null }>;
}

export interface StatusDoc {
  state_file: string;
  /** null: no state file yet (watch never saved one there). */
  saved_at: number | null;
  state_error?: string;
  now: number;
  blocks: StatusBlock[];
  strikes: StatusStrike[];
  health: StatusHealth;
}

/** GET http://HOST:PORT/metrics, within `timeoutMs`. */
export async function scrape(at: ListenAddress, timeoutMs: number): Promise<string> {
  // A wildcard listener is reached on loopback.
  const host = at.host === '0.0.0.0' ? '127.0.0.1' : at.host === '::' ? '::1' : at.host;
  return await new Promise<string>((resolve, reject) => {
    const req = request({ host, port: at.port, path: '/metrics', method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', (e: NodeJS.ErrnoException) => reject(new Error(e.code === 'ECONNREFUSED' ? 'connection refused' : e.message)));
    req.end();
  });
}

/** What the samples say, in status's terms. */
export function healthOf(samples: readonly Sample[], url: string, now: number): StatusHealth {
  const n = (name: string, match: Record<string, string> = {}): number => sumOf(samples, name, match);
  const maybe = (name: string, match: Record<string, string> = {}): number | null =>
    samples.some((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)) ? n(name, match) : null;
  const outcomes = (sensor: string): Record<'failure' | 'success' | 'tempfail', number> => ({
    failure: n('smtpstrike_auth_outcomes_total', { sensor, outcome: 'failure' }),
    success: n('smtpstrike_auth_outcomes_total', { sensor, outcome: 'success' }),
    tempfail: n('smtpstrike_auth_outcomes_total', { sensor, outcome: 'tempfail' }),
  });
  const rules = (name: string): Record<'auth' | 'conn', number> => ({ auth: n(name, { rule: 'auth' }), conn: n(name, { rule: 'conn' }) });
  const started = maybe('smtpstrike_process_start_time_seconds');
  const transactions = n('smtpstrike_blocker_apply_seconds_count');
  const logs: NonNullable<StatusHealth['logs']> = {};
  for (const s of samples) {
    if (s.name !== 'smtpstrike_log_lines_total' || s.labels.source === undefined) continue;
    const source = s.labels.source;
    logs[source] = {
      lines: s.value,
      unread_bytes: maybe('smtpstrike_log_unread_bytes', { source }),
      lag_seconds: maybe('smtpstrike_log_lag_seconds', { source }),
    };
  }
  return {
    reachable: true,
    url,
    uptime_seconds: started === null ? null : Math.max(0, Math.round(now - started)),
    packets: n('smtpstrike_packets_total'),
    smtp_packets: n('smtpstrike_smtp_packets_total'),
    capture_received: has(samples, 'smtpstrike_capture_received_total') ? n('smtpstrike_capture_received_total') : null,
    capture_dropped: {
      buffer: maybe('smtpstrike_capture_dropped_total', { where: 'buffer' }),
      interface: maybe('smtpstrike_capture_dropped_total', { where: 'interface' }),
    },
    flows: n('smtpstrike_flows_total'),
    open_flows: n('smtpstrike_open_flows'),
    opaque_flows: n('smtpstrike_opaque_flows_total'),
    auth_outcomes: { wire: outcomes('wire'), inferred: outcomes('inferred'), log: outcomes('log') },
    strikes: {
      wire: n('smtpstrike_strikes_total', { sensor: 'wire' }),
      inferred: n('smtpstrike_strikes_total', { sensor: 'inferred' }),
      log: n('smtpstrike_strikes_total', { sensor: 'log' }),
    },
    rejects: rules('smtpstrike_rejects_total'),
    blocks_started: rules('smtpstrike_blocks_total'),
    active_blocks: rules('smtpstrike_active_blocks'),
    strike_entries: n('smtpstrike_strike_entries'),
    blocker: {
      applied: n('smtpstrike_blocker_ops_total', { result: 'applied' }),
      failed: n('smtpstrike_blocker_ops_total', { result: 'failed' }),
      queued: n('smtpstrike_blocker_queued_ops'),
      transactions,
      apply_seconds_mean: transactions > 0 ? n('smtpstrike_blocker_apply_seconds_sum') / transactions : null,
    },
    logs,
  };
}

export async function collectStatus(o: { stateFile: string; metrics: ListenAddress | null; timeoutMs: number; now?: number }): Promise<StatusDoc> {
  const now = o.now ?? Date.now() / 1000;
  const doc: StatusDoc = { state_file: o.stateFile, saved_at: null, now, blocks: [], strikes: [], health: { reachable: false, url: null } };
  try {
    const read = readStateChecked(o.stateFile);
    if (read) {
      doc.saved_at = read.state.saved_at;
      for (const e of read.state.entries) {
        const b = e.block;
        if (b && b.until >= now) doc.blocks.push({ key: e.key, rule: b.rule, from: b.from, until: b.until, rejects: b.rejects, level: b.level ?? 0 });
        if (e.auth.length > 0) doc.strikes.push({ key: e.key, failures: e.auth.length, last_failure: e.auth.reduce((m, t) => Math.max(m, t), -Infinity) });
      }
      doc.blocks.sort((a, b) => b.until - a.until || a.key.localeCompare(b.key));
      doc.strikes.sort((a, b) => b.failures - a.failures || b.last_failure - a.last_failure || a.key.localeCompare(b.key));
    }
  } catch (e) {
    doc.state_error = (e as Error).message;
  }
  if (o.metrics) {
    const url = `http://${formatListenAddress(o.metrics)}/metrics`;
    try {
      doc.health = healthOf(parsePromText(await scrape(o.metrics, o.timeoutMs)), url, now);
    } catch (e) {
      doc.health = { reachable: false, url, error: (e as Error).message };
    }
  }
  return doc;
}

const iso = (t: number): string => new Date(Math.round(t) * 1000).toISOString().replace('.000Z', 'Z');
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** The text form; `limit` blocks and strikes at most. */
export function renderStatus(d: StatusDoc, limit: number): string {
  const out: string[] = [];
  const ago = d.saved_at === null ? '' : `, saved ${iso(d.saved_at)} (${Math.max(0, Math.round(d.now - d.saved_at))} s ago)`;
  out.push(`state file ${d.state_file}${d.state_error ? `: unreadable: ${d.state_error}` : d.saved_at === null ? ': none yet' : ago}`);
  out.push(`blocks standing: ${d.blocks.length}`);
  for (const b of d.blocks.slice(0, limit)) {
    out.push(
      `  ${b.key.padEnd(24)} ${b.rule.padEnd(4)} since ${iso(b.from)} until ${iso(b.until)} (${Math.round(b.until - d.now)} s left), ${plural(b.rejects, 'connection')} refused, level ${b.level}`,
    );
  }
  if (d.blocks.length > limit) out.push(`  … and ${d.blocks.length - limit} more (--limit, --json)`);
  out.push(`addresses with failures in the strike table: ${d.strikes.length}`);
  for (const s of d.strikes.slice(0, limit)) out.push(`  ${s.key.padEnd(24)} ${plural(s.failures, 'failure')}, last ${iso(s.last_failure)}`);
  if (d.strikes.length > limit) out.push(`  … and ${d.strikes.length - limit} more (--limit, --json)`);
  const h = d.health;
  if (h.url === null) {
    out.push('watch: health unknown (no metrics endpoint: set metrics: in the config, or pass --metrics HOST:PORT)');
  } else if (!h.reachable) {
    out.push(`watch: not reachable at ${h.url}: ${h.error ?? 'no answer'} (not running, or its metrics are elsewhere)`);
  } else {
    out.push(`watch: running${h.uptime_seconds != null ? ` for ${h.uptime_seconds} s` : ''} (${h.url})`);
    const dr = h.capture_dropped;
    const drops =
      dr && (dr.buffer !== null || dr.interface !== null)
        ? `dropped: buffer ${dr.buffer ?? 'unknown'}, interface ${dr.interface ?? 'unknown'}`
        : 'drops unknown';
    out.push(`  capture: ${h.packets} packets (${h.smtp_packets} SMTP), ${drops}`);
    out.push(`  flows: ${h.flows} (${h.open_flows} open, ${h.opaque_flows} opaque)`);
    for (const s of ['wire', 'inferred', 'log'] as const) {
      const a = h.auth_outcomes![s];
      out.push(
        `  auth outcomes, ${s.padEnd(8)}: ${plural(a.failure, 'failure')}, ${plural(a.success, 'success', 'successes')}, ${plural(a.tempfail, 'tempfail')}`,
      );
    }
    const st = h.strikes!;
    out.push(
      `  strikes: ${st.wire + st.inferred + st.log} (wire ${st.wire}, inferred ${st.inferred}, log ${st.log}); ${plural(h.strike_entries ?? 0, 'address', 'addresses')} in the strike table`,
    );
    out.push(
      `  rejects: auth ${h.rejects!.auth}, conn ${h.rejects!.conn}; blocks started: auth ${h.blocks_started!.auth}, conn ${h.blocks_started!.conn}; standing: auth ${h.active_blocks!.auth}, conn ${h.active_blocks!.conn}`,
    );
    const b = h.blocker!;
    const mean = b.apply_seconds_mean === null ? '' : `, mean transaction ${(b.apply_seconds_mean * 1000).toFixed(1)} ms`;
    out.push(`  blocker: ${b.applied} ops applied, ${b.failed} failed, ${b.queued} queued, ${plural(b.transactions, 'transaction')}${mean}`);
    for (const [src, l] of Object.entries(h.logs ?? {})) {
      const lag = l.lag_seconds === null ? '' : `, lag ${l.lag_seconds.toFixed(1)} s`;
      out.push(`  log ${src}: ${l.lines} lines${l.unread_bytes === null ? '' : `, ${l.unread_bytes} bytes unread`}${lag}`);
    }
  }
  return out.join('\n') + '\n';
}
