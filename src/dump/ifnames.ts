import { readdirSync, readFileSync } from 'node:fs';

/**
 * Interface index → name on this machine, the way tcpdump names the interface of a Linux cooked
 * v2 packet (`if_indextoname`; tcpdump warns that the names "might be incorrect" when reading a
 * file made elsewhere). Read once from /sys/class/net; '?' when the index is unknown here.
 */
let names: Map<number, string> | null = null;

export function interfaceName(index: number): string {
  if (!names) {
    names = new Map();
    try {
      for (const n of readdirSync('/sys/class/net')) {
        try {
          names.set(Number(readFileSync(`/sys/class/net/${n}/ifindex`, 'latin1').trim()), n);
        } catch {
          /* an interface that vanished meanwhile */
        }
      }
    } catch {
      /* not Linux: no names */
    }
  }
  return names.get(index) ?? '?';
}
