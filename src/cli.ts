#!/usr/bin/env node
import { Command } from 'commander';
import { replayCommand } from './commands/replay.js';

const program = new Command('smtpstrike')
  .description('SMTP AUTH brute-force detection from reassembled TCP streams')
  .version('0.1.0')
  .showHelpAfterError();
program.addCommand(replayCommand());

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`smtpstrike: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
