import { Command } from 'commander';
import { WATCH_OPTIONS } from '../options/watch.js';
import { addOptions } from './options.js';

/** `watch`: its options here; what it does in watch-run.ts, loaded when it runs (a fast --help). */
export function watchCommand(): Command {
  const cmd = new Command('watch').description(
    'capture live, count strikes in real time, block offenders in the kernel (root, or CAP_NET_RAW + CAP_NET_ADMIN)',
  );
  addOptions(cmd, WATCH_OPTIONS); // its own, then the pipeline's
  cmd.action(async (_: unknown, command: Command) => {
    const { runWatch } = await import('./watch-run.js');
    process.exitCode = await runWatch(command);
  });
  return cmd;
}
