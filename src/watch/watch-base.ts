import type { Logger } from 'pino';
import type { Blocker, BlockLogger } from '../blocker/types.js';
import { BlockBatcher } from '../blocker/batcher.js';
import { createBlocker } from '../blocker/index.js';
import { SpawnRunner, type CommandRunner } from '../blocker/runner.js';
import type { EventSink, PipelineEvent } from '../events.js';
import { LiveCaptureError, type LiveSource } from '../live/live-source.js';
import { Pipeline, type PipelineOptions } from '../pipeline.js';
import { JournalFollower } from '../logfollow/journal-follower.js';
import { rawLines, type RawLines } from './logger.js';
import { MultiFollower } from '../logfollow/multi-follower.js';
import type { FollowerState } from '../strike-state/state-file.js';
import { ProtectedAddresses } from './own-addresses.js';
import { SessionKiller } from './session-killer.js';
import { LogSensor } from './log-sensor.js';
import { BlockLinks } from './block-links.js';
import { blockPorts } from './services.js';
import { ReplaySource, type ReplayEnd } from './replay-source.js';
import type { ListenAddress } from '../metrics/listen-address.js';
import type { MetricsSource } from '../metrics/metrics-source.js';
import { MetricsServer } from '../metrics/metrics-server.js';
import { watchMetrics, WatchCounts } from './watch-metrics.js';
import { linkMetrics } from './link-metrics.js';
import { TarpitSupervisor } from '../tarpit/tarpit-supervisor.js';
import type { TarpitTarget as TarpitAddress } from '../blocker/tarpit-target.js';
import type { TarpitEvent } from '../tarpit/tarpit-types.js';
import { tarpitMetrics } from './tarpit-metrics.js';
import type { WatchDeps, WatchSettings } from './watch-settings.js';

/**
 * The watch service's state and wiring: the pipeline, the blocker and its batcher, the log sensor,
 * the links, the tarpit and the metrics sources, made in the constructor. The layers on top
 * (watch-log-follow.ts, watch-state.ts, watch-events.ts, watch-service.ts) add what it does.
 */
export abstract class WatchBase implements EventSink {
  readonly pipeline: Pipeline;
  protected readonly blockerImpl: Blocker;
  protected readonly batcher: BlockBatcher;
  protected source: LiveSource | ReplaySource | null = null;
  /** --replay: the time the state was restored at (packet time), for a replay with no packet. */
  protected restoredAt: number | null = null;
  protected endReplay: (end: ReplayEnd) => void = () => undefined;
  /**
   * --replay: settles once every file was read to its end (or could not be), after the last
   * flows were flushed through the pipeline (as `replay` does at the end). The owner then stops
   * the service (blocks applied, state written) and exits. Never settles without --replay, nor
   * on stop() before the end.
   */
  readonly replayEnded: Promise<ReplayEnd> = new Promise((resolve) => {
    this.endReplay = resolve;
  });
  protected timer: NodeJS.Timeout | null = null;
  /** The hot lines' writer without pino (logger.ts RawLines), when the logger is makeLogger's; else pino. */
  protected raw: RawLines | undefined;
  protected statsTimer: NodeJS.Timeout | null = null;
  protected dirty = false;
  /** The saved state was read (or there was none): only then may we overwrite it. */
  protected restored = false;
  /** Loopback only until start() reads the interfaces. */
  protected own = new ProtectedAddresses([]);
  protected ownTimer: NodeJS.Timeout | null = null;
  protected readonly skipWarned = new Set<string>();
  protected readonly runner: CommandRunner;
  protected readonly killer: SessionKiller;
  protected stopping = false;
  protected loseCapture: (e: LiveCaptureError) => void = () => undefined;
  /** The log sensor (--log, --journal): positions saved in the state file. */
  protected logs: MultiFollower | null = null;
  protected journal: JournalFollower | null = null;
  protected savedFollowers: FollowerState = { files: {} };
  /** Lines read per source (a path, or "journal"), for the stats. */
  readonly logLines = new Map<string, number>();
  /** Per-event counts for the metrics (AUTH outcomes by sensor, strikes, rejects, blocks). */
  readonly counts = new WatchCounts();
  protected readonly metricSources: MetricsSource[] = [];
  protected metricsServer: MetricsServer | null = null;
  /** Where the metrics are served (the port the kernel gave for port 0), once start() listens. */
  metricsAddress: ListenAddress | null = null;
  /** Log lines → attempts in the sensor merge (null without --log / --journal: the wire alone, as before). */
  readonly logSensor: LogSensor | null = null;
  /** The fleet, CrowdSec and the block hooks (null when none is set). */
  readonly links: BlockLinks | null = null;
  /** --tarpit: the decoy server's child and its counts (null when not set). */
  readonly tarpit: TarpitSupervisor | null = null;
  /**
   * Settles when capture ends on its own after start (tcpdump exited, the cap session failed, the
   * packet handler threw): watch is blind from then on, so its owner must stop and exit non-zero
   * (systemd's Restart=on-failure starts it again). Logged `fatal` here. Never settles on stop().
   */
  readonly captureLost: Promise<LiveCaptureError> = new Promise((resolve) => {
    this.loseCapture = resolve;
  });

