import { Command, InvalidArgumentError } from 'commander';
import { existsSync, writeFileSync } from 'node:fs';
import { parseZone, type Zone } from '../accounts/clock.js';
import { defaultLogs } from '../accounts/default-logs.js';
import { MODES, type Mode } from '../accounts/types.js';
import { emptyWhitelist, Whitelist, type WhitelistConfig } from '../accounts/whitelist.js';
import { ConfigError, loadAccountsConfig, loadConfig } from '../config/config-file.js';
import { defaultGeoFiles } from '../geoip/geoip.js';
import { Output } from '../io/output.js';
import { renderHtml } from '../report/html.js';
import { makeReport, type ReportInputs } from '../report/make-report.js';
import { looksLikeCapture } from '../report/sniff.js';
import { renderReportText } from '../report/text.js';
import { addPipelineOptions, applyConfigValues, intArg, pipelineOptionsFrom, type PipelineFlags } from './options.js';

/**
 * `smtpstrike report [FILE...]` — the wire and the logs side by side: who failed, and who then got
 * in. Captures (replayed through the same pipeline as `replay`) and/or a `watch` state file, joined
 * with the logs (the `accounts` parsers); verdicts COMPROMISED, SUSPECT, DISTRIBUTED, ATTACKED and
 * the BLIND SPOTS; text, `--json` or `--html FILE`.
 *
 * Exit status: 0 the report was made; 1 bad usage or config; 2 an input could not be read to its
 * end (the report of everything read is still made).
 */

export const DEFAULT_CONFIG = '/etc/smtpstrike/config.yaml';
export const DEFAULT_STATE = '/var/lib/smtpstrike/state.json';
export const EXIT_READ_ERROR = 2;

