import type { Command } from 'commander';
import { MAX_TIMEOUT_SEC } from '../blocker/types.js';
import { existsSync } from 'node:fs';
import { ConfigError, loadConfig } from '../config/config-file.js';
import { makeLogger, type LogSetup } from '../watch/logger.js';
import { keepRestartOnly, reloadChanges } from '../watch/reload.js';
import { WatchService, type WatchSettings } from '../watch/watch-service.js';
import type { MailService } from '../watch/services.js';
import { WATCH_OPTIONS } from '../options/watch.js';
import { parseListenAddress } from '../metrics/listen-address.js';
import { linkSettingsFrom, type LinkFlags } from '../watch/block-links.js';
import { hostname } from 'node:os';
import { parseTarpitTarget } from '../blocker/tarpit-target.js';
import { DEFAULT_TARPIT_LINES, TARPIT_DEFAULTS } from '../tarpit/tarpit-lines.js';
import type { TarpitSettings } from '../tarpit/tarpit-supervisor.js';
import { applyConfigValues, type PipelineFlags } from './options.js';
import { pipelineOptionsFrom } from './pipeline-flags.js';

export { DEFAULT_CONFIG } from '../options/watch.js';

/**
 * watch's exit status. Anything but 0 makes systemd's Restart=on-failure start it again.
 * 1: could not start (bad option or config file, capture or firewall unusable) or stop cleanly;
 * 2: capture ended while watching (tcpdump exited, the cap session failed, the packet handler threw);
 *    with --replay, a capture file could not be read to its end (the others were, as `replay` does).
 * --replay ends with 0 at the end of its files (blocks applied, state written).
 */
export const WATCH_EXIT = { ok: 0, failed: 1, captureLost: 2 } as const;

interface WatchFlags extends PipelineFlags, LinkFlags {
  config: string;
  interface: string;
  captureBackend: 'tcpdump' | 'cap';
  bufferSize: number;
  readCoalesce: number;
  blocker: 'nft' | 'ipset' | 'iptables';
  blockSeconds?: number;
  dryRun: boolean;
  killEstablished: boolean;
  stateFile: string;
  logFile?: string;
  logLevel: string;
  statsInterval: number;
  netns?: string;
  log: string[];
  journal: boolean;
  services: MailService[];
  replay?: string[];
  pace: boolean;
  metrics?: string;
  tarpit?: string;
  tarpitRate: number;
  tarpitDecoyRate: number;
  tarpitMaxConnections: number;
  tarpitPerAddress: number;
  tarpitLifetime: number;
  tarpitUser: string;
  tarpitLines?: string[];
}

/** --tarpit and its --tarpit-* options as the supervisor takes them (none without --tarpit). */
function tarpitSettingsFrom(f: WatchFlags): TarpitSettings | undefined {
  if (f.tarpit === undefined) return undefined;
  return {
    address: parseTarpitTarget(f.tarpit),
    user: f.tarpitUser,
    heapMb: TARPIT_DEFAULTS.heapMb,
    config: {
      rate: f.tarpitRate,
      decoyRate: f.tarpitDecoyRate,
      maxConnections: f.tarpitMaxConnections,
      perAddress: f.tarpitPerAddress,
      lifetimeSec: f.tarpitLifetime,
      idleSec: TARPIT_DEFAULTS.idleSec,
      maxLine: TARPIT_DEFAULTS.maxLine,
      lines: f.tarpitLines && f.tarpitLines.length > 0 ? f.tarpitLines : [...DEFAULT_TARPIT_LINES],
      hostname: hostname(),
    },
  };
}

/** The command line's own values of the additive options, kept for re-reads on SIGHUP. */
const cliLists = new Map<string, string[]>();

/** Options from the command line, else from the config file, else defaults (lists: both). */
function resolveFlags(cmd: Command): WatchFlags {
  const opts = cmd.opts<WatchFlags>();
  if (cmd.getOptionValueSource('config') === 'cli' || existsSync(opts.config)) {
    applyConfigValues(cmd, loadConfig(opts.config), { cliLists });
  }
  return cmd.opts<WatchFlags>();
}

function settingsFrom(f: WatchFlags): WatchSettings {
  const pipeline = pipelineOptionsFrom(f);
  const blockSeconds = f.blockSeconds ?? Math.min(f.seconds, MAX_TIMEOUT_SEC);
  // Repeat offenders: the engine escalates the block time the kernel is given (strikes/escalation.ts).
  pipeline.strikes.blockSeconds = blockSeconds;
  return {
    pipeline,
    iface: f.interface,
    captureBackend: f.captureBackend,
    bufferSize: f.bufferSize,
    readCoalesce: f.readCoalesce,
    blocker: f.blocker,
    // --seconds may be longer than a kernel timeout can be (--block-seconds may not): cut to it.
    dryRun: f.dryRun,
    blockSeconds,
    killEstablished: f.killEstablished,
    stateFile: f.stateFile,
    statsInterval: f.statsInterval,
    netns: f.netns,
    logs: [...new Set(f.log)],
    journal: f.journal,
    services: f.services,
    replay: f.replay && f.replay.length > 0 ? { files: f.replay, pace: f.pace } : undefined,
    // Checked on the command line by the registry, and for the config file's value in runWatch.
    metrics: f.metrics === undefined ? undefined : parseListenAddress(f.metrics),
    links: linkSettingsFrom(f),
    tarpit: tarpitSettingsFrom(f),
  };
}

