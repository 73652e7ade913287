/**
 * Every command's options (options/registry.ts), and what the config file and watch's SIGHUP
 * reload take from them: the top-level keys are watch's options (the detection keys first, the
 * order of `known:` in an unknown-key error and of the reload's lists), the `accounts:` section
 * is the accounts command's.
 */
import { ACCOUNTS_OPTIONS } from './accounts.js';
import { BLOCKS_ADD_OPTIONS, BLOCKS_LIST_OPTIONS, BLOCKS_OPTIONS } from './blocks.js';
import { CALIBRATE_OPTIONS } from './calibrate.js';
import { DUMP_OPTIONS } from './dump.js';
import { PIPELINE_OPTIONS } from './pipeline.js';
import type { KeySpec, OptionSpec } from './registry.js';
import { REPLAY_OPTIONS } from './replay.js';
import { REPORT_OPTIONS } from './report.js';
import { STATUS_OPTIONS } from './status.js';
import { WATCH_OPTIONS } from './watch.js';

export const COMMAND_OPTIONS: Readonly<Record<string, readonly OptionSpec[]>> = {
  replay: REPLAY_OPTIONS,
  watch: WATCH_OPTIONS,
  dump: DUMP_OPTIONS,
  report: REPORT_OPTIONS,
  accounts: ACCOUNTS_OPTIONS,
  blocks: BLOCKS_OPTIONS,
  'blocks add': BLOCKS_ADD_OPTIONS,
  'blocks list': BLOCKS_LIST_OPTIONS,
  calibrate: CALIBRATE_OPTIONS,
  status: STATUS_OPTIONS,
};

const keySpec = (s: OptionSpec): KeySpec => ({
  option: s.option,
  kind: s.kind,
  ...(s.min === undefined ? {} : { min: s.min }),
  ...(s.max === undefined ? {} : { max: s.max }),
  ...(s.choices ? { choices: s.choices } : {}),
  ...(s.valid ? { valid: s.valid } : {}),
});

const TOP_LEVEL: readonly OptionSpec[] = [...PIPELINE_OPTIONS, ...WATCH_OPTIONS.filter((s) => !PIPELINE_OPTIONS.includes(s))].filter(
  (s) => s.config !== undefined,
);

/** The config file's top-level keys (watch's options; replay, dump and report read some of them). */
export const CONFIG_KEYS: Readonly<Record<string, KeySpec>> = Object.fromEntries(TOP_LEVEL.map((s) => [s.config!, keySpec(s)]));

/** The `accounts:` section's keys (the accounts command's options; report reads some of them). */
export const ACCOUNTS_KEYS: Readonly<Record<string, KeySpec>> = Object.fromEntries(
  ACCOUNTS_OPTIONS.filter((s) => s.config?.startsWith('accounts.')).map((s) => [s.config!.slice('accounts.'.length), keySpec(s)]),
);

/** watch's keys a SIGHUP applies, and those taken at start only. */
export const LIVE_KEYS: readonly string[] = TOP_LEVEL.filter((s) => s.reload === 'live').map((s) => s.config!);
export const RESTART_KEYS: readonly string[] = TOP_LEVEL.filter((s) => s.reload === 'restart').map((s) => s.config!);

/** List options that add up: the config file's entries and the command line's both apply. */
export const ADDITIVE_OPTIONS: readonly string[] = TOP_LEVEL.filter((s) => s.additive).map((s) => s.option);

/**
 * The config keys a command reads, as option name in the file → the command's option name: the
 * top-level ones (`section` 'top') or the `accounts:` ones. report's --log-tz reads accounts.tz.
 */
export function configOptionsOf(command: string, section: 'top' | 'accounts'): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of COMMAND_OPTIONS[command] ?? []) {
    if (s.config === undefined) continue;
    const inAccounts = s.config.startsWith('accounts.');
    if (inAccounts !== (section === 'accounts')) continue;
    const key = inAccounts ? ACCOUNTS_KEYS[s.config.slice('accounts.'.length)] : CONFIG_KEYS[s.config];
    if (!key) throw new Error(`${command} --${s.option}: no config key ${s.config}`);
    out.set(key.option, s.option);
  }
  return out;
}
