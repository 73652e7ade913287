/** `smtpstrike report`: its options, the accounts ones it shares, and the pipeline ones. */
import { MODES } from '../accounts/types.js';
import { GEOIP, GEOIP_DB, LIMIT, MODE, TZ, YEAR } from './accounts.js';
import { PIPELINE_OPTIONS } from './pipeline.js';
import { optionList, type OptionSpec } from './registry.js';
import { DEFAULT_CONFIG } from './watch.js';

export const DEFAULT_STATE = '/var/lib/smtpstrike/state.json';

export const REPORT_OPTIONS = optionList('report', [
  { option: 'capture', flags: '--capture <file>', kind: 'strings', default: [], help: 'a capture file (repeatable)' },
  {
    option: 'logs',
    flags: '--logs <file>',
    kind: 'strings',
    default: [],
    help: 'a log file ("-": standard input; .gz/.bz2/.xz/.zst too; repeatable). Default when no log is named: the mode\'s usual logs that exist',
  },
  {
    option: 'state',
    flags: '--state <file>',
    kind: 'string',
    help: `a watch state file (default when no capture is named: the config's state_file, else ${DEFAULT_STATE}, if it exists)`,
  },
  { option: 'state', flags: '--no-state', kind: 'bool', help: 'read no watch state file' },
  {
    option: 'config',
    flags: '-c, --config <file>',
    kind: 'string',
    default: DEFAULT_CONFIG,
    help: 'config file (YAML): detection options, state_file and the accounts: section (whitelists, limit, geoip, mode, logs)',
    doc: 'config file',
  },
  { ...MODE, help: `which log formats count: ${MODES.join(', ')}` },
  { ...YEAR, option: 'logYear', flags: '--log-year <yyyy>', help: "year of log timestamps that carry none (default: the year nearest the wire's time)" },
  {
    ...TZ,
    option: 'logTz',
    flags: '--log-tz <zone>',
    default: undefined,
    help: 'zone of log timestamps that carry none: local, UTC, +05:30 (default: estimated against the wire, else local)',
  },
  { ...TZ, config: undefined, help: "zone of the report's days and times: local, UTC, +01:00", doc: "zone of the report's days and times" },
  {
    option: 'tolerance',
    flags: '--tolerance <s>',
    kind: 'decimal',
    min: 0,
    default: 2,
    help: 'a wire event and a log line this close (seconds) are one attempt',
    doc: 'a wire event and a log line this close are one attempt',
  },
  {
    option: 'gap',
    flags: '--gap <s>',
    kind: 'decimal',
    min: 0,
    default: 3600,
    help: 'a source silent for longer than this (seconds) is taken as not covering that time',
    doc: 'a source silent this long is taken as not covering that time',
  },
  {
    option: 'minFailures',
    flags: '--min-failures <n>',
    kind: 'int',
    min: 1,
    max: 1_000_000,
    default: 1,
    help: 'COMPROMISED: failed attempts from an address before its login',
    doc: 'COMPROMISED: failed attempts before the login (raise it to ignore a mistyped password)',
  },
  {
    option: 'distributedMin',
    flags: '--distributed-min <n>',
    kind: 'int',
    min: 2,
    max: 1_000_000,
    default: 4,
    help: 'DISTRIBUTED: addresses under the strike threshold failing for one account',
  },
  { option: 'distributedWindow', flags: '--distributed-window <s>', kind: 'decimal', min: 0, default: 86400, help: 'DISTRIBUTED: within this many seconds' },
  {
    ...LIMIT,
    help: 'SUSPECT (the accounts rule): an account used from at least N non-whitelisted addresses in a day; 0: any; negative: count whitelisted ones too',
    doc: 'SUSPECT: the accounts limit rule (`0`: any address; negative: count whitelisted ones)',
  },
  GEOIP,
  { ...GEOIP_DB, help: 'GeoIP database instead of the embedded one (repeatable; as accounts)' },
  { option: 'json', flags: '--json', kind: 'bool', default: false, help: 'the report as one JSON object' },
  {
    option: 'html',
    flags: '--html <file>',
    kind: 'string',
    help: 'also write the report as one self-contained HTML page (no network)',
    doc: 'also write the report as one self-contained HTML page',
  },
  { option: 'quiet', flags: '-q, --quiet', kind: 'bool', default: false, help: 'no warnings on stderr' },
  ...PIPELINE_OPTIONS,
  // Where --state looks by default (watch's --state-file).
  { option: 'stateFile', kind: 'string', config: 'state_file' },
] satisfies OptionSpec[]);
