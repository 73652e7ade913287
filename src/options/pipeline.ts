/** The detection and strike options shared by replay, watch, dump and report (config: top level). */
import { defaultPipelineOptions } from '../pipeline.js';
import { defaultTallyLimits } from '../replay-output/client-tally.js';
import { loadRepliesFile } from './cli-values.js';
import type { OptionSpec } from './registry.js';

const d = defaultPipelineOptions();
const YEAR_OF_SECONDS = 365 * 86400;

export const PIPELINE_OPTIONS: readonly OptionSpec[] = [
  {
    option: 'ports', flags: '--ports <list>', kind: 'ports', default: d.ports, config: 'ports', reload: 'restart',
    help: 'SMTP server ports, comma-separated',
    doc: 'server ports; the side of a flow on one of them is the SMTP server',
  },
  {
    option: 'hitcount', flags: '--hitcount <n>', kind: 'int', min: 1, max: 1000, default: d.strikes.hitcount, config: 'hitcount', reload: 'restart',
    help: 'failures within --seconds that block an address',
  },
  {
    option: 'seconds', flags: '--seconds <n>', kind: 'int', min: 1, max: YEAR_OF_SECONDS, default: d.strikes.seconds, config: 'seconds', reload: 'live',
    help: 'window for --hitcount, seconds', docLabel: '--seconds S',
  },
  {
    option: 'connHitcount', flags: '--conn-hitcount <n>', kind: 'int', min: 1, max: 1000, default: d.strikes.connHitcount, config: 'conn_hitcount', reload: 'restart',
    help: 'new connections within --conn-seconds that block an address',
  },
  {
    option: 'connSeconds', flags: '--conn-seconds <n>', kind: 'int', min: 1, max: YEAR_OF_SECONDS, default: d.strikes.connSeconds, config: 'conn_seconds', reload: 'live',
    help: 'window for --conn-hitcount, seconds', docLabel: '--conn-seconds S',
  },
  {
    option: 'whitelist', flags: '--whitelist <cidr>', kind: 'cidrs', default: [], config: 'whitelist', reload: 'live', additive: true,
    help: 'never count or block this address or network (repeatable)',
    doc: 'never counted, never blocked (repeatable; IPv4 or IPv6)',
  },
  {
    option: 'ipv6Prefix', flags: '--ipv6-prefix <bits>', kind: 'int', min: 1, max: 128, default: d.strikes.ipv6Prefix, config: 'ipv6_prefix', reload: 'restart',
    help: 'IPv6 clients are counted per prefix of this length (128: per address)',
    doc: 'IPv6 clients are counted per prefix (128: per address)',
  },
  {
    option: 'match', flags: '--match <string>', kind: 'strings', default: [], config: 'match', reload: 'live', additive: true,
    help: 'also count a server reply containing this text as a failure (repeatable; found across segments)',
    docLabel: '--match TEXT', doc: 'a server reply containing TEXT also counts as a failure (repeatable; found across segment boundaries)',
  },
  {
    option: 'tempfailStrikes', flags: '--tempfail-strikes', kind: 'bool', default: false, config: 'tempfail_strikes', reload: 'live',
    help: '454 temporary failures inside AUTH count as strikes too',
  },
  {
    option: 'inferredStrikes', flags: '--no-inferred-strikes', kind: 'bool', config: 'inferred_strikes', reload: 'live',
    help: 'AUTH failures inferred inside TLS (from record sizes) are reported but never strike',
    docDefault: '(they strike)', doc: 'AUTH failures inferred inside TLS are reported but strike nothing (config: `inferred_strikes: false`)',
  },
  {
    option: 'maxFlows', flags: '--max-flows <n>', kind: 'int', min: 16, max: 100_000_000, default: d.flows.maxFlows, config: 'max_flows', reload: 'restart',
    help: 'TCP flows tracked at most (least recently used evicted, counted)',
    doc: 'TCP flows tracked at once (least recently used evicted and counted)',
  },
  {
    option: 'maxStrikeEntries', flags: '--max-strike-entries <n>', kind: 'int', min: 16, max: 100_000_000, default: d.strikes.maxEntries, config: 'max_strike_entries', reload: 'live',
    help: 'addresses the strike table tracks at most',
    doc: 'addresses the strike table holds (idle ones dropped first, blocked ones last)',
  },
  {
    // tls_replies:
    //   535: "535 Incorrect authentication data"
    //   221: "221 mail.example.com closing connection"
    option: 'tlsReply', flags: '--tls-reply <CODE=TEXT>', kind: 'replies', default: [], config: 'tls_replies', reload: 'restart',
    help: 'inside TLS: this server\'s reply text for CODE (535, 235, 454, 334, 221), without CRLF; "\\n" separates the lines of a multi-line reply (repeatable; over --tls-replies-file and the banner\'s built-in profile)',
    doc: 'inside TLS: this server\'s reply text for CODE (`535`, `235`, `454`, `334`, `221`), the whole line without CRLF, e.g. `--tls-reply \'535=535 Incorrect authentication data\'`; a multi-line reply as lines joined by `\\n` (backslash n), each line starting with `CODE-` and the last with `CODE `; repeatable, the last per code wins (see [Reply sizes inside TLS](tls.md#reply-sizes-inside-tls))',
  },
  {
    option: 'tlsRepliesFile', flags: '--tls-replies-file <file>', kind: 'string', config: 'tls_replies_file', reload: 'restart',
    check: loadRepliesFile, // the command line reads it at once; a config's is read when the pipeline is made
    help: 'inside TLS: reply texts saved by `smtpstrike calibrate --out FILE`',
    docDefault: 'none', doc: 'inside TLS: the reply texts saved by `smtpstrike calibrate --out FILE`',
  },
];

/** The per-client table of `replay` (the report's memory bound). */
export const TALLY_OPTIONS: readonly OptionSpec[] = [
  {
    option: 'maxClients', flags: '--max-clients <n>', kind: 'int', min: 1, max: 100_000_000, default: defaultTallyLimits.maxClients,
    help: 'clients listed at most; later ones are counted in totals and in the summary\'s clients_dropped',
    doc: 'clients the report lists; later ones are counted in `totals` and in the summary\'s `clients_dropped` (text: one coverage line)',
  },
];
