import { Command } from 'commander';
import { ACCOUNTS_OPTIONS } from '../options/accounts.js';
import { addOptions } from './options.js';

/** `accounts`: its options here; what it does in accounts-run.ts, loaded when it runs (a fast --help). */
export function accountsCommand(): Command {
  const cmd = new Command('accounts')
    .description(
      'successful logins per day and account from mail, ssh and web logs (.gz/.bz2/.xz/.zst too; "-" for stdin), accounts seen from several non-whitelisted addresses, with GeoIP',
    )
    .argument('[logs...]', "log files (default: the mode's usual logs that exist, e.g. /var/log/mail.log, /var/log/auth.log)");
  addOptions(cmd, ACCOUNTS_OPTIONS);
  cmd.action(async (logs: string[], _opts: unknown, command: Command) => {
    const { runAccounts } = await import('./accounts-run.js');
    process.exitCode = await runAccounts(logs, command);
  });
  return cmd;
}
