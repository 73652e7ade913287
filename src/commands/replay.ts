import { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { REPLAY_OPTIONS } from '../options/replay.js';
import { addOptions } from './options.js';
import type { ReplayFlags } from './replay-run.js';

/** The capture `replay` reads when given no file: a real Postfix + Dovecot brute-force run. */
export const DEFAULT_CAPTURE = fileURLToPath(new URL('../../../pcaps/testbed/login-587.pcap', import.meta.url));

/** `replay`: its options here; what it does in replay-run.ts, loaded when it runs (a fast --help). */
export function replayCommand(): Command {
  const cmd = new Command('replay')
    .description('count SMTP AUTH failures per client in pcap/pcapng files (.gz too; "-" for stdin), in time order, with the packets\' own clock')
    .argument('[files...]', 'capture files (default: a shipped capture of a real brute-force run)');
  addOptions(cmd, REPLAY_OPTIONS); // its own, the pipeline's, the client table's
  cmd.action(async (files: string[], flags: ReplayFlags) => {
    const { runReplay } = await import('./replay-run.js');
    process.exitCode = await runReplay(files.length > 0 ? files : [DEFAULT_CAPTURE], flags);
  });
  return cmd;
}
