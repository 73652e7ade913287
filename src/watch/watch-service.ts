import { renameSync } from 'node:fs';
import type { Logger } from 'pino';
import { MAX_TIMEOUT_SEC, type Blocker, type BlockLogger } from '../blocker/types.js';
import { BlockBatcher } from '../blocker/batcher.js';
import { createBlocker } from '../blocker/index.js';
import { SpawnRunner, type CommandRunner } from '../blocker/runner.js';
import type { EventSink, PipelineEvent } from '../events.js';
import { LiveCaptureError, type LiveSource } from '../live/live-source.js';
import { bpfForPorts, createLiveSource } from '../live/index.js';
import { Pipeline, type PipelineOptions } from '../pipeline.js';
import { strikeLogLine } from '../strikes/iptables-log.js';
import { escalatedSeconds } from '../strikes/escalation.js';
import { JournalFollower, type JournalEntry } from '../logfollow/journal-follower.js';
import {
  authLogLine,
  authLogProps,
  blockLogFields,
  blockLogMsg,
  blockLogProps,
  coverageFields,
  inferredAuthMsg,
  logFileFields,
  logFollowEvent,
  logReplayEnd,
  rejectLogFields,
  rejectLogProps,
  strikeLogFields,
  strikeLogProps,
} from './watch-log-fields.js';
import { rawLines, type RawLines } from './logger.js';
import { MultiFollower } from '../logfollow/multi-follower.js';
import { readStateChecked, writeStateAtomically, type FollowerState } from '../strike-state/state-file.js';
import { localAddresses, netnsAddresses, ProtectedAddresses } from './own-addresses.js';
import type { ReloadChanges } from './reload.js';
import { restoreStrikes } from './restore.js';
import { SessionKiller } from './session-killer.js';
import { journalLine, LogSensor } from './log-sensor.js';
import { BlockLinks, type LinkSettings } from './block-links.js';
import { blockPorts, type MailService } from './services.js';
import { ReplaySource, type ReplayEnd } from './replay-source.js';
import { tsInRange } from '../source/packet-record.js';
import { formatListenAddress, type ListenAddress } from '../metrics/listen-address.js';
import type { MetricsSource } from '../metrics/metrics-source.js';
import { MetricsServer } from '../metrics/metrics-server.js';
import { Registry } from 'prom-client';
import { watchMetrics, WatchCounts } from './watch-metrics.js';
import { linkMetrics } from './link-metrics.js';
import { TarpitSupervisor, type TarpitSettings } from '../tarpit/tarpit-supervisor.js';
import type { TarpitTarget as TarpitAddress } from '../blocker/tarpit-target.js';
import type { TarpitEvent } from '../tarpit/tarpit-types.js';
import { tarpitMetrics } from './tarpit-metrics.js';

export interface WatchSettings {
  pipeline: PipelineOptions;
  iface: string;
  captureBackend: 'tcpdump' | 'cap';
  bufferSize: number;
  /** tcpdump backend: ms to wait after a small read (live-source's `coalesceMs`; 0 = off; default 1). */
  readCoalesce?: number;
  blocker: 'nft' | 'ipset' | 'iptables';
  dryRun: boolean;
  /** Kernel timeout of a block; the strike window by default. */
  blockSeconds: number;
  killEstablished: boolean;
  stateFile: string;
  statsInterval: number;
  /** Run capture and firewall commands inside this network namespace (tests). */
  netns?: string | undefined;
  /** Mail logs followed like `tail -F` (--log, logs:). */
  logs?: string[];
  /** Follow journald too (--journal, journal:). */
  journal?: boolean;
  /** Whose log lines count and whose ports a block closes (--services; default smtp). */
  services?: MailService[];
  /**
   * --replay: these capture files instead of the live capture (`-`: stdin), merged by time, as
   * fast as they read or at the recorded pace. The packets' time is the clock: the state file is
   * restored and written at packet time; the log sensor is off.
   */
  replay?: { files: string[]; pace: boolean } | undefined;
  /** Serve Prometheus metrics on GET /metrics here (--metrics, metrics:); none when absent. */
  metrics?: ListenAddress | undefined;
  /** Redis fleet, CrowdSec, --on-block/--on-unblock (block-links.ts). */
  links?: LinkSettings | undefined;
  /** --tarpit: the decoy SMTP server, in an unprivileged child (src/tarpit, docs/tarpit.md). */
  tarpit?: TarpitSettings | undefined;
}