  constructor(
    protected s: WatchSettings,
    protected log: Logger,
    protected readonly deps: WatchDeps = {},
  ) {
    this.raw = rawLines(log);
    this.runner = deps.runner ?? new SpawnRunner(s.netns ? { netns: s.netns } : {});
    // The block rule covers the services' ports (--services imap: 143, 993 too); capture stays on --ports.
    const ports = blockPorts(s.pipeline.ports, s.services);
    this.killer = new SessionKiller(this.runner, ports, s.dryRun);
    // A replay has no live log to follow (its packets are not now): the log sensor is off.
    const withLogs = !s.replay && ((s.logs ?? []).length > 0 || s.journal === true);
    // The log sensor is a second sensor only when a log is followed: without one the merge passes
    // every wire event straight on and holds nothing (watch behaves exactly as before).
    const pipelineOpts: PipelineOptions = withLogs
      ? { ...s.pipeline, sensors: { ...s.pipeline.sensors, logSensor: true, clock: () => Date.now() / 1000 } }
      : s.pipeline;
    this.pipeline = new Pipeline(pipelineOpts, this);
    if (withLogs) {
      this.logSensor = new LogSensor(this.pipeline.merge, undefined, s.services, undefined, (n) =>
        this.log.debug({ event: 'log_attempt', ...n }, `${n.source}: ${n.outcome}${n.count > 1 ? ` x${n.count}` : ''} from ${n.client}`),
      );
    }
    this.pipeline.iface = s.iface;
    // Through this.log, not `log`: SIGHUP may replace the logger (and close the old one's file).
    const logger: BlockLogger = {
      info: (o, m) => this.log.info(o, m),
      warn: (o, m) => this.log.warn(o, m),
      error: (o, m) => this.log.error(o, m),
    };
    // With a tarpit the blockers redirect blocked addresses' new connections to it (nft, ipset, iptables).
    const blockerOpts = {
      ports,
      logger,
      ...(s.netns ? { netns: s.netns } : {}),
      ...(deps.runner ? { runner: deps.runner } : {}),
      ...(s.tarpit ? { tarpit: s.tarpit.address } : {}),
    };
    this.blockerImpl = createBlocker(s.dryRun ? 'dry-run' : s.blocker, blockerOpts);
    this.batcher = new BlockBatcher(this.blockerImpl, { logger });
    if (this.s.links) {
      this.links = new BlockLinks(
        this.s.links,
        {
          apply: (key, timeoutSec) => this.block(key, true, timeoutSec),
          remove: (key) => this.batcher.push({ op: 'del', addr: key }),
          ownHit: (key) => this.own.hit(key),
          log: () => this.log,
          blockSeconds: () => this.s.blockSeconds,
        },
        this.pipeline.strikes,
        { stateFile: this.s.stateFile, dryRun: this.s.dryRun },
      );
    }
    if (this.links) this.metricSources.push(linkMetrics(this.links));
    if (s.tarpit) {
      this.tarpit = new TarpitSupervisor(s.tarpit, logger, (ev) => this.tarpitEvent(ev));
      this.metricSources.push(tarpitMetrics(this.tarpit.counts));
    }
    this.metricSources.push(
      watchMetrics({
        pipeline: this.pipeline,
        counts: this.counts,
        blocker: this.blockerImpl.name,
        captureBackend: () => this.source?.backend ?? this.s.captureBackend,
        captureStats: async () => (this.source ? await this.source.stats() : null),
        batcher: () => ({
          stats: this.batcher.stats,
          queued: this.batcher.queued,
          setOnApplied: (f) => {
            this.batcher.onApplied = f;
          },
        }),
        logSensor: () => this.logSensor,
        logLines: () => this.logLines,
        logUnreadBytes: () => this.logs?.unreadBytes() ?? {},
        killRuns: () => this.killer.runs,
        now: () => Date.now() / 1000,
      }),
    );
  }

  abstract event(ev: PipelineEvent): void;
  /** watch-state.ts */
  protected abstract restore(at?: number): void;
  /** watch-events.ts */
  protected abstract mayBlock(key: string): boolean;
  /** watch-events.ts */
  protected abstract block(key: string, isNew: boolean, timeoutSec?: number): boolean;

  /**
   * Adds metrics to the /metrics page (the fleet's Redis and CrowdSec health, issue 13): call before
   * start(). Without --metrics the sources are never registered and cost nothing.
   */
  addMetricsSource(src: MetricsSource): void {
    if (this.metricsServer) throw new Error('addMetricsSource after start(): the metrics are registered once, at start');
    this.metricSources.push(src);
  }

  /**
   * Where the tarpit listens, for the blockers' redirect: the configured `{ host?, port }` (the
   * port the kernel gave once started, for port 0); null without --tarpit.
   */
  get tarpitAddress(): TarpitAddress | null {
    return this.tarpit?.address ?? null;
  }

  /** One JSON line per tarpit connection ended or refused (the shared contract, docs/tarpit.md). */
  private tarpitEvent(ev: TarpitEvent): void {
    if (ev.event === 'tarpit_refused') this.log.info(ev, `tarpit refused ${ev.client}: ${ev.reason} cap`);
    else this.log.info(ev, `tarpit held ${ev.client} ${ev.held_s.toFixed(1)} s (${ev.auth_attempts} AUTH, ${ev.decoy_successes} decoy, end ${ev.end})`);
  }
}