interface ReportFlags extends PipelineFlags {
  config: string;
  capture: string[];
  logs: string[];
  /** A file, or false with --no-state. */
  state?: string | false;
  stateFile?: string;
  mode: Mode;
  limit: number;
  geoip: number;
  geoipDb: string[];
  logYear?: number;
  logTz?: string;
  tz: string;
  tolerance: number;
  gap: number;
  minFailures: number;
  distributedMin: number;
  distributedWindow: number;
  json: boolean;
  html?: string;
  quiet: boolean;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

function zoneArg(v: string): string {
  try {
    parseZone(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  return v;
}

function yearArg(v: string): number {
  if (!/^\d{4}$/.test(v)) throw new InvalidArgumentError('expected a four-digit year');
  return Number(v);
}

function limitArg(v: string): number {
  if (!/^-?\d+$/.test(v)) throw new InvalidArgumentError(`expected a whole number (negative: count whitelisted addresses too), got "${v}"`);
  return Number(v);
}

function secondsArg(v: string): number {
  if (!/^\d+(\.\d+)?$/.test(v)) throw new InvalidArgumentError(`expected seconds, got "${v}"`);
  return Number(v);
}

function modeArg(v: string): Mode {
  if (!(MODES as readonly string[]).includes(v)) throw new InvalidArgumentError(`must be one of ${MODES.join(', ')}`);
  return v as Mode;
}

function geoLevelArg(v: string): number {
  if (!/^[012]$/.test(v)) throw new InvalidArgumentError('must be 0 (none), 1 (country) or 2 (country, city - ISP)');
  return Number(v);
}

export function reportCommand(): Command {
  const cmd = new Command('report')
    .description('the wire and the logs side by side: captures (or a watch state file) joined with mail logs — who failed, and who then got in (COMPROMISED, SUSPECT, DISTRIBUTED, ATTACKED, BLIND SPOTS)')
    .argument('[files...]', 'capture files and log files, told apart by content (pcap/pcapng, .gz too: captures; anything else: logs)')
    .option('--capture <file>', 'a capture file (repeatable)', collect, [])
    .option('--logs <file>', 'a log file ("-": standard input; .gz/.bz2/.xz/.zst too; repeatable). Default when no log is named: the mode\'s usual logs that exist', collect, [])
    .option('--state <file>', `a watch state file (default when no capture is named: the config's state_file, else ${DEFAULT_STATE}, if it exists)`)
    .option('--no-state', 'read no watch state file')
    .option('-c, --config <file>', 'config file (YAML): detection options, state_file and the accounts: section (whitelists, limit, geoip, mode, logs)', DEFAULT_CONFIG)
    .option('-m, --mode <mode>', `which log formats count: ${MODES.join(', ')}`, modeArg, 'all')
    .option('--log-year <yyyy>', 'year of log timestamps that carry none (default: the year nearest the wire\'s time)', yearArg)
    .option('--log-tz <zone>', 'zone of log timestamps that carry none: local, UTC, +05:30 (default: estimated against the wire, else local)', zoneArg)
    .option('--tz <zone>', 'zone of the report\'s days and times: local, UTC, +01:00', zoneArg, 'local')
    .option('--tolerance <s>', 'a wire event and a log line this close (seconds) are one attempt', secondsArg, 2)
    .option('--gap <s>', 'a source silent for longer than this (seconds) is taken as not covering that time', secondsArg, 3600)
    .option('--min-failures <n>', 'COMPROMISED: failed attempts from an address before its login', intArg(1, 1_000_000), 1)
    .option('--distributed-min <n>', 'DISTRIBUTED: addresses under the strike threshold failing for one account', intArg(2, 1_000_000), 4)
    .option('--distributed-window <s>', 'DISTRIBUTED: within this many seconds', secondsArg, 86400)
    .option('-l, --limit <n>', 'SUSPECT (the accounts rule): an account used from at least N non-whitelisted addresses in a day; 0: any; negative: count whitelisted ones too', limitArg, 2)
    .option('-g, --geoip <level>', '0: no GeoIP, 1: country, 2: country, city - ISP', geoLevelArg, 2)
    .option('--geoip-db <file>', 'GeoIP database instead of the embedded one (repeatable; as accounts)', collect, [])
    .option('--json', 'the report as one JSON object', false)
    .option('--html <file>', 'also write the report as one self-contained HTML page (no network)')
    .option('-q, --quiet', 'no warnings on stderr', false);
  addPipelineOptions(cmd);
  cmd.action(async (files: string[], _opts: unknown, command: Command) => {
    process.exitCode = await runReport(files, command);
  });
  return cmd;
}

const CONFIG_OPTIONS = new Set(['ports', 'hitcount', 'seconds', 'connHitcount', 'connSeconds', 'whitelist', 'ipv6Prefix', 'match', 'tempfailStrikes', 'inferredStrikes', 'maxFlows', 'maxStrikeEntries', 'stateFile', 'tlsReply', 'tlsRepliesFile']);
const ACCOUNTS_OPTIONS: Record<string, string> = { mode: 'mode', limit: 'limit', geoip: 'geoip', geoipDb: 'geoipDb', tz: 'logTz', year: 'logYear' };

function resolve(cmd: Command): { flags: ReportFlags; whitelist: WhitelistConfig; configLogs: string[] } {
  const opts = cmd.opts<ReportFlags>();
  let whitelist = emptyWhitelist();
  let configLogs: string[] = [];
  const configGiven = cmd.getOptionValueSource('config') === 'cli';
  if (configGiven || existsSync(opts.config)) {
    applyConfigValues(cmd, loadConfig(opts.config), { only: CONFIG_OPTIONS });
    const acc = loadAccountsConfig(opts.config);
    whitelist = acc.whitelist;
    for (const [option, value] of acc.options) {
      if (option === 'logs') {
        configLogs = value as string[];
        continue;
      }
      const mine = ACCOUNTS_OPTIONS[option];
      if (!mine) continue;
      if (mine === 'logTz') {
        try {
          parseZone(String(value));
        } catch (e) {
          throw new ConfigError(opts.config, 0, `accounts.tz: ${(e as Error).message}`);
        }
      }
      const src = cmd.getOptionValueSource(mine);
      if (src === undefined || src === 'default') cmd.setOptionValueWithSource(mine, value, 'config');
    }
  }
  return { flags: cmd.opts<ReportFlags>(), whitelist, configLogs };
}

export async function runReport(files: string[], cmd: Command): Promise<number> {
  let r: ReturnType<typeof resolve>;
  try {
    r = resolve(cmd);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`smtpstrike: bad config: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const { flags } = r;
  const warn = (msg: string): void => {
    if (!flags.quiet) process.stderr.write(`smtpstrike report: warning: ${msg}\n`);
  };
  let zone: Zone;
  let logTz: Zone | undefined;
  let whitelist: Whitelist;
  try {
    zone = parseZone(flags.tz);
    logTz = flags.logTz === undefined ? undefined : parseZone(String(flags.logTz));
    whitelist = new Whitelist(r.whitelist);
  } catch (e) {
    process.stderr.write(`smtpstrike: ${(e as Error).message}\n`);
    return 1;
  }

  const inputs: ReportInputs = { captures: [...flags.capture], state: typeof flags.state === 'string' ? flags.state : null, logs: [...flags.logs] };
  for (const f of files) (looksLikeCapture(f) ? inputs.captures : inputs.logs).push(f);
  if (inputs.captures.length === 0 && inputs.state === null && flags.state !== false) {
    const s = flags.stateFile ?? DEFAULT_STATE;
    if (existsSync(s)) inputs.state = s;
  }
  if (inputs.state !== null && !existsSync(inputs.state)) {
    process.stderr.write(`smtpstrike report: ${inputs.state}: no such state file\n`);
    return 1;
  }
  if (inputs.logs.length === 0) inputs.logs = r.configLogs.length > 0 ? r.configLogs : defaultLogs(flags.mode);
  if (inputs.captures.length === 0 && inputs.state === null && inputs.logs.length === 0) {
    process.stderr.write('smtpstrike report: nothing to report on: name capture files and/or log files (or --state FILE)\n');
    return 1;
  }

  const doc = await makeReport(inputs, {
    pipeline: pipelineOptionsFrom(flags), mode: flags.mode, logYear: flags.logYear, logTz, zone,
    tolerance: flags.tolerance, gap: flags.gap, minFailures: flags.minFailures, distributedMin: flags.distributedMin,
    distributedWindow: flags.distributedWindow, limit: flags.limit, whitelist, geoLevel: flags.geoip,
    geoDb: flags.geoipDb.length > 0 ? flags.geoipDb : defaultGeoFiles(), warn,
  });
  if (flags.html) {
    try {
      writeFileSync(flags.html, renderHtml(doc, zone));
    } catch (e) {
      process.stderr.write(`smtpstrike report: cannot write ${flags.html}: ${(e as Error).message}\n`);
      return 1;
    }
  }
  const out = Output.of(process.stdout);
  out.write(flags.json ? JSON.stringify(doc) + '\n' : renderReportText(doc, zone));
  await out.end();
  const readError = doc.inputs.logs.some((c) => c.error) || doc.inputs.captures.some((c) => c.error);
  return readError ? EXIT_READ_ERROR : 0;
}
