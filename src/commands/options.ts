import { InvalidArgumentError, type Command } from 'commander';
import { CONFIG_KEYS, parseBytes, rangeProblem, type ConfigValue } from '../config/config-file.js';
import { defaultPipelineOptions, type PipelineOptions } from '../pipeline.js';
import { defaultTallyLimits } from '../replay-output/client-tally.js';
import { readFileSync } from 'node:fs';
import { AddressSet } from '../strikes/address-key.js';
import { parseCalibrationFile, parseReplyArg, ReplyResolver, replyTextsFromArgs, type ReplyTexts } from '../tls/reply-profiles.js';
import { parseServices, type MailService } from '../watch/services.js';

export function intArg(min: number, max: number): (v: string) => number {
  return (v: string) => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`expected a whole number, got "${v}"`);
    const n = Number(v);
    if (n < min || n > max) throw new InvalidArgumentError(`must be between ${min} and ${max}`);
    return n;
  };
}

/**
 * The command-line parser of a number the config file knows as `key`: the same kind (whole number
 * or size) and the same range check, so a value refused in the file is refused on the command line.
 */
export function configNumberArg(key: string): (v: string) => number {
  const spec = CONFIG_KEYS[key];
  if (!spec || (spec.kind !== 'int' && spec.kind !== 'bytes')) throw new Error(`config key ${key} is not a number`);
  return (v: string) => {
    const n = spec.kind === 'bytes' ? parseBytes(v) : /^\d+$/.test(v) ? Number(v) : null;
    if (n === null) {
      throw new InvalidArgumentError(spec.kind === 'bytes' ? `expected a size such as 134217728 or 128MiB, got "${v}"` : `expected a whole number, got "${v}"`);
    }
    const bad = rangeProblem(spec, n);
    if (bad) throw new InvalidArgumentError(bad);
    return n;
  };
}

export function portList(v: string): number[] {
  const ports = v.split(',').map((p) => p.trim()).filter(Boolean);
  if (ports.length === 0) throw new InvalidArgumentError('no ports given');
  return ports.map((p) => {
    if (!/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 65535) throw new InvalidArgumentError(`not a TCP port: "${p}"`);
    return Number(p);
  });
}

