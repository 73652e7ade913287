/** `smtpstrike status`: its options here; what it does in status-run.ts, loaded when it runs (a fast --help). */
import { Command } from 'commander';
import { STATUS_OPTIONS } from '../options/status.js';
import { addOptions } from './options.js';

export function statusCommand(): Command {
  const cmd = new Command('status').description("a running watch's strikes, blocks and health (its state file and its --metrics endpoint)");
  addOptions(cmd, STATUS_OPTIONS);
  cmd.action(async (_: unknown, command: Command) => {
    const { runStatus } = await import('./status-run.js');
    process.exitCode = await runStatus(command);
  });
  return cmd;
}
