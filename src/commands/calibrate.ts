import { Command } from 'commander';
import { CALIBRATE_OPTIONS } from '../options/calibrate.js';
import { addOptions } from './options.js';
import type { CalibrateFlags } from './calibrate-run.js';

/** `calibrate`: its options here; what it does in calibrate-run.ts, loaded when it runs (a fast --help). */
export function calibrateCommand(): Command {
  const cmd = new Command('calibrate')
    .description(
      "learn your own server's reply texts for the TLS inference: one STARTTLS session with a random non-existent user (no real credentials), saved for --tls-replies-file",
    )
    .argument('<host[:port]>', "the server (port default 587); must be one of this machine's addresses unless --yes-this-is-my-server; IPv6 as [addr]:port");
  return addOptions(cmd, CALIBRATE_OPTIONS).action(async (target: string, flags: CalibrateFlags) => {
    const { runCalibrate } = await import('./calibrate-run.js');
    process.exitCode = await runCalibrate(target, flags);
  });
}
