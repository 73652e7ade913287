import { Command, InvalidArgumentError } from 'commander';
import { existsSync } from 'node:fs';
import { ConfigError, loadConfig } from '../config/config-file.js';
import { makeLogger, type LogSetup } from '../watch/logger.js';
import { keepRestartOnly, reloadChanges } from '../watch/reload.js';
import { WatchService, type WatchSettings } from '../watch/watch-service.js';
import { DEFAULT_SERVICES, MAIL_SERVICES, type MailService } from '../watch/services.js';
import { addPipelineOptions, applyConfigValues, collect, configNumberArg, pipelineOptionsFrom, servicesArg, type PipelineFlags } from './options.js';

export const DEFAULT_CONFIG = '/etc/smtpstrike/config.yaml';

/**
 * watch's exit status. Anything but 0 makes systemd's Restart=on-failure start it again.
 * 1: could not start (bad option or config file, capture or firewall unusable) or stop cleanly;
 * 2: capture ended while watching (tcpdump exited, the cap session failed, the packet handler threw).
 */
export const WATCH_EXIT = { ok: 0, failed: 1, captureLost: 2 } as const;

interface WatchFlags extends PipelineFlags {
  config: string;
  interface: string;
  captureBackend: 'tcpdump' | 'cap';
  bufferSize: number;
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
}


function choice<T extends string>(...allowed: T[]): (v: string) => T {
  return (v: string) => {
    if (!(allowed as string[]).includes(v)) throw new InvalidArgumentError(`must be one of ${allowed.join(', ')}`);
    return v as T;
  };
}

export function watchCommand(): Command {
  const cmd = new Command('watch')
    .description('capture live, count strikes in real time, block offenders in the kernel (root, or CAP_NET_RAW + CAP_NET_ADMIN)')
    .option('-c, --config <file>', 'config file (YAML; options given here override it)', DEFAULT_CONFIG)
    .option('-i, --interface <name>', 'interface to capture on ("any" for all)', 'any')
    .option('--capture-backend <name>', 'tcpdump (pipe from tcpdump -U -w -) or cap (libpcap in process)', choice('tcpdump', 'cap'), 'tcpdump')
    .option('--buffer-size <size>', 'kernel capture buffer, e.g. 128MiB', configNumberArg('buffer_size'), 128 * 1024 * 1024)
    .option('--blocker <name>', 'nft (default), ipset or iptables', choice('nft', 'ipset', 'iptables'), 'nft')
    .option('--block-seconds <n>', 'kernel timeout of a block, refreshed while the address keeps trying (default: --seconds)', configNumberArg('block_seconds'))
    .option('--dry-run', 'log what would be blocked; touch no firewall', false)
    .option('--kill-established', "also end the offender's open SMTP sessions (ss -K)", false)
    .option('--state-file <file>', 'strikes and active blocks, kept across restarts', '/var/lib/smtpstrike/state.json')
    .option('--log-file <file>', 'pino JSON log file (default: stdout); reopened on SIGHUP')
    .option('--log-level <level>', 'fatal, error, warn, info, debug or trace', choice('fatal', 'error', 'warn', 'info', 'debug', 'trace'), 'info')
    .option('--stats-interval <seconds>', 'how often capture and blocker health is logged', configNumberArg('stats_interval'), 60)
    .option('--log <file>', 'also follow this mail log like tail -F (repeatable; with the config\'s logs:)', collect, [])
    .option('--journal', 'also follow journald (journalctl -f -o json) for the postfix, dovecot and exim4 units', false)
    .option('--services <list>', `whose log failures count and whose ports a block closes, comma-separated: ${MAIL_SERVICES.join(', ')} (smtp: --ports; imap: 143, 993; pop3: 110, 995)`, servicesArg, [...DEFAULT_SERVICES])
    .option('--netns <name>', 'run capture and firewall commands in this network namespace (for tests)');
  addPipelineOptions(cmd);
  cmd.action(async (_: unknown, command: Command) => {
    process.exitCode = await runWatch(command);
  });
  return cmd;
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
  return {
    pipeline, iface: f.interface, captureBackend: f.captureBackend, bufferSize: f.bufferSize, blocker: f.blocker,
    dryRun: f.dryRun, blockSeconds: f.blockSeconds ?? f.seconds, killEstablished: f.killEstablished,
    stateFile: f.stateFile, statsInterval: f.statsInterval, netns: f.netns, logs: [...new Set(f.log)], journal: f.journal,
    services: f.services,
  };
}

async function runWatch(cmd: Command): Promise<number> {
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
    void service.captureLost.then((e) => {
      // The service logged it `fatal`; the journal gets it too, for those who read no log file.
      process.stderr.write(`smtpstrike: capture lost: ${e.message}\n`);
      finish(WATCH_EXIT.captureLost);
    });
  });
}
