/** `smtpstrike replay`: its output options, the pipeline ones and the client table's bound. */
import { availableParallelism } from 'node:os';
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
  {
    option: 'threads',
    flags: '--threads <n>',
    kind: 'int',
    min: 1,
    max: 64,
    default: availableParallelism(),
    help: 'worker threads the clients are sharded over (1: no worker): default the number of cores; the output is the one-thread output',
    docDefault: 'the number of cores',
    doc: "worker threads: packets read and decoded once, sharded by the client's strike key, the events merged back in packet order: the one-thread output ([On every core](#on-every-core---threads)); 1: no worker",
  },
  ...PIPELINE_OPTIONS,
  ...TALLY_OPTIONS,
] satisfies OptionSpec[]);
