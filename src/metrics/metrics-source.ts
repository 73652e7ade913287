/**
 * What a part of watch adds to the `/metrics` page. The watch service registers its own (capture,
 * pipeline, strikes, blocker, log sensor: src/watch/watch-metrics.ts); the fleet pieces (Redis,
 * CrowdSec LAPI: issue 13) add theirs through WatchService.addMetricsSource() before start().
 *
 * Rules for a source: read counters the code already keeps, at scrape time (a metric's `collect`),
 * never per packet; no label whose values come from the traffic (no address, no user name: label
 * values are a small fixed set such as `sensor="wire"`); names start with `smtpstrike_`.
 */
import type { Registry } from 'prom-client';

export interface MetricsSource {
  /** Creates this source's metrics on `registry` (once, before the first scrape). */
  register(registry: Registry): void;
}

/** Metric names carry this prefix (docs/watch.md lists them; contrib/grafana-smtpstrike.json queries them). */
export const METRIC_PREFIX = 'smtpstrike_';