/** Whole seconds within what every kernel backend takes. */
const kernelTimeout = (s: number): number => Math.min(MAX_TIMEOUT_SEC, Math.max(1, Math.ceil(s)));

const OUTCOME_OF_EVENT = { auth_failure: 'failure', auth_success: 'success', auth_tempfail: 'tempfail' } as const;

/** How often the state file is rewritten when something changed, and idle flows are swept. */
const TICK_MS = 1000;
/** How often the host's own addresses are re-read (DHCP, SLAAC and admins change them); also on SIGHUP. */
export const OWN_ADDRESS_REFRESH_MS = 60_000;
/** Keys whose skipped block was logged, at most (then the set starts over): one line per key, not per SYN. */
const MAX_SKIP_WARNINGS = 4096;

export interface WatchDeps {
  /** Runs `ss` and `ip` (default: a SpawnRunner in --netns). */
  runner?: CommandRunner;
  /** The journalctl program and arguments before ours (tests: a fake one, or `--file X`). */
  journalctl?: { program: string; extraArgs?: string[] };
}

/**
 * `smtpstrike watch`: live capture → the same pipeline as replay → blocks in the kernel.
 * Blocks go in the moment the strike engine crosses a threshold, with a kernel timeout, so a crash
 * of smtpstrike never leaves a permanent ban; every refused reconnection refreshes the timeout.
 */
export class WatchService implements EventSink {
  readonly pipeline: Pipeline;
  private readonly blockerImpl: Blocker;
  private readonly batcher: BlockBatcher;
  private source: LiveSource | ReplaySource | null = null;
  /** --replay: the time the state was restored at (packet time), for a replay with no packet. */
  private restoredAt: number | null = null;
  private endReplay: (end: ReplayEnd) => void = () => undefined;
  /**
   * --replay: settles once every file was read to its end (or could not be), after the last
   * flows were flushed through the pipeline (as `replay` does at the end). The owner then stops
   * the service (blocks applied, state written) and exits. Never settles without --replay, nor
   * on stop() before the end.
   */
  readonly replayEnded: Promise<ReplayEnd> = new Promise((resolve) => {
    this.endReplay = resolve;
  });
  private timer: NodeJS.Timeout | null = null;
  /** The hot lines' writer without pino (logger.ts RawLines), when the logger is makeLogger's; else pino. */
  private raw: RawLines | undefined;
  private statsTimer: NodeJS.Timeout | null = null;
  private dirty = false;
  /** The saved state was read (or there was none): only then may we overwrite it. */
  private restored = false;
  /** Loopback only until start() reads the interfaces. */
  private own = new ProtectedAddresses([]);
  private ownTimer: NodeJS.Timeout | null = null;
  private readonly skipWarned = new Set<string>();
  private readonly runner: CommandRunner;
  private readonly killer: SessionKiller;
  private stopping = false;
  private loseCapture: (e: LiveCaptureError) => void = () => undefined;
  /** The log sensor (--log, --journal): positions saved in the state file. */
  private logs: MultiFollower | null = null;
  private journal: JournalFollower | null = null;
  private savedFollowers: FollowerState = { files: {} };
  /** Lines read per source (a path, or "journal"), for the stats. */
  readonly logLines = new Map<string, number>();
  /** Per-event counts for the metrics (AUTH outcomes by sensor, strikes, rejects, blocks). */
  readonly counts = new WatchCounts();
  private readonly metricSources: MetricsSource[] = [];
  private metricsServer: MetricsServer | null = null;
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
    private s: WatchSettings,
    private log: Logger,
    private readonly deps: WatchDeps = {},
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

  /** Registers every metrics source and listens (before the firewall is touched: a port in use fails the start). */
  private async startMetrics(at: ListenAddress): Promise<void> {
    const registry = new Registry();
    for (const src of this.metricSources) src.register(registry);
    this.metricsServer = new MetricsServer(registry);
    this.metricsAddress = await this.metricsServer.listen(at);
    const where = formatListenAddress(this.metricsAddress);
    this.log.info(
      { event: 'metrics_listening', host: this.metricsAddress.host, port: this.metricsAddress.port, url: `http://${where}/metrics` },
      `metrics on http://${where}/metrics`,
    );
  }

