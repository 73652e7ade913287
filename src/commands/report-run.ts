import type { Command } from 'commander';
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { parseZone, type Zone } from '../accounts/clock.js';
import { defaultLogs } from '../accounts/default-logs.js';
import type { Mode } from '../accounts/types.js';
import { emptyWhitelist, Whitelist, type WhitelistConfig } from '../accounts/whitelist.js';
import { ConfigError, loadAccountsConfig, loadConfig } from '../config/config-file.js';
import { defaultGeoFiles } from '../geoip/geoip.js';
import { Output } from '../io/output.js';
import { makeReport, type ReportInputs } from '../report/make-report.js';
import { inputKind } from '../report/sniff.js';
import { jsonPieces } from '../report/json-out.js';
import { reportLines } from '../report/text.js';
import { configOptionsOf } from '../options/all-options.js';
import { DEFAULT_STATE } from '../options/report.js';
import { applyConfigValues, type PipelineFlags } from './options.js';
import { pipelineOptionsFrom } from './pipeline-flags.js';

/**
 * `smtpstrike report [FILE...]` (the command and its options: report.ts) — the wire and the logs side by side: who failed, and who then got
 * in. Captures (replayed through the same pipeline as `replay`) and/or a `watch` state file, joined
 * with the logs (the `accounts` parsers); verdicts COMPROMISED, SUSPECT, DISTRIBUTED, ATTACKED and
 * the BLIND SPOTS, and TARPITTED from watch's own log; text, `--json` or `--html FILE`.
 *
 * Exit status: 0 the report was made; 1 bad usage or config; 2 an input could not be read to its
 * end (the report of everything read is still made).
 */

export { DEFAULT_CONFIG } from '../options/watch.js';
export { DEFAULT_STATE };
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

/** The top-level config keys report reads (the pipeline's and state_file), and its accounts: ones. */
const CONFIG_OPTIONS = new Set(configOptionsOf('report', 'top').values());
const ACCOUNTS_OPTIONS = configOptionsOf('report', 'accounts');

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
      const mine = ACCOUNTS_OPTIONS.get(option);
      if (!mine) continue;
      const src = cmd.getOptionValueSource(mine);
      if (src === undefined || src === 'default') cmd.setOptionValueWithSource(mine, value, 'config');
    }
  }
  return { flags: cmd.opts<ReportFlags>(), whitelist, configLogs };
}

/** Writes the pieces to a new file in turn, ~1 MB at a time (not the page as one string). */
function writePieces(file: string, pieces: Iterable<string>): void {
  const fd = openSync(file, 'w');
  try {
    let batch: string[] = [];
    let size = 0;
    const flush = (): void => {
      const b = Buffer.from(batch.join(''), 'utf8');
      for (let off = 0; off < b.length;) off += writeSync(fd, b, off, b.length - off);
      batch = [];
      size = 0;
    };
    for (const p of pieces) {
      batch.push(p);
      size += p.length;
      if (size >= 1 << 20) flush();
    }
    if (size > 0) flush();
  } finally {
    closeSync(fd);
  }
}

function* linesOf(lines: Iterable<string>): Generator<string> {
  for (const l of lines) yield l + '\n';
}

export async function runReport(files: string[], cmd: Command): Promise<number> {
  // V8 "pretenures" an allocation site whose objects outlived a young-generation collection (one
  // address's many log rows while it is joined): every later object of that site is then made in
  // the old generation, which V8 lets grow to ~4x what is live before collecting it. Over
  // 10,000,000 log lines and a 1 GB capture that was +250 MB of peak RSS, and slower (issue 15;
  // native-notes/report-memory.md). The flag is read at each collection, so setting it here works.
  setFlagsFromString('--no-allocation-site-pretenuring');
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

  const inputs: ReportInputs = {
    captures: [...flags.capture],
    state: typeof flags.state === 'string' ? flags.state : null,
    logs: [...flags.logs],
    watchLogs: [],
  };
  for (const f of files) {
    const kind = inputKind(f);
    (kind === 'capture' ? inputs.captures : kind === 'watch' ? inputs.watchLogs! : inputs.logs).push(f);
  }
  if (inputs.captures.length === 0 && inputs.state === null && flags.state !== false) {
    const s = flags.stateFile ?? DEFAULT_STATE;
    if (existsSync(s)) inputs.state = s;
  }
  if (inputs.state !== null && !existsSync(inputs.state)) {
    process.stderr.write(`smtpstrike report: ${inputs.state}: no such state file\n`);
    return 1;
  }
  if (inputs.logs.length === 0) inputs.logs = r.configLogs.length > 0 ? r.configLogs : defaultLogs(flags.mode);
  if (inputs.captures.length === 0 && inputs.state === null && inputs.logs.length === 0 && inputs.watchLogs!.length === 0) {
    process.stderr.write('smtpstrike report: nothing to report on: name capture files and/or log files (or --state FILE)\n');
    return 1;
  }

  const doc = await makeReport(inputs, {
    pipeline: pipelineOptionsFrom(flags),
    mode: flags.mode,
    logYear: flags.logYear,
    logTz,
    zone,
    tolerance: flags.tolerance,
    gap: flags.gap,
    minFailures: flags.minFailures,
    distributedMin: flags.distributedMin,
    distributedWindow: flags.distributedWindow,
    limit: flags.limit,
    whitelist,
    geoLevel: flags.geoip,
    geoDb: flags.geoipDb.length > 0 ? flags.geoipDb : defaultGeoFiles(),
    warn,
  });
  if (flags.html) {
    const { renderHtmlPieces } = await import('../report/html.js'); // the page and its assets only for --html
    try {
      writePieces(flags.html, renderHtmlPieces(doc, zone));
    } catch (e) {
      process.stderr.write(`smtpstrike report: cannot write ${flags.html}: ${(e as Error).message}\n`);
      return 1;
    }
  }
  const out = Output.of(process.stdout);
  if (flags.json) {
    await out.writeAll(jsonPieces(doc));
    out.write('\n');
  } else await out.writeAll(linesOf(reportLines(doc, zone)));
  await out.end();
  const readError = doc.inputs.logs.some((c) => c.error) || doc.inputs.captures.some((c) => c.error) || (doc.tarpit?.files.some((f) => f.error) ?? false);
  return readError ? EXIT_READ_ERROR : 0;
}
