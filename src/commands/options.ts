import type { Command } from 'commander';
import type { ConfigValue } from '../config/config-file.js';
import { defaultPipelineOptions, type PipelineOptions } from '../pipeline.js';
import { ADDITIVE_OPTIONS } from '../options/all-options.js';
import { commanderOption, loadRepliesFile } from '../options/cli-values.js';
import { PIPELINE_OPTIONS } from '../options/pipeline.js';
import type { OptionSpec } from '../options/registry.js';
import { defaultEscalationOptions } from '../strikes/escalation.js';
import { ReplyResolver, replyTextsFromArgs, type ReplyTexts } from '../tls/reply-profiles.js';

export { ADDITIVE_OPTIONS };

/** Adds the options of `specs` (options/registry.ts) to a command, in their order. */
export function addOptions(cmd: Command, specs: readonly OptionSpec[]): Command {
  for (const s of specs) if (s.flags) cmd.addOption(commanderOption(s));
  return cmd;
}

/** The detection and strike options shared by replay, watch, dump and report (a command's list has them). */
export function addPipelineOptions(cmd: Command): Command {
  return addOptions(cmd, PIPELINE_OPTIONS);
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
  /** Repeat offenders (absent: the defaults, escalation on). */
  escalate?: boolean;
  escalateFactor?: number;
  escalateCap?: number;
  escalateLookback?: number;
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
  const esc = o.strikes.escalation ?? defaultEscalationOptions();
  o.strikes.escalation =
    f.escalate === false
      ? null
      : { factor: f.escalateFactor ?? esc.factor, capSeconds: f.escalateCap ?? esc.capSeconds, lookbackSeconds: f.escalateLookback ?? esc.lookbackSeconds };
  o.flows.maxFlows = f.maxFlows;
  o.tlsReplies = new ReplyResolver({
    option: replyTextsFromArgs(f.tlsReply),
    file: f.tlsRepliesFile === undefined ? undefined : loadRepliesFile(f.tlsRepliesFile),
    log: logReplies,
  });
  return o;
}

/**
 * Puts config-file values into a command's options: the command line wins, the config file fills
 * what it left at its default, and the lists in ADDITIVE_OPTIONS take both. `cliLists` keeps the
 * command line's own lists, so that a re-read (SIGHUP) does not add the file's entries twice.
 */
export function applyConfigValues(
  cmd: Command,
  values: Iterable<[string, ConfigValue]>,
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