  async start(): Promise<void> {
    const s = this.s;
    if (s.metrics) await this.startMetrics(s.metrics);
    // Before the firewall is touched: a tarpit port in use fails the start.
    await this.tarpit?.start();
    await this.blockerImpl.init();
    await this.refreshOwnAddresses();
    if (s.replay) {
      this.links?.start();
      this.startReplay(s.replay);
    } else {
      this.restore();
      await this.startLogSensors();
      this.links?.start();
      this.source = createLiveSource(s.captureBackend, {
        iface: s.iface,
        filter: bpfForPorts(s.pipeline.ports),
        bufferSize: s.bufferSize,
        ...(s.readCoalesce !== undefined ? { coalesceMs: s.readCoalesce } : {}),
        ...(s.netns ? { netns: s.netns } : {}),
        onError: (e) => this.captureFailed(e),
      });
      await this.source.start((rec) => this.pipeline.packet(rec));
    }
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.ownTimer = setInterval(() => void this.refreshOwnAddresses(), OWN_ADDRESS_REFRESH_MS);
    this.statsTimer = setInterval(() => void this.logStats('periodic'), s.statsInterval * 1000);
    this.log.info(
      {
        event: 'start',
        ...(s.replay ? { replay: s.replay.files, pace: s.replay.pace } : { iface: s.iface }),
        backend: this.source?.backend,
        blocker: this.blockerImpl.name,
        ports: s.pipeline.ports,
        hitcount: s.pipeline.strikes.hitcount,
        seconds: s.pipeline.strikes.seconds,
        conn_hitcount: s.pipeline.strikes.connHitcount,
        conn_seconds: s.pipeline.strikes.connSeconds,
        block_seconds: s.blockSeconds,
        whitelist: s.pipeline.strikes.whitelist.entries,
      },
      s.replay
        ? `smtpstrike watching a replay of ${s.replay.files.length} capture file(s)${s.replay.pace ? ' at the recorded pace' : ''}`
        : 'smtpstrike watching',
    );
  }

  /**
   * --replay: the files go through the same pipeline as live packets. The state file is restored
   * just before the first packet, at that packet's time (or at its own saving time, if later): the
   * replay goes on from it as a watch started at that moment would. At the end of the files the
   * open flows are flushed (as `replay` does) and `replayEnded` settles.
   */
  private startReplay(r: { files: string[]; pace: boolean }): void {
    const s = this.s;
    if ((s.logs ?? []).length > 0 || s.journal) {
      this.log.warn(
        { event: 'log_sensor_off', logs: s.logs ?? [], journal: s.journal === true },
        'the log sensor is off in a replay (--log, logs:, --journal ignored): the captures are not now',
      );
    }
    const src = new ReplaySource(r);
    this.source = src;
    void src.start((rec) => {
      if (!this.restored && tsInRange(rec.tsSec)) this.restore(rec.tsSec + rec.tsNsec * 1e-9);
      this.pipeline.packet(rec);
    });
    src.ended
      .then((end) => {
        if (this.stopping) {
          logReplayEnd(this.log, end, this.pipeline.firstTs, this.pipeline.lastTs, this.pipeline.strikes.stats.blocks); // stop() ended it (a signal): not the end of the files, nothing flushed
          return;
        }
        if (!this.restored) this.restore(-Infinity); // no packet: the state as it was saved
        this.pipeline.finish();
        for (const f of end.files) {
          if (f.error)
            this.log.error({ event: 'replay_file_error', file: f.file, offset: f.error.offset, packets: f.packets, err: f.error.message }, f.error.message);
        }
        logReplayEnd(this.log, end, this.pipeline.firstTs, this.pipeline.lastTs, this.pipeline.strikes.stats.blocks);
        this.dirty = true;
        this.endReplay(end);
      })
      // The packet handler or the final flush threw: as a live capture that dies, fatal and exit 2.
      .catch((e: Error) => this.captureFailed(new LiveCaptureError('capture', `replay stopped: ${e.message}`)));
  }

  /** The clock of the strike table: packet time in a replay (the last packet's), else wall time. */
  private now(): number {
    if (!this.s.replay) return Date.now() / 1000;
    const last = this.pipeline.lastTs;
    if (Number.isFinite(last)) return Math.max(last, this.restoredAt ?? -Infinity);
    return this.restoredAt ?? Date.now() / 1000;
  }

