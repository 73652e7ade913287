/** `smtpstrike calibrate HOST[:PORT]`. */
import { optionList, type OptionSpec } from './registry.js';

export const CALIBRATE_OPTIONS = optionList('calibrate', [
  {
    option: 'out',
    flags: '--out <file>',
    kind: 'string',
    help: 'save what was learned (JSON) to this file (default: print it to stdout)',
    docDefault: 'stdout',
    doc: 'save what was learned (JSON) to this file',
  },
  {
    option: 'yesThisIsMyServer',
    flags: '--yes-this-is-my-server',
    kind: 'bool',
    default: false,
    help: 'the server is not on this machine, but it is mine to test',
    doc: 'the server is not on this machine, but it is yours to test',
  },
  { option: 'timeout', flags: '--timeout <s>', kind: 'int', min: 1, max: 600, default: 30, help: 'give up after this many seconds in all' },
] satisfies OptionSpec[]);
