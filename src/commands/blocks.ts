/**
 * `smtpstrike blocks list|init|add|del|flush|cleanup`: the commands and their options here; what
 * each does in blocks-run.ts, loaded when it runs (a fast --help).
 */
import { Command, InvalidArgumentError } from 'commander';
import { BlockAddressError, BlockerError } from '../blocker/types.js';
import { parseBlockAddr } from '../blocker/address.js';
import { BLOCKS_ADD_OPTIONS, BLOCKS_LIST_OPTIONS, BLOCKS_OPTIONS } from '../options/blocks.js';
import { addOptions } from './options.js';
import type { AddFlags, BlocksFlags, ListFlags } from './blocks-run.js';

function addrArg(v: string): string {
  try {
    return parseBlockAddr(v).addr;
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

function common(cmd: Command): Command {
  return addOptions(cmd, BLOCKS_OPTIONS);
}

/** Runs an action; admin-fixable failures become one line on stderr and exit code 1. */
function guarded<A extends unknown[]>(fn: (...a: A) => Promise<void>): (...a: A) => Promise<void> {
  return async (...a: A) => {
    try {
      await fn(...a);
    } catch (e) {
      if (e instanceof BlockerError || e instanceof BlockAddressError) {
        process.stderr.write(`smtpstrike blocks: ${e.message}\n`);
        process.exitCode = 1;
        return;
      }
      throw e;
    }
  };
}

const run = (): Promise<typeof import('./blocks-run.js')> => import('./blocks-run.js');

export function blocksCommand(): Command {
  const blocks = new Command('blocks').description('list, add, delete, flush or remove the kernel blocks smtpstrike manages (nftables by default)');

  blocks.addCommand(
    addOptions(common(new Command('list')), BLOCKS_LIST_OPTIONS)
      .description("list the active blocks with the seconds they have left and their repeat-offender level (from watch's state file)")
      .action(guarded(async (f: ListFlags) => (await run()).listBlocks(f))),
  );

  blocks.addCommand(
    addOptions(
      common(new Command('init')),
      BLOCKS_ADD_OPTIONS.filter((o) => o.option === 'tarpit'),
    )
      .description('create the table/sets/rules (re-made for the --ports, --services and --tarpit given); idempotent')
      .action(guarded(async (f: BlocksFlags) => (await run()).initBlocks(f))),
  );

  blocks.addCommand(
    addOptions(
      common(new Command('add'))
        .description('block addresses (IPv4, IPv6 or an IPv6 prefix such as 2001:db8::/64); an address already blocked gets the new timeout')
        .argument('<addr...>', 'addresses to block', (v: string, prev: string[] | undefined) => [...(prev ?? []), addrArg(v)]),
      BLOCKS_ADD_OPTIONS,
    ).action(guarded(async (addrs: string[], f: AddFlags) => (await run()).addBlocks(addrs, f))),
  );

  blocks.addCommand(
    common(new Command('del'))
      .description('unblock addresses (an address that is not blocked is not an error)')
      .argument('<addr...>', 'addresses to unblock', (v: string, prev: string[] | undefined) => [...(prev ?? []), addrArg(v)])
      .action(guarded(async (addrs: string[], f: BlocksFlags) => (await run()).delBlocks(addrs, f))),
  );

  blocks.addCommand(
    common(new Command('flush'))
      .description('remove every block (the table, sets and rules stay)')
      .action(guarded(async (f: BlocksFlags) => (await run()).flushBlocks(f))),
  );

  blocks.addCommand(
    common(new Command('cleanup'))
      .description('remove everything smtpstrike created in the firewall (table, sets, chains, rules)')
      .action(guarded(async (f: BlocksFlags) => (await run()).cleanupBlocks(f))),
  );

  return blocks;
}
