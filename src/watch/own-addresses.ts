import { networkInterfaces } from 'node:os';
import { covers, parseBlockAddr, type BlockAddr } from '../blocker/address.js';
import type { CommandRunner } from '../blocker/runner.js';

/** Loopback, never blocked even when no interface carries it (127.0.0.2 is as local as 127.0.0.1). */
export const LOOPBACK = ['127.0.0.0/8', '::1'] as const;

/** Keys whose hit() answer is kept, at most. */
const MAX_ANSWERS = 65_536;

/**
 * The host's own addresses and loopback: never blocked, whatever they do (a local webmail failing
 * logins must not cut the host off from itself). A strike key is an address or, for IPv6, a whole
 * prefix (`::1` counts as `::/64`), so a key is refused when it overlaps any of them: the key lies
 * inside a protected network, or a protected address lies inside the key's prefix.
 */
export class ProtectedAddresses {
  private readonly nets: BlockAddr[] = [];
  /** Canonical texts of the host's own addresses (loopback not included), for logs and diffs. */
  readonly own: ReadonlySet<string>;

  constructor(ownAddresses: Iterable<string>) {
    const own = new Set<string>();
    for (const a of ownAddresses) {
      try {
        const p = parseBlockAddr(a.split('%')[0]!); // fe80::1%eth0: the zone is not part of the address
        own.add(p.addr);
        this.nets.push(p);
      } catch {
        // not an address a key can overlap (cannot happen for what interfaces report)
      }
    }
    for (const l of LOOPBACK) this.nets.push(parseBlockAddr(l, { ipv4Prefix: true }));
    this.own = own;
  }

  /**
   * hit()'s answers by key: every refused SYN of a blocked client asks again (a flood's rejects),
   * and the answer never changes (a new address list is a new object). Bounded: starts over when full.
   */
  private readonly answers = new Map<string, string | null>();

  /** The protected address or network that blocking `key` would hit, or null when `key` may be blocked. */
  hit(key: string): string | null {
    const known = this.answers.get(key);
    if (known !== undefined) return known;
    if (this.answers.size >= MAX_ANSWERS) this.answers.clear();
    const a = this.hitNow(key);
    this.answers.set(key, a);
    return a;
  }

  private hitNow(key: string): string | null {
    let k: BlockAddr;
    try {
      k = parseBlockAddr(key);
    } catch {
      return null; // not blockable anyway: the batcher refuses it with the reason
    }
    for (const n of this.nets) if (covers(n, k) || covers(k, n)) return n.addr;
    return null;
  }
}

/** The addresses of this network namespace's interfaces. */
export function localAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address));
}

/** The addresses of the interfaces in network namespace `runner.netns` (`ip -j addr`). */
export async function netnsAddresses(runner: CommandRunner): Promise<string[]> {
  const r = await runner.run('ip', ['-j', 'addr', 'show']);
  if (r.code !== 0) throw new Error(`ip addr in ${runner.netns ?? 'this namespace'} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
  const links = JSON.parse(r.stdout) as { addr_info?: { local?: unknown }[] }[];
  return links.flatMap((l) => (l.addr_info ?? []).map((a) => a.local).filter((x): x is string => typeof x === 'string'));
}
