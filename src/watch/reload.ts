/**
 * What a SIGHUP can change in a running watch. Every config key is in exactly one list (a test
 * checks it), so a key can never again be silently ignored while the log says "reloaded".
 */
import { CONFIG_KEYS, LIVE_KEYS, RESTART_KEYS } from '../options/all-options.js';

/*
 * Which keys are applied on SIGHUP without a restart is each option's `reload` in the registry
 * (src/options/). Taken at start only, and why: the capture (interface, backend, buffer, ports in
 * its BPF filter), the firewall backend, the strike keys and per-entry history sizes (hitcount,
 * conn_hitcount, ipv6_prefix), the flow table's fixed-size LRU (max_flows), and the TLS reply
 * sizes (tls_replies, tls_replies_file: read into the pipeline at start), the log sensor's files
 * and journal (logs, journal: followed from start), and services (the block rule's port set is
 * made when the firewall table is set up at start, and the blocks already in the kernel were made
 * under it: a live change would have to re-make the rule under running blocks; a restart does, as
 * `init` re-makes rules made for other ports).
 */
export { LIVE_KEYS, RESTART_KEYS };

export interface ReloadChanges {
  /** Config keys whose value changed and was applied. */
  applied: string[];
  /** Config keys whose value changed but takes effect only after a restart. */
  needsRestart: string[];
}

/** The config keys whose option value differs between the running flags and the re-read ones. */
export function reloadChanges(running: object, next: object): ReloadChanges {
  const out: ReloadChanges = { applied: [], needsRestart: [] };
  const was = running as Record<string, unknown>;
  const now = next as Record<string, unknown>;
  for (const [key, spec] of Object.entries(CONFIG_KEYS)) {
    if (JSON.stringify(was[spec.option]) === JSON.stringify(now[spec.option])) continue;
    (RESTART_KEYS.includes(key) ? out.needsRestart : out.applied).push(key);
  }
  return out;
}

/** `next` with the restart-only options put back to what is running (what the next SIGHUP compares to). */
export function keepRestartOnly<T extends object>(running: T, next: T): T {
  const out = { ...next } as Record<string, unknown>;
  for (const key of RESTART_KEYS) {
    const opt = CONFIG_KEYS[key]!.option;
    out[opt] = (running as Record<string, unknown>)[opt];
  }
  return out as T;
}