/** `smtpstrike watch` (the command and its options: watch.ts). */
export async function runWatch(cmd: Command): Promise<number> {
  let flags: WatchFlags;
  try {
    flags = { ...resolveFlags(cmd) }; // a snapshot: commander hands out its live option object, which a SIGHUP re-read rewrites
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`smtpstrike: bad config: ${e.message}\n`);
      return WATCH_EXIT.failed;
    }
    throw e;
  }
  if (flags.pace && !(flags.replay && flags.replay.length > 0)) {
    process.stderr.write('smtpstrike: --pace paces a replay: give the capture files with --replay FILE…\n');
    return WATCH_EXIT.failed;
  }
  if (flags.metrics !== undefined) {
    try {
      parseListenAddress(flags.metrics); // the config file's value (the command line's was checked when read)
    } catch (e) {
      process.stderr.write(`smtpstrike: bad config: metrics: ${(e as Error).message}\n`);
      return WATCH_EXIT.failed;
    }
  }
  let logs: LogSetup = makeLogger(flags.logFile, flags.logLevel);
  const service = new WatchService(settingsFrom(flags), logs.logger);

  /** SIGHUP: re-read the config file, apply what can change live, name the rest. */
  const reload = (): void => {
    logs.reopen();
    try {
      // Re-read the config file: reset config-sourced values to their defaults first.
      for (const o of cmd.options) {
        const name = o.attributeName();
        if (cmd.getOptionValueSource(name) === 'config') cmd.setOptionValueWithSource(name, o.defaultValue, 'default');
        const own = cliLists.get(name);
        if (own) cmd.setOptionValueWithSource(name, [...own], 'cli');
      }
      // Config-only keys (crowdsec:) have no commander option: a key removed from the file must go too.
      for (const o of WATCH_OPTIONS)
        if (!o.flags && cmd.getOptionValueSource(o.option) === 'config') cmd.setOptionValueWithSource(o.option, undefined, 'default');
      const next = { ...resolveFlags(cmd) };
      const changes = reloadChanges(flags, next);
      if (next.logFile !== flags.logFile || next.logLevel !== flags.logLevel) {
        logs.flush();
        logs.close();
        logs = makeLogger(next.logFile, next.logLevel);
      }
      flags = keepRestartOnly(flags, next);
      service.reload(settingsFrom(flags), logs.logger, changes);
    } catch (e) {
      logs.logger.error({ event: 'reload_failed', err: (e as Error).message }, `config not reloaded: ${(e as Error).message}`);
    }
  };
  // Caught from the start: SIGHUP's default action ends the process, and systemd counts a SIGHUP
  // death as clean, so `systemctl reload` during a slow start would stop watch for good. One that
  // comes while starting is applied once watch runs.
  let running = false;
  let reloadWhenRunning = false;
  process.on('SIGHUP', () => {
    if (running) reload();
    else reloadWhenRunning = true;
  });

  try {
    await service.start();
  } catch (e) {
    logs.logger.fatal({ event: 'start_failed', err: (e as Error).message }, (e as Error).message);
    logs.flush();
    process.stderr.write(`smtpstrike: ${(e as Error).message}\n`);
    await service.stop().catch(() => undefined);
    return WATCH_EXIT.failed;
  }
  running = true;
  if (reloadWhenRunning) reload();

  return await new Promise<number>((resolve) => {
    let finishing = false;
    /** Stops (pending blocks applied, state saved) and resolves with `code`, or 1 if stopping fails. */
    const finish = (code: number): void => {
      if (finishing) return;
      finishing = true;
      service.stop().then(
        () => {
          logs.flush();
          resolve(code);
        },
        (e: Error) => {
          logs.logger.error({ event: 'stop_failed', err: e.message }, e.message);
          logs.flush();
          resolve(WATCH_EXIT.failed);
        },
      );
    };
    const onSignal = (signal: string): void => {
      logs.logger.info({ event: 'signal', signal }, `${signal}: stopping`);
      finish(WATCH_EXIT.ok);
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
    // --replay: the end of the files is the end of the run (0), or 2 when one could not be read to its end.
    void service.replayEnded.then((end) => {
      const bad = end.files.filter((f) => f.error);
      for (const f of bad) process.stderr.write(`smtpstrike: ${f.error!.message}\n`);
      finish(bad.length > 0 ? WATCH_EXIT.captureLost : WATCH_EXIT.ok);
    });
    void service.captureLost.then((e) => {
      // The service logged it `fatal`; the journal gets it too, for those who read no log file.
      process.stderr.write(`smtpstrike: capture lost: ${e.message}\n`);
      finish(WATCH_EXIT.captureLost);
    });
  });
}
