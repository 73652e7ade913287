/** `smtpstrike replay`: its output options, the pipeline ones and the client table's bound. */
import { PIPELINE_OPTIONS, TALLY_OPTIONS } from './pipeline.js';
import { optionList, type OptionSpec } from './registry.js';

export const REPLAY_OPTIONS = optionList('replay', [
  {
    option: 'json',
    flags: '--json',
    kind: 'bool',
    default: false,
    help: 'one JSON object per line (schema in README), ending with a summary object',
    doc: 'one JSON object per line (schema below)',
  },
  {
    option: 'summaryOnly',
    flags: '--summary-only',
    kind: 'bool',
    default: false,
    help: 'print only the summary (JSON: only the summary line)',
    doc: 'text: counts, blocks and coverage only; JSON: only the summary line',
  },
  { option: 'progress', flags: '--no-progress', kind: 'bool', help: 'no progress line on stderr', docDefault: '', doc: 'no progress line' },
  ...PIPELINE_OPTIONS,
  ...TALLY_OPTIONS,
] satisfies OptionSpec[]);