  /**
   * Starts following the --log files and the journal from their saved positions (start() calls it
   * after restoring the state; tests call it alone). A journal that cannot be read fails the start.
   */
  async startLogSensors(): Promise<void> {
    if (!this.restored) this.restore();
    const s = this.s;
    if ((s.logs ?? []).length > 0) {
      this.logs = new MultiFollower(s.logs!, this.savedFollowers.files, {
        onLines: (lines, path) => this.onLogLines(path, lines),
        onEvent: (ev) => logFollowEvent(this.log, ev),
      });
      await this.logs.start();
      this.log.info(
        { event: 'logs_followed', files: s.logs, restored: Object.keys(this.savedFollowers.files).filter((p) => s.logs!.includes(p)) },
        `following ${s.logs!.length} log file(s)`,
      );
    }
    if (s.journal) {
      this.journal = new JournalFollower({
        cursor: this.savedFollowers.journal_cursor ?? null,
        onEntries: (es) => this.onJournalEntries(es),
        onError: (e) => this.log.error({ event: 'journal_ended', err: e.message }, e.message),
        ...(this.deps.journalctl ? { journalctl: this.deps.journalctl.program, extraArgs: this.deps.journalctl.extraArgs ?? [], noDaemonCheck: true } : {}),
      });
      await this.journal.start();
      this.log.info(
        { event: 'journal_followed', args: this.journal.args(), resumed: this.savedFollowers.journal_cursor !== undefined },
        'following the journal',
      );
    }
  }

  /**
   * The log sensor: every batch of complete lines of one source (a followed path, or "journal" with
   * the journal's messages). Each source has its own accounts parser (src/watch/log-sensor.ts); its
   * failures, logins and 454s go into the sensor merge, which strikes an attempt once whichever
   * sensor saw it first. `stamps`: the journal's own time of each line.
   */
  onLogLines(source: string, lines: string[], stamps?: number[]): void {
    this.logLines.set(source, (this.logLines.get(source) ?? 0) + lines.length);
    this.logSensor?.lines(source, lines, stamps);
    this.dirty = true; // the positions moved: saved with the next tick
  }

  private onJournalEntries(entries: JournalEntry[]): void {
    // A journal message has no syslog header: give it one (`postfix/smtpd[123]: …`) so the parsers
    // pick the service by its program name and key Postfix sessions by pid, as in a file.
    this.onLogLines(
      'journal',
      entries.map(journalLine),
      entries.map((e) => e.ts),
    );
  }

  private followerState(): FollowerState | undefined {
    if (!this.logs && !this.journal)
      return Object.keys(this.savedFollowers.files).length > 0 || this.savedFollowers.journal_cursor ? this.savedFollowers : undefined;
    // Positions of files no longer followed are kept (a --log dropped for one run loses nothing).
    const out: FollowerState = { files: { ...this.savedFollowers.files, ...(this.logs?.positions() ?? {}) } };
    const cursor = this.journal?.cursor() ?? this.savedFollowers.journal_cursor;
    if (cursor) out.journal_cursor = cursor;
    return out;
  }

  private captureFailed(e: LiveCaptureError): void {
    if (this.stopping) return;
    this.log.fatal(
      { event: 'capture_failed', backend: this.source?.backend, kind: e.kind, err: e.message, detail: e.detail || undefined },
      `capture lost, watch is blind: ${e.message}`,
    );
    this.loseCapture(e);
  }

