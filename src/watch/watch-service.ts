import type { Logger } from 'pino';
import { LiveCaptureError } from '../live/live-source.js';
import { bpfForPorts, createLiveSource } from '../live/index.js';
import { coverageFields, logFileFields, logReplayEnd } from './watch-log-fields.js';
import { rawLines } from './logger.js';
import type { ReloadChanges } from './reload.js';
import { ReplaySource } from './replay-source.js';
import { tsInRange } from '../source/packet-record.js';
import { formatListenAddress, type ListenAddress } from '../metrics/listen-address.js';
import { MetricsServer } from '../metrics/metrics-server.js';
import { Registry } from 'prom-client';
import { OWN_ADDRESS_REFRESH_MS, TICK_MS, type WatchDeps, type WatchSettings } from './watch-settings.js';
import { WatchEvents } from './watch-events.js';

export { OWN_ADDRESS_REFRESH_MS, type WatchDeps, type WatchSettings };

/**
 * `smtpstrike watch`: live capture → the same pipeline as replay → blocks in the kernel.
 * Blocks go in the moment the strike engine crosses a threshold, with a kernel timeout, so a crash
 * of smtpstrike never leaves a permanent ban; every refused reconnection refreshes the timeout.
 */
export class WatchService extends WatchEvents {
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

  private captureFailed(e: LiveCaptureError): void {
    if (this.stopping) return;
    this.log.fatal(
      { event: 'capture_failed', backend: this.source?.backend, kind: e.kind, err: e.message, detail: e.detail || undefined },
      `capture lost, watch is blind: ${e.message}`,
    );
    this.loseCapture(e);
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
