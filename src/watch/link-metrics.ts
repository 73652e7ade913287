import { Gauge, type Registry } from 'prom-client';
import { scrapeCounter, scrapeGauge, type MetricsSource } from '../metrics/metrics-source.js';
import type { BlockLinks } from './block-links.js';

/**
 * The fleet's and CrowdSec's health on the `/metrics` page (issue 13): read from the counters the
 * links already keep, at scrape time; no address in any label. Registered only for the links watch
 * runs (a watch without `--fleet` has no `smtpstrike_fleet_*` series).
 */
export function linkMetrics(links: BlockLinks): MetricsSource {
  return {
    register(r: Registry): void {
      const registers = [r];
      const counter = (name: string, help: string, read: () => number): void => scrapeCounter(r, name, help, read);
      const gauge = (name: string, help: string, read: () => number): void => scrapeGauge(r, name, help, read);
      const f = links.fleet;
      if (f) {
        const states = ['connecting', 'ok', 'degraded', 'reconciling', 'closed'] as const;
        new Gauge({
          name: 'smtpstrike_fleet_health',
          help: 'Redis fleet state: 1 for the current one (ok: counting fleet-wide; degraded: counting locally, hits queued)',
          labelNames: ['state'],
          registers,
          collect() {
            for (const st of states) this.set({ state: st }, f.health === st ? 1 : 0);
          },
        });
        gauge('smtpstrike_fleet_queued_hits', 'Hits kept while Redis was away, to be replayed when it is back', () => f.queued);
        counter('smtpstrike_fleet_hits_total', 'Hits sent to the fleet (strikes, auth rejects, counted connections)', () => f.stats.hits);
        counter('smtpstrike_fleet_local_hits_total', 'Hits decided on the local window (Redis away or over the budget)', () => f.stats.localHits);
        counter('smtpstrike_fleet_published_total', 'Blocks this host published on the fleet stream', () => f.stats.published);
        counter('smtpstrike_fleet_remote_blocks_total', "Other hosts' blocks read from the stream", () => f.stats.remoteBlocks);
        counter('smtpstrike_fleet_errors_total', 'Redis errors seen by the fleet client', () => f.stats.errors);
        counter('smtpstrike_fleet_degraded_episodes_total', 'Times the fleet fell back to local counting', () => f.stats.degradedEpisodes);
        gauge('smtpstrike_fleet_hit_latency_p99_seconds', 'Round trip of a fleet hit, 99th percentile over the recent window', () =>
          f.latency.count > 0 ? f.latency.quantile(0.99) / 1000 : 0,
        );
      }
      const c = links.crowdsec;
      if (c) {
        gauge('smtpstrike_crowdsec_queued_alerts', 'Alerts waiting for the CrowdSec Local API', () => c.stats().push?.queued ?? 0);
        counter('smtpstrike_crowdsec_pushed_total', 'Alerts the Local API accepted', () => c.stats().push?.pushed ?? 0);
        counter('smtpstrike_crowdsec_push_failures_total', 'Failed pushes (LAPI down, refused, 5xx)', () => c.stats().push?.failures ?? 0);
        gauge('smtpstrike_crowdsec_up', '1 while the last LAPI exchange (push or poll) succeeded', () => {
          const s = c.stats();
          const bad = (s.push?.consecutiveFailures ?? 0) > 0 || (s.bouncer?.consecutiveFailures ?? 0) > 0;
          return bad ? 0 : 1;
        });
        counter('smtpstrike_crowdsec_bans_total', 'Bans read from the decision stream and applied here', () => links.stats.crowdsecApplied);
      }
      const h = links.hooks;
      if (h) {
        counter('smtpstrike_hook_runs_total', '--on-block/--on-unblock programs started', () => h.stats.started);
        counter('smtpstrike_hook_failures_total', 'Hook programs that failed or timed out', () => h.stats.failed + h.stats.timedOut);
        counter('smtpstrike_hook_dropped_total', 'Hook runs dropped (queue full)', () => h.stats.dropped);
      }
    },
  };
}
