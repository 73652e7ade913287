/** `smtpstrike replay`: its output options, the pipeline ones and the client table's bound. */
import { defaultTallyLimits } from '../replay-output/client-tally.js';
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
  {
    option: 'detailsPerClient',
    flags: '--details-per-client <n>',
    kind: 'int',
    min: 0,
    max: 100_000_000,
    default: defaultTallyLimits.eventsPerClient,
    help: 'text: AUTH outcomes listed per client; the rest are counted in one line (--json has every one)',
    doc: 'text report: the AUTH outcomes listed under each client; past N, one line says how many more there were (`--json` streams every one)',
  },
  { option: 'progress', flags: '--no-progress', kind: 'bool', help: 'no progress line on stderr', docDefault: '', doc: 'no progress line' },
  {
    option: 'threads',
    flags: '--threads <n>',
    kind: 'int',
    min: 1,
    max: 64,
    // Not the number of cores: on 2 cores two threads do 1.4x the CPU work of one for at most 1.1x the
    // speed (slower on a busy machine), and at the table bounds each shard evicts on its own
    // (native-notes/replay-threads.md).
    default: 1,
    help: 'threads the clients are sharded over: the main thread and N-1 workers (1: no worker; see docs/replay.md); the output is the one-thread output',
    doc: 'threads the clients are sharded over by their strike key, the main thread and N − 1 workers: packets read and decoded once, counted per thread for `--summary-only`, else the events merged back in packet order: the one-thread output ([On every core](#on-every-core---threads)); 1: no worker',
  },
  ...PIPELINE_OPTIONS,
  ...TALLY_OPTIONS,
] satisfies OptionSpec[]);