  /**
   * Re-reads the strike table and re-applies the blocks that are still running (expired ones are
   * not), as of now; with `at` (--replay: the first packet's time) as of `at` or the file's own
   * saving time, whichever is later — a state saved after the capture began was not made by an
   * earlier replay, and is judged as it stood when saved rather than given more time.
   */
  private restore(at?: number): void {
    let now = Date.now() / 1000;
    let read;
    try {
      read = readStateChecked(this.s.stateFile);
    } catch (e) {
      // Keep the unreadable file for the admin under another name; new state goes to the usual path.
      const kept = `${this.s.stateFile}.unreadable-${Math.floor(now)}`;
      try {
        renameSync(this.s.stateFile, kept);
      } catch {
        // left where it is; it will be overwritten by the next save
      }
      this.log.error(
        { event: 'state_unreadable', file: this.s.stateFile, kept, err: (e as Error).message },
        'state file unreadable: kept aside, starting with an empty strike table',
      );
      this.restored = true;
      return;
    }
    this.restored = true;
    if (!read) return;
    const { state, skipped, followers } = read;
    this.savedFollowers = followers;
    if (at !== undefined) {
      if (Number.isFinite(at) && state.saved_at > at) {
        this.log.warn(
          { event: 'state_after_capture', file: this.s.stateFile, saved_at: state.saved_at, first_ts: at },
          'the state file was saved after the capture began (not by an earlier replay?): give a replay a state file of its own',
        );
      }
      now = Math.max(at, state.saved_at);
      this.restoredAt = now;
    }
    if (skipped.length > 0) {
      this.log.warn(
        { event: 'state_entries_skipped', file: this.s.stateFile, skipped: skipped.length, first: skipped.slice(0, 10) },
        `state file: ${skipped.length} damaged entries skipped (first: #${skipped[0]!.index}, ${skipped[0]!.reason})`,
      );
    }
    const { entries, ops } = restoreStrikes(this.pipeline.strikes, state, now, (k) => this.mayBlock(k));
    this.batcher.pushAll(ops);
    this.log.info({ event: 'state_restored', file: this.s.stateFile, entries, blocks: ops.length, saved_at: state.saved_at }, 'state restored');
  }

  /**
   * Re-reads the host's addresses (the namespace's, with --netns). A failed read keeps the last
   * list (loopback is always in it) and is logged. Blocks that now hit an own address are lifted.
   */
  async refreshOwnAddresses(): Promise<void> {
    let addrs: string[];
    try {
      addrs = this.s.netns ? await netnsAddresses(this.runner) : localAddresses();
    } catch (e) {
      this.log.error(
        { event: 'own_addresses_failed', err: (e as Error).message },
        `cannot read this host's addresses; keeping the last list: ${(e as Error).message}`,
      );
      return;
    }
    const next = new ProtectedAddresses(addrs);
    const added = [...next.own].filter((a) => !this.own.own.has(a));
    const removed = [...this.own.own].filter((a) => !next.own.has(a));
    this.own = next;
    this.skipWarned.clear();
    if (added.length === 0 && removed.length === 0) return;
    this.log.info({ event: 'own_addresses', own: [...next.own], added, removed }, 'own addresses (never blocked) read');
    for (const e of this.pipeline.strikes.exportState(this.now()).entries) {
      const hit = e.block ? next.hit(e.key) : null;
      if (hit === null) continue;
      this.log.warn({ event: 'unblock_own_address', key: e.key, own: hit }, `unblocking ${e.key}: it now holds this host's address ${hit}`);
      this.batcher.push({ op: 'del', addr: e.key });
      this.links?.lifted(e.key, 'own_address');
    }
  }

  private mayBlock(key: string): boolean {
    return this.own.hit(key) === null;
  }

  event(ev: PipelineEvent): void {
    switch (ev.type) {
      case 'strike':
        this.counts.strikes[ev.source]++;
        this.dirty = true;
        if (this.raw) this.raw.line(40, strikeLogProps(ev), strikeLogLine(ev));
        else this.log.warn(strikeLogFields(ev), strikeLogLine(ev));
        this.links?.authHit(ev.key, ev.client, ev.ts);
        break;
      case 'reject':
        this.counts.rejects[ev.rule]++;
        this.dirty = true;
        if (this.raw) this.raw.line(40, rejectLogProps(ev), strikeLogLine(ev));
        else this.log.warn(rejectLogFields(ev), strikeLogLine(ev));
        // A refused SYN refreshes the kernel timeout (queued ops coalesce); an escalated block's by
        // the time it has left when that is longer, so the refresh never shortens it.
        this.block(ev.key, false, ev.block && ev.block.level > 0 ? kernelTimeout(Math.max(this.s.blockSeconds, ev.block.until - ev.ts)) : this.s.blockSeconds);
        if (ev.rule === 'auth') this.links?.authHit(ev.key, ev.client, ev.ts); // the seed tags it again
        break;
      case 'block':
        this.counts.blocks[ev.rule]++;
        this.dirty = true;
        {
          const timeout = this.blockTimeout(ev.level);
          if (this.raw) this.raw.line(40, blockLogProps(ev, timeout), blockLogMsg(ev));
          else this.log.warn(blockLogFields(ev, timeout), blockLogMsg(ev));
          const applied = this.block(ev.key, true, timeout); // outside ?.: it must run without links too
          this.links?.ownBlock(ev, applied);
        }
        break;
      case 'auth_failure':
      case 'auth_success':
      case 'auth_tempfail':
        if (this.tarpit && this.pipeline.strikes.refusedFlow(ev.flow)) {
          // The kernel redirected this refused connection to the tarpit: the decoy's reply, not the server's.
          this.counts.tarpitWire++;
          this.log.debug(
            { event: 'tarpit_wire', client: ev.client, client_port: ev.clientPort, code: ev.code },
            `${ev.code} from the tarpit (redirected connection)`,
          );
          break;
        }
        this.counts.auth[ev.inferred ? 'inferred' : 'wire'][OUTCOME_OF_EVENT[ev.type]]++;
        if (this.raw) this.raw.line(30, authLogProps(ev), ev.inferred ? inferredAuthMsg(ev.code, ev.inferred.recordLen) : ev.text);
        else {
          const [fields, msg] = authLogLine(ev);
          this.log.info(fields, msg);
        }
        break;
      case 'starttls':
        this.log.debug({ event: 'starttls', client: ev.client, server_port: ev.serverPort }, 'session went opaque (TLS)');
        break;
      default:
        break;
    }
  }

