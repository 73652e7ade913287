import { Command } from 'commander';
import { DUMP_OPTIONS } from '../options/dump.js';
import { addOptions } from './options.js';

/** `dump`: its options here; what it does in dump-run.ts, loaded when it runs (a fast --help). */
export function dumpCommand(): Command {
  const cmd = new Command('dump')
    .description(
      'tcpdump-style packet lines, with the reassembled SMTP commands and replies (AUTH usernames decoded, passwords hidden) and the strikes they cause',
    )
    .usage('[options] (-r FILE... | -i IFACE) [expression]')
    .argument('[expression...]', 'BPF filter, as tcpdump takes it (offline: applied through tcpdump)');
  addOptions(cmd, DUMP_OPTIONS); // its own, then the pipeline's
  cmd.action(async (expression: string[], raw: Record<string, unknown>) => {
    const { dumpAction } = await import('./dump-run.js');
    await dumpAction(expression, raw);
  });
  return cmd;
}