/** `--services smtp,imap` (watch, blocks): checked and put in smtp, imap, pop3 order. */
export function servicesArg(v: string): MailService[] {
  try {
    return parseServices(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

export const collect = (v: string, prev: string[]): string[] => [...prev, v];

function cidr(v: string, prev: string[]): string[] {
  try {
    new AddressSet().add(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  return [...prev, v];
}

/** `--tls-reply CODE=TEXT`: checked here, kept as given (the config's `tls_replies:` gives the same strings). */
function tlsReplyArg(v: string, prev: string[]): string[] {
  try {
    parseReplyArg(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  return [...prev, v];
}

/** The reply texts of a `smtpstrike calibrate` file; throws an Error naming the file and the problem. */
export function loadRepliesFile(file: string): ReplyTexts {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`tls replies file ${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
  try {
    return parseCalibrationFile(text);
  } catch (e) {
    throw new Error(`tls replies file ${file}: ${(e as Error).message}`, { cause: e });
  }
}

function repliesFileArg(v: string): string {
  try {
    loadRepliesFile(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  return v;
}

/** The detection and strike options shared by replay, watch, dump and report. */
export function addPipelineOptions(cmd: Command): Command {
  const d = defaultPipelineOptions();
  return cmd
    .option('--ports <list>', 'SMTP server ports, comma-separated', portList, d.ports)
    .option('--hitcount <n>', 'failures within --seconds that block an address', configNumberArg('hitcount'), d.strikes.hitcount)
    .option('--seconds <n>', 'window for --hitcount, seconds', configNumberArg('seconds'), d.strikes.seconds)
    .option('--conn-hitcount <n>', 'new connections within --conn-seconds that block an address', configNumberArg('conn_hitcount'), d.strikes.connHitcount)
    .option('--conn-seconds <n>', 'window for --conn-hitcount, seconds', configNumberArg('conn_seconds'), d.strikes.connSeconds)
    .option('--whitelist <cidr>', 'never count or block this address or network (repeatable)', cidr, [])
    .option('--ipv6-prefix <bits>', 'IPv6 clients are counted per prefix of this length (128: per address)', configNumberArg('ipv6_prefix'), d.strikes.ipv6Prefix)
    .option('--match <string>', 'also count a server reply containing this text as a failure (repeatable; found across segments)', collect, [])
    .option('--tempfail-strikes', '454 temporary failures inside AUTH count as strikes too', false)
    .option('--no-inferred-strikes', 'AUTH failures inferred inside TLS (from record sizes) are reported but never strike')
    .option('--max-flows <n>', 'TCP flows tracked at most (least recently used evicted, counted)', configNumberArg('max_flows'), d.flows.maxFlows)
    .option('--max-strike-entries <n>', 'addresses the strike table tracks at most', configNumberArg('max_strike_entries'), d.strikes.maxEntries)
    .option('--tls-reply <CODE=TEXT>', 'inside TLS: this server\'s reply text for CODE (535, 235, 454, 334, 221), without CRLF; "\\n" separates the lines of a multi-line reply (repeatable; over --tls-replies-file and the banner\'s built-in profile)', tlsReplyArg, [])
    .option('--tls-replies-file <file>', 'inside TLS: reply texts saved by `smtpstrike calibrate --out FILE`', repliesFileArg);
}

/** The per-client table of `replay` (the report's memory bound). */
export function addTallyOptions(cmd: Command): Command {
  return cmd.option('--max-clients <n>', 'clients listed at most; later ones are counted in totals and in the summary\'s clients_dropped',
    intArg(1, 100_000_000), defaultTallyLimits.maxClients);
}

export interface PipelineFlags {
  ports: number[];
  hitcount: number;
  seconds: number;
  connHitcount: number;
  connSeconds: number;
  whitelist: string[];
  ipv6Prefix: number;
  match: string[];
  tempfailStrikes: boolean;
  inferredStrikes: boolean;
  maxFlows: number;
  maxStrikeEntries: number;
  tlsReply: string[];
  tlsRepliesFile?: string;
}

/**
 * The pipeline options of the flags; `logReplies`: reply texts learned from a mail log (report).
 * Throws an Error when the replies file cannot be read (a config's `tls_replies_file:` is read here).
 */
export function pipelineOptionsFrom(f: PipelineFlags, logReplies?: ReplyTexts): PipelineOptions {
  const o = defaultPipelineOptions();
  o.ports = f.ports;
  o.patterns = f.match;
  o.strikes.hitcount = f.hitcount;
  o.strikes.seconds = f.seconds;
  o.strikes.connHitcount = f.connHitcount;
  o.strikes.connSeconds = f.connSeconds;
  for (const w of f.whitelist) o.strikes.whitelist.add(w);
  o.strikes.ipv6Prefix = f.ipv6Prefix;
  o.strikes.tempfailStrikes = f.tempfailStrikes;
  o.strikes.inferredStrikes = f.inferredStrikes;
  o.strikes.maxEntries = f.maxStrikeEntries;
  o.flows.maxFlows = f.maxFlows;
  o.tlsReplies = new ReplyResolver({
    option: replyTextsFromArgs(f.tlsReply),
    file: f.tlsRepliesFile === undefined ? undefined : loadRepliesFile(f.tlsRepliesFile),
    log: logReplies,
  });
  return o;
}

/** List options that add up: the config file's entries and the command line's both apply. */
export const ADDITIVE_OPTIONS: readonly string[] = ['whitelist', 'match', 'log'];

/**
 * Puts config-file values into a command's options: the command line wins, the config file fills
 * what it left at its default, and the lists in ADDITIVE_OPTIONS take both. `cliLists` keeps the
 * command line's own lists, so that a re-read (SIGHUP) does not add the file's entries twice.
 */
export function applyConfigValues(
  cmd: Command, values: Iterable<[string, ConfigValue]>,
  opts: { only?: ReadonlySet<string>; cliLists?: Map<string, string[]> } = {},
): void {
  const cliLists = opts.cliLists ?? new Map<string, string[]>();
  for (const [option, value] of values) {
    if (opts.only && !opts.only.has(option)) continue;
    const src = cmd.getOptionValueSource(option);
    if (ADDITIVE_OPTIONS.includes(option) && src === 'cli') {
      if (!cliLists.has(option)) cliLists.set(option, [...(cmd.getOptionValue(option) as string[])]);
      cmd.setOptionValueWithSource(option, [...cliLists.get(option)!, ...(value as string[])], 'cli');
    } else if (src === undefined || src === 'default') cmd.setOptionValueWithSource(option, value, 'config');
  }
}
