/** `smtpstrike accounts`: its options; the config file's `accounts:` section sets them. */
import { InvalidArgumentError } from 'commander';
import { availableParallelism } from 'node:os';
import { MODES } from '../accounts/types.js';
import { optionList, type OptionSpec } from './registry.js';
import { DEFAULT_CONFIG } from './watch.js';

/** The GeoIP level, with what each level means in the message. */
export function geoLevelSyntax(v: string): number {
  if (!/^[012]$/.test(v)) throw new InvalidArgumentError('must be 0 (none), 1 (country) or 2 (country, city - ISP)');
  return Number(v);
}

/** A year as the command line writes it: four digits (the range check follows). */
export function yearSyntax(v: string): number {
  if (!/^\d{4}$/.test(v)) throw new InvalidArgumentError('expected a four-digit year');
  return Number(v);
}

export function limitSyntax(v: string): number {
  if (!/^-?\d+$/.test(v)) throw new InvalidArgumentError(`expected a whole number (negative: count whitelisted addresses too), got "${v}"`);
  return Number(v);
}

function regexCheck(v: string): void {
  try {
    new RegExp(v);
  } catch (e) {
    throw new InvalidArgumentError(`not a regular expression: ${(e as Error).message}`);
  }
}

/** Shared with report (its -m, -l, -g, --geoip-db, --log-year, --log-tz read the same keys). */
export const MODE: OptionSpec = { option: 'mode', flags: '-m, --mode <mode>', kind: 'string', choices: MODES, default: 'all', config: 'accounts.mode' };
export const LIMIT: OptionSpec = {
  option: 'limit',
  flags: '-l, --limit <n>',
  kind: 'int',
  min: -100000,
  max: 100000,
  default: 2,
  config: 'accounts.limit',
  syntax: limitSyntax,
};
export const GEOIP: OptionSpec = {
  option: 'geoip',
  flags: '-g, --geoip <level>',
  kind: 'int',
  min: 0,
  max: 2,
  default: 2,
  config: 'accounts.geoip',
  syntax: geoLevelSyntax,
  help: '0: no GeoIP, 1: country, 2: country, city - ISP',
  docLabel: '-g, --geoip 0\\|1\\|2',
  doc: 'no place / country / `Country, City - ISP`',
};
export const GEOIP_DB: OptionSpec = {
  option: 'geoipDb',
  flags: '--geoip-db <file>',
  kind: 'strings',
  default: [],
  config: 'accounts.geoip_db',
  docDefault: 'embedded',
};
/** Syslog stamps carry no year; 1970..9999 is what a capture time can be too (source/packet-record.ts). */
export const YEAR: OptionSpec = { option: 'year', flags: '--year <yyyy>', kind: 'int', min: 1970, max: 9999, config: 'accounts.year', syntax: yearSyntax };
export const TZ: OptionSpec = { option: 'tz', flags: '--tz <zone>', kind: 'zone', default: 'local', config: 'accounts.tz' };

export const ACCOUNTS_OPTIONS = optionList('accounts', [
  {
    option: 'config',
    flags: '-c, --config <file>',
    kind: 'string',
    default: DEFAULT_CONFIG,
    help: 'config file (YAML; its accounts: section, whitelists included; options given here override it)',
    doc: 'config file; its `accounts:` section (options given here win)',
  },
  {
    ...MODE,
    help: `which logins count: ${MODES.join(', ')}`,
    doc: `${MODES.slice(0, -1)
      .map((m) => `\`${m}\``)
      .join(', ')} or \`${MODES[MODES.length - 1]}\``,
  },
  {
    ...LIMIT,
    help: 'list accounts with at least N distinct non-whitelisted addresses per day; 0: any; negative: count whitelisted ones too',
    doc: 'list a group with ≥ N distinct non-whitelisted addresses; `0`: any such address; `-N`: ≥ N addresses counting whitelisted ones, all printed, whitelisted ones marked `[whitelisted: why]`',
  },
  {
    option: 'quiet',
    flags: '-q, --quiet',
    kind: 'bool',
    default: false,
    help: 'print nothing when nothing matches (for cron: ... | mail -E -s ... admin), and no warnings',
    doc: 'no output when nothing matches, no warnings',
  },
  {
    option: 'user',
    flags: '-u, --user <name>',
    kind: 'strings',
    default: [],
    help: 'only this account, exact name (repeatable)',
    docDefault: 'all',
    doc: 'this account only, exact name (repeatable)',
  },
  {
    option: 'userRegex',
    flags: '--user-regex <re>',
    kind: 'string',
    check: regexCheck,
    help: 'only accounts matching this JavaScript regular expression',
    doc: 'accounts matching a JavaScript regular expression',
  },
  { option: 'nodate', flags: '--nodate', kind: 'bool', default: false, config: 'accounts.nodate', help: 'do not split by day' },
  { option: 'nouser', flags: '--nouser', kind: 'bool', default: false, config: 'accounts.nouser', help: 'do not split by account' },
  GEOIP,
  {
    ...GEOIP_DB,
    help: 'GeoIP database instead of the embedded one: .mmdb (MaxMind GeoLite2/GeoIP2 City, Country or ASN; DB-IP) or an ASN .csv (repeatable)',
    doc: 'GeoIP database instead of the embedded one (repeatable, see below)',
  },
  { option: 'json', flags: '--json', kind: 'bool', default: false, help: 'one JSON object per account group, then a summary line', doc: 'JSON lines (below)' },
  {
    ...TZ,
    help: 'zone of timestamps that carry none, and of the report: local, UTC or +01:00',
    doc: 'zone of timestamps that carry none, and of the report: `local`, `UTC`, `+01:00`',
  },
  {
    ...YEAR,
    help: 'year of syslog timestamps (default: guessed per file from its modification time)',
    docDefault: 'guessed',
    doc: 'year of classic syslog timestamps',
  },
  {
    option: 'stats',
    flags: '--stats',
    kind: 'bool',
    default: false,
    help: 'per-file line counts on stderr',
    doc: 'per-file counts (lines, successes, failures, temporary failures, other, unparseable, Postfix sessions forgotten) on stderr',
  },
  {
    option: 'threads',
    flags: '--threads <n>',
    kind: 'int',
    min: 1,
    max: 256,
    default: availableParallelism(),
    help: 'threads for a large plain log (≥ 16 MiB; compressed logs and stdin are read on one): default the number of cores',
    docDefault: 'the number of cores',
    doc: "threads for a plain log of ≥ 16 MiB: cut at line starts, one share per thread, the reports merged — exactly the one-thread report (a Postfix login session open across a cut that the next share cannot see is detected, and the file is then finished on one thread); compressed logs and stdin are one stream, read on one thread; the JSON summary's `run.threads` says how many were used",
  },
  // Read when no log is named on the command line (not watch's top-level logs:, followed live).
  { option: 'logs', kind: 'strings', config: 'accounts.logs' },
] satisfies OptionSpec[]);
