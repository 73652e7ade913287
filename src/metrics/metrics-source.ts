/**
 * What a part of watch adds to the `/metrics` page. The watch service registers its own (capture,
 * pipeline, strikes, blocker, log sensor: src/watch/watch-metrics.ts); the fleet pieces (Redis,
 * CrowdSec LAPI: issue 13) add theirs through WatchService.addMetricsSource() before start().
 *
 * Rules for a source: read counters the code already keeps, at scrape time (a metric's `collect`),
 * never per packet; no label whose values come from the traffic (no address, no user name: label
 * values are a small fixed set such as `sensor="wire"`); names start with `smtpstrike_`.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface MetricsSource {
  /** Creates this source's metrics on `registry` (once, before the first scrape). */
  register(registry: Registry): void;
}

/** Metric names carry this prefix (docs/watch.md lists them; contrib/grafana-smtpstrike.json queries them). */
export const METRIC_PREFIX = 'smtpstrike_';

/** Sets a counter to an absolute value read from elsewhere (prom-client's counters only go up by inc). */
export function setCounter<L extends string>(c: Counter<L>, value: number, labels?: Partial<Record<L, string>>): void {
  if (labels) c.inc(labels, value);
  else c.inc(value);
}

/** A counter whose value is read at scrape time from a count the code already keeps. */
export function scrapeCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      setCounter(this, read());
    },
  });
}

/** A gauge read at scrape time. */
export function scrapeGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}
