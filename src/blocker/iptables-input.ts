/**
 * The one INPUT rule per family that the ipset and iptables backends hang their blocks from
 * (ipset: `-m set --match-set …`, iptables: `-j SMTPSTRIKE`): reading `iptables -S` listings,
 * keeping exactly one such rule, removing it, reading its ports back.
 */
import { failure, type CommandRunner } from './runner.js';
import { BlockerError } from './types.js';

export type Family = 4 | 6;

/** `-p tcp -m multiport --dports P,Q`: the match every rule of ours starts with. */
export function tcpPortsMatch(ports: readonly number[]): string[] {
  return ['-p', 'tcp', '-m', 'multiport', '--dports', ports.join(',')];
}
export const IPT: Record<Family, string> = { 4: 'iptables', 6: 'ip6tables' };

/** Splits one `iptables -S` line into arguments (double quotes as iptables prints them). */
export function splitRuleLine(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return out;
}

/** Lines of `iptables -S CHAIN` that are rules (`-A CHAIN …`), as argument arrays without `-A CHAIN`. */
export function chainRules(listing: string, chain: string): string[][] {
  return listing
    .split('\n')
    .map(splitRuleLine)
    .filter((a) => a[0] === '-A' && a[1] === chain)
    .map((a) => a.slice(2));
}

/** Where a rule lives: INPUT of the filter table (the default), or a chain of the nat table (the tarpit's). */
export interface RuleChain {
  table?: 'nat';
  chain: string;
}

export const INPUT_CHAIN: RuleChain = { chain: 'INPUT' };
export const NAT_PREROUTING: RuleChain = { table: 'nat', chain: 'PREROUTING' };

/** `-w`, then `-t nat` for the nat table (the filter table's commands stay exactly as they were). */
export function tableArgs(where: RuleChain): string[] {
  return where.table === undefined ? ['-w'] : ['-w', '-t', where.table];
}

const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Makes INPUT hold exactly one rule `want` among the rules `ours` recognises: deletes the others
 * (e.g. made for other ports), inserts `want` at the top only if `-C` says it is missing.
 */
export async function ensureInputRule(
  runner: CommandRunner,
  fam: Family,
  want: string[],
  ours: (rule: string[]) => boolean,
  where: RuleChain = INPUT_CHAIN,
): Promise<boolean> {
  const ipt = IPT[fam];
  const t = tableArgs(where);
  const ls = await runner.run(ipt, [...t, '-S', where.chain]);
  if (ls.code !== 0) throw failure(ipt, ls, `list ${where.chain}`, runner.netns);
  let changed = false;
  for (const rule of chainRules(ls.stdout, where.chain)) {
    if (!ours(rule) || same(rule, want)) continue;
    const d = await runner.run(ipt, [...t, '-D', where.chain, ...rule]);
    if (d.code !== 0) throw failure(ipt, d, 'delete a stale smtpstrike rule', runner.netns);
    changed = true;
  }
  const c = await runner.run(ipt, [...t, '-C', where.chain, ...want]);
  if (c.code === 0) return changed;
  if (c.code !== 1) throw failure(ipt, c, `check the ${where.chain} rule`, runner.netns);
  const i = await runner.run(ipt, [...t, '-I', where.chain, '1', ...want]);
  if (i.code !== 0) throw failure(ipt, i, `insert the ${where.chain} rule`, runner.netns);
  return true;
}

/** Deletes every rule of the chain (INPUT by default) that `ours` recognises; true when one was there. */
export async function removeInputRules(
  runner: CommandRunner,
  fam: Family,
  ours: (rule: string[]) => boolean,
  where: RuleChain = INPUT_CHAIN,
): Promise<boolean> {
  const ipt = IPT[fam];
  const t = tableArgs(where);
  const ls = await runner.run(ipt, [...t, '-S', where.chain]);
  if (ls.code !== 0) throw failure(ipt, ls, `list ${where.chain}`, runner.netns);
  let removed = false;
  for (const rule of chainRules(ls.stdout, where.chain)) {
    if (!ours(rule)) continue;
    const d = await runner.run(ipt, [...t, '-D', where.chain, ...rule]);
    if (d.code !== 0) throw failure(ipt, d, 'delete an smtpstrike rule', runner.netns);
    removed = true;
  }
  return removed;
}

/**
 * Removes our nat-table rules when no tarpit is configured (a tarpit set before, now off). Where
 * iptables has no nat table for a family (no NAT support), there is nothing of ours to remove:
 * a 'command' failure is not an error here.
 */
export async function removeNatRulesIfAny(runner: CommandRunner, fam: Family, ours: (rule: string[]) => boolean): Promise<boolean> {
  try {
    return await removeInputRules(runner, fam, ours, NAT_PREROUTING);
  } catch (e) {
    if (e instanceof BlockerError && e.kind === 'command') return false;
    throw e;
  }
}

/** The jump of a tarpit NAT rule: `-j REDIRECT --to-ports P`, or `-j DNAT --to-destination H:P` / `[H]:P`. */
export function natTarget(r: { family: Family; host?: string; port: number }): string[] {
  if (r.host === undefined) return ['-j', 'REDIRECT', '--to-ports', String(r.port)];
  return ['-j', 'DNAT', '--to-destination', r.family === 4 ? `${r.host}:${r.port}` : `[${r.host}]:${r.port}`];
}

/** The tarpit target of a rule's jump as natTarget writes it (the `HOST:PORT` text form), or null. */
export function natTargetText(rule: string[]): string | null {
  const j = rule.indexOf('-j');
  if (j < 0) return null;
  const to = rule[j + 3];
  if (to === undefined) return null;
  if (rule[j + 1] === 'REDIRECT' && rule[j + 2] === '--to-ports') return to;
  if (rule[j + 1] === 'DNAT' && rule[j + 2] === '--to-destination') return to;
  return null;
}

/** The `--dports` of the first INPUT rule `ours` recognises (IPv4), or null. */
export async function inputRulePorts(runner: CommandRunner, ours: (rule: string[]) => boolean): Promise<number[] | null> {
  const ls = await runner.run(IPT[4], ['-w', '-S', 'INPUT']);
  if (ls.code !== 0) throw failure(IPT[4], ls, 'list INPUT', runner.netns);
  for (const rule of chainRules(ls.stdout, 'INPUT')) {
    if (!ours(rule)) continue;
    const i = rule.indexOf('--dports');
    return i < 0 ? null : rule[i + 1]!.split(',').map(Number);
  }
  return null;
}
