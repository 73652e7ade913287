/**
 * The one INPUT rule per family that the ipset and iptables backends hang their blocks from
 * (ipset: `-m set --match-set …`, iptables: `-j SMTPSTRIKE`): reading `iptables -S` listings,
 * keeping exactly one such rule, removing it, reading its ports back.
 */
import { failure, type CommandRunner } from './runner.js';

export type Family = 4 | 6;
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

const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Makes INPUT hold exactly one rule `want` among the rules `ours` recognises: deletes the others
 * (e.g. made for other ports), inserts `want` at the top only if `-C` says it is missing.
 */
export async function ensureInputRule(runner: CommandRunner, fam: Family, want: string[], ours: (rule: string[]) => boolean): Promise<boolean> {
  const ipt = IPT[fam];
  const ls = await runner.run(ipt, ['-w', '-S', 'INPUT']);
  if (ls.code !== 0) throw failure(ipt, ls, 'list INPUT', runner.netns);
  let changed = false;
  for (const rule of chainRules(ls.stdout, 'INPUT')) {
    if (!ours(rule) || same(rule, want)) continue;
    const d = await runner.run(ipt, ['-w', '-D', 'INPUT', ...rule]);
    if (d.code !== 0) throw failure(ipt, d, 'delete a stale smtpstrike rule', runner.netns);
    changed = true;
  }
  const c = await runner.run(ipt, ['-w', '-C', 'INPUT', ...want]);
  if (c.code === 0) return changed;
  if (c.code !== 1) throw failure(ipt, c, 'check the INPUT rule', runner.netns);
  const i = await runner.run(ipt, ['-w', '-I', 'INPUT', '1', ...want]);
  if (i.code !== 0) throw failure(ipt, i, 'insert the INPUT rule', runner.netns);
  return true;
}

/** Deletes every INPUT rule `ours` recognises. */
export async function removeInputRules(runner: CommandRunner, fam: Family, ours: (rule: string[]) => boolean): Promise<void> {
  const ipt = IPT[fam];
  const ls = await runner.run(ipt, ['-w', '-S', 'INPUT']);
  if (ls.code !== 0) throw failure(ipt, ls, 'list INPUT', runner.netns);
  for (const rule of chainRules(ls.stdout, 'INPUT')) {
    if (!ours(rule)) continue;
    const d = await runner.run(ipt, ['-w', '-D', 'INPUT', ...rule]);
    if (d.code !== 0) throw failure(ipt, d, 'delete an smtpstrike rule', runner.netns);
  }
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