  /** The kernel timeout of a new block at `level`: --block-seconds times the factor per level, at most the cap (strikes/escalation.ts). */
  private blockTimeout(level: number): number {
    const esc = this.pipeline.strikes.opts.escalation;
    if (level <= 0 || !esc) return this.s.blockSeconds;
    return kernelTimeout(escalatedSeconds(this.s.blockSeconds, level, esc));
  }

  /** Puts `key` in the kernel set (refreshing its timeout); a new block also ends its open sessions. False: an own address. */
  private block(key: string, isNew: boolean, timeoutSec = this.s.blockSeconds): boolean {
    const hit = this.own.hit(key);
    if (hit !== null) {
      if (isNew) this.counts.blocksSkipped++;
      if (!this.skipWarned.has(key)) {
        if (this.skipWarned.size >= MAX_SKIP_WARNINGS) this.skipWarned.clear();
        this.skipWarned.add(key);
        this.log.warn(
          { event: 'block_skipped', key, own: hit, reason: 'own address' },
          `not blocking ${key}: it holds this host's own or loopback address ${hit}`,
        );
      }
      return false;
    }
    this.batcher.push({ op: 'add', addr: key, timeoutSec });
    if (isNew && this.s.killEstablished) this.killer.kill(key, this.log);
    return true;
  }

  private tick(): void {
    if (this.s.replay) {
      // Packet time is the clock: the flows age with the packets, never with wall time.
      if (this.dirty) this.saveState();
      return;
    }
    // No packets for a while must still age flows out: advance the flow clock to wall time.
    const now = Date.now() / 1000;
    if (now > this.pipeline.lastTs) {
      this.pipeline.flows.setTime(now);
      this.pipeline.flows.purgeIdle();
    }
    if (this.logSensor) this.pipeline.merge.tick(now); // held sightings older than the tolerance settle
    if (this.dirty) this.saveState();
  }

  saveState(): void {
    if (!this.restored) return; // never overwrite a saved state we did not load (start failed early)
    try {
      writeStateAtomically(this.s.stateFile, this.pipeline.strikes.exportState(this.now()), this.followerState());
      this.dirty = false;
    } catch (e) {
      this.log.error({ event: 'state_write_failed', file: this.s.stateFile, err: (e as Error).message }, 'cannot write state file');
    }
  }

