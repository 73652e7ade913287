/**
 * watch's own metrics (`--metrics HOST:PORT`, docs/watch.md "Metrics"): the counters watch already
 * keeps — the pipeline's, the strike engine's, the sensor merge's, the blocker batcher's, the log
 * followers' — read when Prometheus scrapes, so a packet costs nothing more. The only observations
 * made as things happen are per block batch (the apply latency histogram) and per AUTH outcome,
 * strike, reject and block (a counter in WatchService.event), never per packet.
 *
 * No label carries an address, a user name or anything else from the traffic: label values are the
 * fixed sets below, and the log sources' paths as configured.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { LiveStats } from '../live/live-source.js';
import type { Pipeline } from '../pipeline.js';
import type { BatcherStats } from '../blocker/batcher.js';
import { scrapeCounter, scrapeGauge, setCounter, type MetricsSource } from '../metrics/metrics-source.js';
import type { LogSensorCounts } from './log-sensor.js';

export const SENSORS = ['wire', 'inferred', 'log'] as const;
export type SensorName = (typeof SENSORS)[number];
export const OUTCOMES = ['failure', 'success', 'tempfail'] as const;
export type OutcomeName = (typeof OUTCOMES)[number];
export const RULES = ['auth', 'conn'] as const;
export type RuleName = (typeof RULES)[number];

/** The counts WatchService.event keeps for the metrics (one increment per event, no allocation). */
export class WatchCounts {
  /** AUTH outcomes seen by the wire, read in clear or inferred inside TLS (the log's are LogSensor.counts). */
  readonly auth: Record<'wire' | 'inferred', Record<OutcomeName, number>> = {
    wire: { failure: 0, success: 0, tempfail: 0 },
    inferred: { failure: 0, success: 0, tempfail: 0 },
  };
  readonly strikes: Record<SensorName, number> = { wire: 0, inferred: 0, log: 0 };
  readonly rejects: Record<RuleName, number> = { auth: 0, conn: 0 };
  readonly blocks: Record<RuleName, number> = { auth: 0, conn: 0 };
  /** AUTH outcomes the capture saw on refused connections while --tarpit serves them (the decoy's, not the server's). */
  tarpitWire = 0;
  /** Blocks not applied because the key holds this host's own or a loopback address. */
  blocksSkipped = 0;
}

/** What the metrics read from a running watch (WatchService hands one over; tests may fake it). */
export interface WatchMetricsView {
  pipeline: Pipeline;
  counts: WatchCounts;
  blocker: string;
  captureBackend: () => string;
  /** The capture's own counters (tcpdump asked with SIGUSR1; cap: unknown), null before start. */
  captureStats: () => Promise<LiveStats | null>;
  batcher: () => { stats: BatcherStats; queued: number; setOnApplied(f: (seconds: number) => void): void };
  logSensor: () => { counts: LogSensorCounts; lagSeconds: ReadonlyMap<string, number> } | null;
  logLines: () => ReadonlyMap<string, number>;
  logUnreadBytes: () => Record<string, number>;
  killRuns: () => number;
  /** Wall time, seconds (active blocks are those whose end is still ahead). */
  now: () => number;
}

/** Blocker apply latency buckets, seconds: nft/ipset transactions take about 1–20 ms, iptables more. */
export const APPLY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The names this source registers (docs/watch.md and the Grafana dashboard use them). */
export const WATCH_METRIC_NAMES = [
  'smtpstrike_info',
  'smtpstrike_packets_total',
  'smtpstrike_packet_bytes_total',
  'smtpstrike_smtp_packets_total',
  'smtpstrike_capture_received_total',
  'smtpstrike_capture_dropped_total',
  'smtpstrike_flows_total',
  'smtpstrike_open_flows',
  'smtpstrike_opaque_flows_total',
  'smtpstrike_flow_evictions_total',
  'smtpstrike_gaps_total',
  'smtpstrike_auth_outcomes_total',
  'smtpstrike_sensor_attempts_total',
  'smtpstrike_strikes_total',
  'smtpstrike_rejects_total',
  'smtpstrike_blocks_total',
  'smtpstrike_blocks_skipped_total',
  'smtpstrike_active_blocks',
  'smtpstrike_strike_entries',
  'smtpstrike_blocker_ops_total',
  'smtpstrike_blocker_queued_ops',
  'smtpstrike_blocker_apply_seconds',
  'smtpstrike_kill_established_runs_total',
  'smtpstrike_log_lines_total',
  'smtpstrike_log_unread_bytes',
  'smtpstrike_log_lag_seconds',
] as const;

