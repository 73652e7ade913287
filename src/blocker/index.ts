/** Blocker factory and re-exports. */
import { BlockerError, type Blocker, type BlockerName, type BlockerOptions } from './types.js';
import { DryRunBlocker } from './dry-run.js';
import { IpsetBlocker } from './ipset.js';
import { IptablesBlocker } from './iptables.js';
import { NftBlocker } from './nft.js';
import type { CommandRunner } from './runner.js';

export * from './types.js';
export { BlockBatcher, type BatcherOptions, type BatcherStats } from './batcher.js';
export { parseBlockAddr, parseTimeout, normalizeOps, type BlockAddr, type NormOp } from './address.js';
export { SpawnRunner, type CommandRunner, type RunResult } from './runner.js';
export { NftBlocker } from './nft.js';
export { IpsetBlocker } from './ipset.js';
export { IptablesBlocker } from './iptables.js';
export { DryRunBlocker } from './dry-run.js';

export interface CreateBlockerOptions extends BlockerOptions {
  /** Replaces the process runner (tests, benchmarks). */
  runner?: CommandRunner;
}

/** The backend by name: nft (default), ipset, iptables or dry-run. */
export function createBlocker(name: BlockerName, opts: CreateBlockerOptions): Blocker {
  switch (name) {
    case 'nft':
      return new NftBlocker(opts);
    case 'ipset':
      return new IpsetBlocker(opts);
    case 'iptables':
      return new IptablesBlocker(opts);
    case 'dry-run':
      return new DryRunBlocker(opts);
    default:
      throw new BlockerError('usage', `unknown blocker backend: ${String(name)} (nft, ipset, iptables, dry-run)`);
  }
}
