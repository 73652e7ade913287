import type { Command } from 'commander';
import type { ConfigValue } from '../config/config-file.js';
import { ADDITIVE_OPTIONS } from '../options/all-options.js';
import { commanderOption } from '../options/cli-values.js';
import { PIPELINE_OPTIONS } from '../options/pipeline.js';
import type { OptionSpec } from '../options/registry.js';

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
