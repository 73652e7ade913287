import { networkInterfaces } from 'node:os';

/** The host's own addresses: never blocked, whatever they do (a local webmail failing logins must not cut the host off). */
export function ownAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) out.add(a.address.split('%')[0]!);
  }
  return out;
}