  async logStats(when: 'periodic' | 'exit'): Promise<void> {
    // At exit every held sighting settles (no partner comes any more): the coverage is complete.
    if (when === 'exit' && this.logSensor) this.pipeline.merge.flush();
    const st = this.source ? await this.source.stats().catch(() => null) : null;
    const c = this.pipeline.coverage();
    this.log.info(
      {
        event: 'stats',
        when,
        capture: {
          backend: this.source?.backend,
          received: st?.received ?? 'unknown',
          dropped: st?.dropped ?? 'unknown',
          if_dropped: st?.ifDropped ?? 'unknown',
        },
        packets: c.packets,
        smtp_packets: c.smtp_packets,
        flows: c.flows,
        open_flows: this.pipeline.flows.size,
        opaque_flows: c.opaque_flows,
        gaps: c.gaps,
        strike_entries: this.pipeline.strikes.entries,
        blocks: this.pipeline.strikes.stats.blocks,
        blocker: { applied: this.batcher.stats.applied, failed: this.batcher.stats.failed },
        kill_established_runs: this.killer.runs,
        ...(this.logs || this.journal ? { log_lines: Object.fromEntries(this.logLines), logs: this.logs ? logFileFields(this.logs.stats()) : undefined } : {}),
        ...(this.logSensor ? { log_sensor: this.logSensor.counts, sensors: coverageFields(this.pipeline.merge.coverage()) } : {}),
        ...this.links?.statsLine(),
        ...(this.tarpit ? { tarpit: { ...this.tarpit.counts.statsFields(), wire_replies_ignored: this.counts.tarpitWire } } : {}),
      },
      'capture and blocker health',
    );
  }

  /**
   * New settings from SIGHUP: every setting in LIVE_KEYS (reload.ts) takes effect now; the others
   * keep their running values and `changes.needsRestart` names them in the log. The host's own
   * addresses are re-read too.
   */
  reload(next: WatchSettings, log: Logger, changes: ReloadChanges): void {
    this.log = log;
    this.raw = rawLines(log);
    const so = this.pipeline.strikes.opts;
    const ns = next.pipeline.strikes;
    so.seconds = ns.seconds;
    so.connSeconds = ns.connSeconds;
    so.whitelist = ns.whitelist;
    so.tempfailStrikes = ns.tempfailStrikes;
    so.inferredStrikes = ns.inferredStrikes;
    so.maxEntries = ns.maxEntries; // a smaller table is trimmed at its next insert
    so.escalation = ns.escalation;
    so.blockSeconds = ns.blockSeconds; // the history follows at the next block (strike-engine.ts syncHistory)
    if (next.pipeline.patterns.join('\0') !== this.pipeline.opts.patterns.join('\0')) this.pipeline.setPatterns(next.pipeline.patterns);
    const statsChanged = next.statsInterval !== this.s.statsInterval;
    this.s = {
      ...this.s,
      blockSeconds: next.blockSeconds,
      killEstablished: next.killEstablished,
      stateFile: next.stateFile,
      statsInterval: next.statsInterval,
    };
    if (statsChanged && this.statsTimer) {
      clearInterval(this.statsTimer);
      this.statsTimer = setInterval(() => void this.logStats('periodic'), this.s.statsInterval * 1000);
    }
    void this.refreshOwnAddresses();
    const { applied, needsRestart } = changes;
    const done = `config reloaded; applied: ${applied.join(', ') || 'nothing changed'}`;
    // A changed setting that does not take effect is a warning: what runs differs from the file.
    if (needsRestart.length > 0) {
      this.log.warn(
        { event: 'reload', applied, needs_restart: needsRestart },
        `${done}; these changed settings need a restart to take effect: ${needsRestart.join(', ')}`,
      );
    } else {
      this.log.info({ event: 'reload', applied, needs_restart: needsRestart }, done);
    }
  }

  /** SIGTERM/SIGINT: stop capturing, apply pending blocks, save state. Removes nothing from the firewall. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    if (this.statsTimer) clearInterval(this.statsTimer);
    if (this.ownTimer) clearInterval(this.ownTimer);
    // A replay stops reading first and applies its blocks: the exit stats count them all, and no
    // packet comes after them (a live source's counters are read before it goes).
    if (this.source instanceof ReplaySource) {
      await this.source.stop();
      await this.batcher.drain();
    }
    await this.logStats('exit');
    await this.source?.stop();
    await this.logs?.stop();
    await this.journal?.stop();
    await this.links?.close(); // no fleet or CrowdSec block comes after this
    await this.batcher.drain();
    if (this.links && !(await this.links.drained())) this.log.warn({ event: 'hooks_not_drained' }, '--on-block programs still running at exit');
    this.saveState();
    await this.tarpit?.stop(); // its sessions are logged `end: shutdown`
    await this.metricsServer?.close();
    this.log.info({ event: 'stop' }, 'smtpstrike stopped; blocks stay in the kernel until their timeouts');
  }
}
