import { Command } from 'commander';
import { REPORT_OPTIONS } from '../options/report.js';
import { addOptions } from './options.js';

/** `report`: its options here; what it does in report-run.ts, loaded when it runs (a fast --help). */
export function reportCommand(): Command {
  const cmd = new Command('report')
    .description(
      'the wire and the logs side by side: captures (or a watch state file) joined with mail logs — who failed, and who then got in (COMPROMISED, SUSPECT, DISTRIBUTED, ATTACKED, BLIND SPOTS)',
    )
    .argument(
      '[files...]',
      'capture files, log files and watch logs, told apart by content (pcap/pcapng, .gz too: captures; pino JSON lines with events: watch logs, for TARPITTED; anything else: logs)',
    );
  addOptions(cmd, REPORT_OPTIONS); // its own, then the pipeline's
  cmd.action(async (files: string[], _opts: unknown, command: Command) => {
    const { runReport } = await import('./report-run.js');
    process.exitCode = await runReport(files, command);
  });
  return cmd;
}
