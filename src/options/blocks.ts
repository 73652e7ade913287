/** `smtpstrike blocks list|init|add|del|flush|cleanup`: the options every subcommand has, add's --timeout, init's and add's --tarpit. */
import { parseTarpitTarget } from '../blocker/tarpit-target.js';
import { MAX_TIMEOUT_SEC } from '../blocker/types.js';
import { PIPELINE_DEFAULTS } from './pipeline.js';
import { optionList, type OptionSpec } from './registry.js';
import { BLOCKERS } from './watch.js';
import { DEFAULT_STATE } from './report.js';

export const BLOCKS_OPTIONS = optionList('blocks', [
  {
    option: 'backend',
    flags: '--backend <name>',
    kind: 'string',
    choices: BLOCKERS,
    commanderChoices: true,
    default: 'nft',
    help: 'firewall backend',
    doc: 'firewall backend: `nft`, `ipset` or `iptables`',
  },
  {
    option: 'ports',
    flags: '--ports <list>',
    kind: 'ports',
    help: 'SMTP ports the block rules cover, when they are created (default 25,587; given: rules are re-made for these ports)',
    docDefault: '`25,587`',
    doc: 'SMTP ports the block rules cover when they are created; given: the rules are re-made for these ports',
  },
  {
    option: 'services',
    flags: '--services <list>',
    kind: 'services',
    help: 'as watch --services: smtp (--ports), imap (143, 993), pop3 (110, 995); given: rules are re-made for their ports',
    doc: 'as `watch --services`: `smtp` (`--ports`), `imap` (143, 993), `pop3` (110, 995); given: the rules are re-made for their ports',
  },
  {
    option: 'netns',
    flags: '--netns <name>',
    kind: 'string',
    help: 'run every firewall command inside this network namespace (ip netns exec)',
    doc: 'run every firewall command inside this network namespace (`ip netns exec`)',
  },
  { option: 'json', flags: '--json', kind: 'bool', default: false, help: 'machine-readable output' },
] satisfies OptionSpec[]);

export const BLOCKS_LIST_OPTIONS = optionList('blocks list', [
  {
    option: 'stateFile',
    flags: '--state-file <file>',
    kind: 'string',
    default: DEFAULT_STATE,
    help: "watch's state file: the repeat-offender level of each block is read from it (none there: no level shown)",
    doc: "`list` only: watch's state file, where each block's repeat-offender level is read (a missing file shows no levels)",
  },
] satisfies OptionSpec[]);

export const BLOCKS_ADD_OPTIONS = optionList('blocks add', [
  {
    option: 'timeout',
    flags: '--timeout <s>',
    kind: 'int',
    min: 0,
    max: MAX_TIMEOUT_SEC,
    default: PIPELINE_DEFAULTS.strikes.seconds,
    help: `seconds the block lasts (0: no timeout; at most ${MAX_TIMEOUT_SEC})`,
    doc: `\`add\` only: seconds the block lasts (\`0\`: no timeout; at most ${MAX_TIMEOUT_SEC})`,
  },
  {
    option: 'tarpit',
    flags: '--tarpit <[host:]port>',
    kind: 'string',
    check: (v) => parseTarpitTarget(v),
    help: 'redirect new connections of blocked addresses to this tarpit instead of rejecting them; the rules are re-made with it (init, add)',
    docLabel: '--tarpit [HOST:]PORT',
    doc: '`init` and `add`: new connections of blocked addresses to the blocked ports go to this tarpit instead of being rejected (`PORT`: `redirect` to that port on the address they came to; `HOST:PORT`, `[V6]:PORT`: `dnat`, that family only); the rules are re-made with it',
  },
] satisfies OptionSpec[]);
