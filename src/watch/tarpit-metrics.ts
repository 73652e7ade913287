/**
 * The tarpit's metrics (`--tarpit` with `--metrics`, docs/tarpit.md "Metrics"): counted from the
 * tarpit child's events in TarpitSupervisor.counts, read at scrape time. No address or user name
 * in a label.
 */
import { Counter, type Registry } from 'prom-client';
import { scrapeCounter, scrapeGauge, setCounter, type MetricsSource } from '../metrics/metrics-source.js';
import { TARPIT_ENDS, TARPIT_REFUSALS } from '../tarpit/tarpit-types.js';
import type { TarpitCounts } from '../tarpit/tarpit-supervisor.js';

export const TARPIT_METRIC_NAMES = [
  'smtpstrike_tarpit_sessions_total',
  'smtpstrike_tarpit_refused_total',
  'smtpstrike_tarpit_auth_attempts_total',
  'smtpstrike_tarpit_decoy_successes_total',
  'smtpstrike_tarpit_held_seconds_total',
  'smtpstrike_tarpit_connections',
  'smtpstrike_tarpit_restarts_total',
] as const;

export function tarpitMetrics(c: TarpitCounts): MetricsSource {
  return {
    register(r: Registry): void {
      new Counter({
        name: 'smtpstrike_tarpit_sessions_total',
        help: 'Tarpit connections ended, by how: quit, closed (by the client), lifetime, idle, error, shutdown',
        labelNames: ['end'],
        registers: [r],
        collect() {
          this.reset();
          for (const e of TARPIT_ENDS) setCounter(this, c.sessions[e], { end: e });
        },
      });
      new Counter({
        name: 'smtpstrike_tarpit_refused_total',
        help: 'Tarpit connections closed at once because a cap was full: reason total or per_address',
        labelNames: ['reason'],
        registers: [r],
        collect() {
          this.reset();
          for (const x of TARPIT_REFUSALS) setCounter(this, c.refused[x], { reason: x });
        },
      });
      scrapeCounter(r, 'smtpstrike_tarpit_auth_attempts_total', 'AUTH attempts made in the tarpit', () => c.authAttempts);
      scrapeCounter(r, 'smtpstrike_tarpit_decoy_successes_total', 'AUTH attempts the tarpit answered with a decoy 235', () => c.decoySuccesses);
      scrapeCounter(r, 'smtpstrike_tarpit_held_seconds_total', 'Seconds the ended tarpit connections were held, summed', () => c.heldSeconds);
      scrapeGauge(r, 'smtpstrike_tarpit_connections', 'Connections the tarpit holds now (as of its last report, each second)', () => c.connections);
      scrapeCounter(r, 'smtpstrike_tarpit_restarts_total', 'Times the tarpit child was started again after it died', () => c.restarts);
    },
  };
}
