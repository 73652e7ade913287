/**
 * The one description of every option (issue 12): its name on the command line, its type and
 * range, default, help, config-file key and whether a SIGHUP may change it in a running watch.
 * The commander options (options/command-options.ts), the config file's keys and checks
 * (config/config-file.ts), the live reload (watch/reload.ts) and the README's option tables
 * (options/tables.ts) are all made from these specs, so a range is written once.
 */

/** What a value is; the config file and the command line both check it by this. */
export type ValueKind =
  | 'int' // whole number (min/max)
  | 'decimal' // a number of seconds such as 2 or 0.5 (min/max)
  | 'bytes' // a size such as 134217728 or 128MiB (min/max)
  | 'string' // text (choices)
  | 'zone' // a time zone: local, UTC, +01:00
  | 'bool'
  | 'strings' // a list of text; repeatable on the command line
  | 'cidrs' // a list of addresses or networks; repeatable
  | 'ports' // a list of TCP ports; comma-separated on the command line
  | 'replies' // reply code → text; `CODE=TEXT`, repeatable, on the command line
  | 'services' // smtp, imap, pop3
  | 'argv' // a program: its path, or (config file) a list [program, arg, ...]; never a shell string
  | 'crowdsec'; // the config file's `crowdsec:` mapping (fleet/crowdsec-config.ts checks it); no flags

/** What the config file needs of an option: the option it sets and how its value is checked. */
export interface KeySpec {
  /** The commander option name (camelCase) the key sets. */
  option: string;
  kind: ValueKind;
  min?: number;
  max?: number;
  choices?: readonly string[];
  /** A check of a text that both the command line and the config file run (a URL's form); throws the reason. */
  valid?: (v: string) => void;
}

export interface OptionSpec extends KeySpec {
  /** commander's flags, e.g. `-l, --limit <n>`; absent: a config-file key with no option. */
  flags?: string;
  /** The --help text. */
  help?: string;
  /** The value when neither the command line nor the config file gives one. */
  default?: unknown;
  /** The config file's key: `hitcount`, or `accounts.limit` inside the `accounts:` section. */
  config?: string;
  /** watch, SIGHUP: applied live, or taken at start only (watch/reload.ts says why). */
  reload?: 'live' | 'restart';
  /** A list whose config-file entries and command-line ones both apply. */
  additive?: boolean;
  /**
   * The command line's own reading of a number, before the range check (a four-digit year, the
   * GeoIP level's wording); throws commander's InvalidArgumentError.
   */
  syntax?: (v: string) => number;
  /** A further check of a command-line text (a readable file, a regular expression). */
  check?: (v: string) => void;
  /** Choices checked by commander itself (its wording, and `(choices: ...)` in --help). */
  commanderChoices?: boolean;
  /** README table: the option as written there (default: the flags, placeholder in capitals). */
  docLabel?: string;
  /** README table: the default column (default: made from `default`). */
  docDefault?: string;
  /** README table: the meaning column (default: `help`). */
  doc?: string;
}

/** `128MiB`, `64M`, `1G`, `1048576`: a byte count. */
export function parseBytes(v: string | number): number | null {
  if (typeof v === 'number') return Number.isInteger(v) ? v : null;
  const m = /^(\d+)\s*([kmg]i?b?|b)?$/i.exec(v.trim());
  if (!m) return null;
  const unit = (m[2] ?? '').toLowerCase()[0];
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  return Number(m[1]) * mult;
}

/**
 * The range check of a number, shared by the config file and the command line (so that
 * `--stats-interval 0` is refused as `stats_interval: 0` is): null when `n` is in range, else why not.
 */
export function rangeProblem(spec: KeySpec, n: number): string | null {
  if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
    if (spec.max === undefined) return `must be at least ${spec.min}`;
    return `must be between ${spec.min} and ${spec.max}${spec.kind === 'bytes' ? ' bytes' : ''}`;
  }
  return null;
}

/** The commander attribute name of flags such as `-l, --limit <n>` or `--no-progress` (as commander makes it). */
export function attributeOf(flags: string): string {
  const words = flags.split(/[ ,|]+/).filter((w) => w.startsWith('-'));
  const long = words.find((w) => w.startsWith('--'));
  const name = long ? long.slice(2).replace(/^no-/, '') : (words[0] ?? '').slice(1);
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** A command's specs, checked: unique flags, `option` equal to the flags' attribute. */
export function optionList(command: string, specs: readonly OptionSpec[]): readonly OptionSpec[] {
  const seen = new Set<string>();
  for (const s of specs) {
    // `--state <file>` and `--no-state` are one option name: flags are what must be unique.
    const id = s.flags ?? s.option;
    if (seen.has(id)) throw new Error(`options of ${command}: ${id} twice`);
    seen.add(id);
    if (s.flags && attributeOf(s.flags) !== s.option) throw new Error(`options of ${command}: ${s.flags} is not ${s.option}`);
  }
  return specs;
}
