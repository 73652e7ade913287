import { BlockerError } from './types.js';

/**
 * The server ports a block rule covers (BlockerOptions.ports), checked once for every backend:
 * sorted, without duplicates, each a TCP port, at most `max` of them (64 unless the backend says
 * less: iptables' `-m multiport` takes at most 15).
 */
export function checkPorts(ports: readonly number[], max = 64): number[] {
  const p = [...new Set(ports)].sort((a, b) => a - b);
  if (p.length === 0) throw new BlockerError('usage', 'no ports given');
  if (p.length > max) throw new BlockerError('usage', `at most ${max} ports`);
  for (const x of p) if (!Number.isInteger(x) || x < 1 || x > 65535) throw new BlockerError('usage', `not a TCP port: ${x}`);
  return p;
}