export function watchMetrics(v: WatchMetricsView): MetricsSource {
  return {
    register(r: Registry): void {
      const registers = [r];
      // Both capture metrics ask once per scrape (tcpdump answers SIGUSR1 with one statistics line).
      let asked: { at: number; stats: Promise<LiveStats | null> } | null = null;
      const captureStats = (): Promise<LiveStats | null> => {
        const at = performance.now();
        if (!asked || at - asked.at > 1000) asked = { at, stats: v.captureStats().catch(() => null) };
        return asked.stats;
      };
      collectDefaultMetrics({ register: r, prefix: 'smtpstrike_' });
      new Gauge({
        name: 'smtpstrike_info',
        help: 'Always 1; the labels say which blocker and capture backend this watch runs',
        labelNames: ['blocker', 'capture_backend'],
        registers,
        collect() {
          this.reset();
          this.set({ blocker: v.blocker, capture_backend: v.captureBackend() }, 1);
        },
      });
      const simple = (name: string, help: string, read: () => number): void => scrapeCounter(r, name, help, read);
      const gauge = (name: string, help: string, read: () => number): void => scrapeGauge(r, name, help, read);
      const p = v.pipeline;
      simple('smtpstrike_packets_total', 'Packets handed to the pipeline by the capture', () => p.packets);
      simple('smtpstrike_packet_bytes_total', 'Bytes of those packets (captured length)', () => p.bytes);
      simple('smtpstrike_smtp_packets_total', 'Packets to or from an SMTP server port', () => p.smtpPackets);
      new Counter({
        name: 'smtpstrike_capture_received_total',
        help: 'Packets the kernel filter passed to the capture (tcpdump statistics; absent when unknown)',
        registers,
        async collect() {
          this.reset();
          const st = await captureStats();
          if (st?.received != null) setCounter(this, st.received);
        },
      });
      new Counter({
        name: 'smtpstrike_capture_dropped_total',
        help: 'Packets dropped before watch read them: where="buffer" the kernel capture buffer was full, where="interface" the driver dropped them',
        labelNames: ['where'],
        registers,
        async collect() {
          this.reset();
          const st = await captureStats();
          if (st?.dropped != null) setCounter(this, st.dropped, { where: 'buffer' });
          if (st?.ifDropped != null) setCounter(this, st.ifDropped, { where: 'interface' });
        },
      });
      simple('smtpstrike_flows_total', 'TCP flows to SMTP ports seen', () => p.flows.stats.flows);
      gauge('smtpstrike_open_flows', 'TCP flows in the flow table now', () => p.flows.size);
      simple('smtpstrike_opaque_flows_total', 'SMTP flows that went opaque (STARTTLS, or TLS from the first byte)', () => p.smtpStats.opaqueFlows);
      new Counter({
        name: 'smtpstrike_flow_evictions_total',
        help: 'Flows dropped from the table: reason="full" for room, "idle" timed out, "reused" a new SYN on its ports',
        labelNames: ['reason'],
        registers,
        collect() {
          this.reset();
          const f = p.flows.stats;
          setCounter(this, f.evicted, { reason: 'full' });
          setCounter(this, f.expired, { reason: 'idle' });
          setCounter(this, f.reused, { reason: 'reused' });
        },
      });
      simple('smtpstrike_gaps_total', 'Holes in reassembled streams (bytes the capture missed)', () => p.assembler.stats.gaps);
      new Counter({
        name: 'smtpstrike_auth_outcomes_total',
        help: 'AUTH outcomes by the sensor that saw them: wire (read in clear), inferred (inside TLS), log (the mail log); one attempt two sensors saw counts under each',
        labelNames: ['sensor', 'outcome'],
        registers,
        collect() {
          this.reset();
          for (const s of ['wire', 'inferred'] as const) for (const o of OUTCOMES) setCounter(this, v.counts.auth[s][o], { sensor: s, outcome: o });
          const lc = v.logSensor()?.counts;
          setCounter(this, lc?.failures ?? 0, { sensor: 'log', outcome: 'failure' });
          setCounter(this, lc?.successes ?? 0, { sensor: 'log', outcome: 'success' });
          setCounter(this, lc?.tempfails ?? 0, { sensor: 'log', outcome: 'tempfail' });
        },
      });
      new Counter({
        name: 'smtpstrike_sensor_attempts_total',
        help: 'Attempts after the sensor merge (with --log or --journal): seen_by wire_only, inferred_only, log_only, both_wire, both_inferred',
        labelNames: ['seen_by'],
        registers,
        collect() {
          this.reset();
          if (!v.logSensor()) return;
          const c = p.merge.coverage();
          setCounter(this, c.only.wire, { seen_by: 'wire_only' });
          setCounter(this, c.only.inferred, { seen_by: 'inferred_only' });
          setCounter(this, c.only.log, { seen_by: 'log_only' });
          setCounter(this, c.both.wire, { seen_by: 'both_wire' });
          setCounter(this, c.both.inferred, { seen_by: 'both_inferred' });
        },
      });
      new Counter({
        name: 'smtpstrike_strikes_total',
        help: 'Strikes (failures counted towards a block) by the sensor that counted them',
        labelNames: ['sensor'],
        registers,
        collect() {
          this.reset();
          for (const s of SENSORS) setCounter(this, v.counts.strikes[s], { sensor: s });
        },
      });
      const byRule = (name: string, help: string, read: (rule: RuleName) => number): void => {
        new Counter({
          name,
          help,
          labelNames: ['rule'],
          registers,
          collect() {
            this.reset();
            for (const rule of RULES) setCounter(this, read(rule), { rule });
          },
        });
      };
      byRule(
        'smtpstrike_rejects_total',
        'Connections refused by a rule (auth: too many failures, conn: too many connections)',
        (rule) => v.counts.rejects[rule],
      );
      byRule('smtpstrike_blocks_total', 'Blocks started, by rule', (rule) => v.counts.blocks[rule]);
      simple('smtpstrike_blocks_skipped_total', "Blocks not applied: the key holds this host's own or a loopback address", () => v.counts.blocksSkipped);
      new Gauge({
        name: 'smtpstrike_active_blocks',
        help: 'Blocks standing now (their end still ahead), by rule',
        labelNames: ['rule'],
        registers,
        collect() {
          const a = p.strikes.activeBlocks(v.now());
          this.set({ rule: 'auth' }, a.auth);
          this.set({ rule: 'conn' }, a.conn);
        },
      });
      gauge('smtpstrike_strike_entries', 'Addresses in the strike table', () => p.strikes.entries);
      new Counter({
        name: 'smtpstrike_blocker_ops_total',
        help: 'Firewall operations (add or refresh, delete): result="applied", or "failed" after a retry',
        labelNames: ['result'],
        registers,
        collect() {
          this.reset();
          const st = v.batcher().stats;
          setCounter(this, st.applied, { result: 'applied' });
          setCounter(this, st.failed, { result: 'failed' });
        },
      });
      gauge('smtpstrike_blocker_queued_ops', 'Firewall operations waiting for the next transaction', () => v.batcher().queued);
      const apply = new Histogram({
        name: 'smtpstrike_blocker_apply_seconds',
        help: 'Time of one firewall transaction (one batch of block operations)',
        buckets: APPLY_BUCKETS,
        registers,
      });
      v.batcher().setOnApplied((s) => apply.observe(s));
      simple('smtpstrike_kill_established_runs_total', "Runs of ss -K ending a blocked address's open sessions (--kill-established)", v.killRuns);
      new Counter({
        name: 'smtpstrike_log_lines_total',
        help: 'Mail log lines read, by source (a followed file, or "journal")',
        labelNames: ['source'],
        registers,
        collect() {
          this.reset();
          for (const [source, n] of v.logLines()) setCounter(this, n, { source });
        },
      });
      new Gauge({
        name: 'smtpstrike_log_unread_bytes',
        help: 'Bytes written to a followed log file and not yet read (the log sensor falling behind)',
        labelNames: ['source'],
        registers,
        collect() {
          this.reset();
          for (const [source, n] of Object.entries(v.logUnreadBytes())) this.set({ source }, n);
        },
      });
      new Gauge({
        name: 'smtpstrike_log_lag_seconds',
        help: "How late the latest AUTH outcome line of a source was read: read time minus the line's own stamp",
        labelNames: ['source'],
        registers,
        collect() {
          this.reset();
          for (const [source, s] of v.logSensor()?.lagSeconds ?? []) this.set({ source }, s);
        },
      });
    },
  };
}
