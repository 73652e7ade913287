/** `smtpstrike status`: where the running watch's state file and metrics endpoint are. */
import { parseListenAddress } from '../metrics/listen-address.js';
import { optionList, type OptionSpec } from './registry.js';
import { DEFAULT_CONFIG } from './watch.js';
import { DEFAULT_STATE } from './report.js';

export const STATUS_OPTIONS = optionList('status', [
  {
    option: 'config',
    flags: '-c, --config <file>',
    kind: 'string',
    default: DEFAULT_CONFIG,
    help: "watch's config file: its state_file and metrics are read from it",
    doc: "watch's config file (its `state_file` and `metrics`)",
  },
  {
    option: 'stateFile',
    flags: '--state-file <file>',
    kind: 'string',
    default: DEFAULT_STATE,
    config: 'state_file',
    help: "the state file watch writes (strikes and blocks; default: the config's state_file)",
    doc: "the state file watch writes (strikes and blocks); default: the config's `state_file`",
  },
  {
    option: 'metrics',
    docLabel: '--metrics HOST:PORT',
    docDefault: "the config's `metrics`",
    doc: "watch's metrics endpoint, scraped for its health; without one the health is unknown",
    flags: '--metrics <host:port>',
    kind: 'string',
    config: 'metrics',
    check: (v) => void parseListenAddress(v),
    help: "watch's metrics endpoint, scraped for its health (default: the config's metrics)",
  },
  {
    option: 'timeout',
    docLabel: '--timeout S',
    flags: '--timeout <seconds>',
    kind: 'decimal',
    min: 0.1,
    max: 60,
    default: 5,
    help: 'how long to wait for the metrics endpoint',
  },
  {
    option: 'limit',
    flags: '--limit <n>',
    kind: 'int',
    min: 0,
    max: 1_000_000,
    default: 20,
    help: 'text: list at most this many blocks and strikes each (--json lists all)',
  },
  { option: 'json', flags: '--json', kind: 'bool', default: false, help: 'one JSON object' },
] satisfies OptionSpec[]);
