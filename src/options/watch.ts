/** `smtpstrike watch`: its own options (config: top level) and the shared pipeline ones. */
import { MAX_TIMEOUT_SEC } from '../blocker/types.js';
import { DEFAULT_SERVICES, MAIL_SERVICES } from '../watch/services.js';
import { PIPELINE_OPTIONS } from './pipeline.js';
import { optionList, type OptionSpec } from './registry.js';

export const DEFAULT_CONFIG = '/etc/smtpstrike/config.yaml';
export const BLOCKERS = ['nft', 'ipset', 'iptables'] as const;
export const CAPTURE_BACKENDS = ['tcpdump', 'cap'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

export const WATCH_OPTIONS = optionList('watch', [
  { option: 'config', flags: '-c, --config <file>', kind: 'string', default: DEFAULT_CONFIG, help: 'config file (YAML; options given here override it)' },
  { option: 'interface', doc: 'interface to capture on (`any`: all)', flags: '-i, --interface <name>', kind: 'string', default: 'any', config: 'interface', reload: 'restart', help: 'interface to capture on ("any" for all)' },
  {
    option: 'captureBackend', doc: '`tcpdump` (a pipe from `tcpdump -U -w -`) or `cap` (libpcap in process)', flags: '--capture-backend <name>', kind: 'string', choices: CAPTURE_BACKENDS, default: 'tcpdump', config: 'capture_backend', reload: 'restart',
    help: 'tcpdump (pipe from tcpdump -U -w -) or cap (libpcap in process)',
  },
  {
    // At most what libpcap takes (an int): the live source refuses more at start.
    option: 'bufferSize', docDefault: '`128MiB`', doc: 'kernel capture buffer', flags: '--buffer-size <size>', kind: 'bytes', min: 1024 * 1024, max: 2 ** 31 - 1, default: 128 * 1024 * 1024, config: 'buffer_size', reload: 'restart',
    help: 'kernel capture buffer, e.g. 128MiB',
  },
  { option: 'blocker', doc: '`nft`, `ipset` or `iptables`', flags: '--blocker <name>', kind: 'string', choices: BLOCKERS, default: 'nft', config: 'blocker', reload: 'restart', help: 'nft (default), ipset or iptables' },
  {
    // At most the longest kernel timeout every backend takes (blocker.ts): more was accepted here
    // and then refused by the blocker at each block.
    option: 'blockSeconds', docDefault: '`--seconds`', doc: 'kernel timeout of a block, refreshed while the address keeps trying (at most 2147483)', flags: '--block-seconds <n>', kind: 'int', min: 1, max: MAX_TIMEOUT_SEC, config: 'block_seconds', reload: 'live',
    help: 'kernel timeout of a block, refreshed while the address keeps trying (default: --seconds)',
  },
  { option: 'dryRun', flags: '--dry-run', kind: 'bool', default: false, config: 'dry_run', reload: 'restart', help: 'log what would be blocked; touch no firewall' },
  { option: 'killEstablished', doc: 'also end the offender\'s open SMTP sessions (`ss -K`)', flags: '--kill-established', kind: 'bool', default: false, config: 'kill_established', reload: 'live', help: "also end the offender's open SMTP sessions (ss -K)" },
  { option: 'stateFile', flags: '--state-file <file>', kind: 'string', default: '/var/lib/smtpstrike/state.json', config: 'state_file', reload: 'live', help: 'strikes and active blocks, kept across restarts' },
  { option: 'logFile', docDefault: 'stdout', doc: 'pino JSON log file; reopened on SIGHUP', flags: '--log-file <file>', kind: 'string', config: 'log_file', reload: 'live', help: 'pino JSON log file (default: stdout); reopened on SIGHUP' },
  { option: 'logLevel', doc: '`fatal`, `error`, `warn`, `info`, `debug` or `trace`', flags: '--log-level <level>', kind: 'string', choices: LOG_LEVELS, default: 'info', config: 'log_level', reload: 'live', help: 'fatal, error, warn, info, debug or trace' },
  { option: 'statsInterval', docLabel: '--stats-interval S', doc: 'how often capture and blocker health is logged', flags: '--stats-interval <seconds>', kind: 'int', min: 1, max: 86400, default: 60, config: 'stats_interval', reload: 'live', help: 'how often capture and blocker health is logged' },
  {
    // watch's log sensor: files followed like `tail -F` (not accounts.logs:, which `accounts` reads once)
    option: 'log', doc: 'also follow this mail log like `tail -F` (repeatable; adds to the config\'s `logs:`)', flags: '--log <file>', kind: 'strings', default: [], config: 'logs', reload: 'restart', additive: true,
    help: 'also follow this mail log like tail -F (repeatable; with the config\'s logs:)',
  },
  { option: 'journal', doc: 'also follow journald for the postfix, dovecot and exim4 units', flags: '--journal', kind: 'bool', default: false, config: 'journal', reload: 'restart', help: 'also follow journald (journalctl -f -o json) for the postfix, dovecot and exim4 units' },
  {
    // services: [smtp, imap]: whose log lines count, and whose ports a block closes (watch/services.ts)
    option: 'services', doc: 'whose log failures count and whose ports a block closes: `smtp`, `imap`, `pop3`', flags: '--services <list>', kind: 'services', default: [...DEFAULT_SERVICES], config: 'services', reload: 'restart',
    help: `whose log failures count and whose ports a block closes, comma-separated: ${MAIL_SERVICES.join(', ')} (smtp: --ports; imap: 143, 993; pop3: 110, 995)`,
  },
  { option: 'netns', flags: '--netns <name>', kind: 'string', help: 'run capture and firewall commands in this network namespace (for tests)' },
  ...PIPELINE_OPTIONS,
] satisfies OptionSpec[]);
