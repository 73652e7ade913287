#!/usr/bin/env node
import { Command } from 'commander';
import { accountsCommand } from './commands/accounts.js';
import { blocksCommand } from './commands/blocks.js';
import { calibrateCommand } from './commands/calibrate.js';
import { dumpCommand } from './commands/dump.js';
import { replayCommand } from './commands/replay.js';
import { reportCommand } from './commands/report.js';
import { statusCommand } from './commands/status.js';
import { watchCommand } from './commands/watch.js';
import { guardStdio, Output } from './io/output.js';
import { exitQuietlyOnUnexpectedErrors, unexpectedErrorLine } from './io/unexpected.js';

guardStdio();
exitQuietlyOnUnexpectedErrors();

const program = new Command('smtpstrike').description('SMTP AUTH brute-force detection from reassembled TCP streams').version('0.1.0').showHelpAfterError();
program.addCommand(replayCommand());
program.addCommand(blocksCommand());
program.addCommand(watchCommand());
program.addCommand(statusCommand());
program.addCommand(accountsCommand());
program.addCommand(dumpCommand());
program.addCommand(reportCommand());
program.addCommand(calibrateCommand());

program.parseAsync(process.argv).then(
  () => {
    // Output that could not be written (other than to a reader that went away) is a failure too.
    if (Output.of(process.stdout).error && !process.exitCode) process.exitCode = 1;
  },
  (e: unknown) => {
    process.stderr.write(unexpectedErrorLine(e));
    process.exitCode = 1;
  },
);
