/**
 * Plain iptables backend: one rule per blocked address in a dedicated chain `SMTPSTRIKE` (IPv4 in
 * iptables, IPv6 in ip6tables), jumped to from INPUT for the SMTP ports:
 *
 *   INPUT:      -p tcp -m multiport --dports PORTS -m comment --comment smtpstrike -j SMTPSTRIKE
 *   SMTPSTRIKE: -s ADDR/LEN -p tcp -m comment --comment smtpstrike:exp=EPOCH -j REJECT --reject-with tcp-reset
 *
 * iptables has no kernel-side timeouts. The expiry time (Unix seconds, or `never`) is kept in each
 * rule's comment, so any smtpstrike process can read it back; expired rules are deleted on every
 * apply(), list() and maintain() (the BlockBatcher calls maintain about once a second). A crash
 * therefore leaves rules in place until smtpstrike runs again or `smtpstrike blocks cleanup`,
 * unlike nft and ipset, whose kernel timeouts expire on their own.
 *
 * Each apply is one `iptables-restore -w --noflush` per family: atomic per family table.
 *
 * With a tarpit, the nat table gets a chain `SMTPSTRIKE` too (per family the tarpit serves), jumped
 * to from PREROUTING for NEW connections to the ports, with one rule per blocked address made,
 * expired and deleted together with its filter rule (same comment, same restore call):
 *
 *   PREROUTING: -p tcp -m multiport --dports PORTS -m conntrack --ctstate NEW
 *               -m comment --comment smtpstrike:tarpit4:TARGET -j SMTPSTRIKE
 *   SMTPSTRIKE: -s ADDR/LEN -p tcp -m comment --comment smtpstrike:exp=EPOCH -j REDIRECT --to-ports TPORT
 *               (or -j DNAT --to-destination HOST:TPORT)
 *
 * Without a tarpit nothing in the nat table is touched but what an earlier tarpit left (init removes it).
 * The per-address nat rules are written only by a blocker made with the tarpit: a process that
 * changes the blocks of a tarpitted table must be given it (`smtpstrike blocks` reads it back with
 * ruleTarpit() when --tarpit is not given; watch passes its own).
 */
import { normalizeOps, parseBlockAddr, type NormOp } from './address.js';
import { silentLogger, type BlockEntry, type Blocker, type BlockerOptions, type BlockLogger, type BlockOp } from './types.js';
import {
  chainRules,
  ensureInputRule,
  inputRulePorts,
  IPT,
  NAT_PREROUTING,
  natTarget,
  removeInputRules,
  removeNatRulesIfAny,
  tableArgs,
  type Family,
  tcpPortsMatch,
} from './iptables-input.js';
import { formatTarpitTarget, parseTarpitTarget, tarpitRules, type TarpitRule } from './tarpit-target.js';
import { checkPorts } from './ports.js';
import { failure, SpawnRunner, type CommandRunner } from './runner.js';

export const IPT_CHAIN = 'SMTPSTRIKE';
export const JUMP_COMMENT = 'smtpstrike';

export interface IptablesOptions extends BlockerOptions {
  runner?: CommandRunner;
  /** Clock in ms (tests). */
  now?: () => number;
}

/** One per-address rule as read back from `iptables -S SMTPSTRIKE`. */
export interface IptRule {
  /** Source exactly as iptables prints it (`10.0.0.1/32`), used to delete the rule. */
  source: string;
  addr: string;
  /** Unix seconds; null = never. */
  exp: number | null;
}

const NO_CHAIN = /No chain|incompatible|does not exist/;

export function ruleSpec(source: string, exp: number | null): string {
  return `-s ${source} -p tcp -m comment --comment smtpstrike:exp=${exp ?? 'never'} -j REJECT --reject-with tcp-reset`;
}

/** A per-address tarpit rule of the nat chain: its arguments as printed (to delete it), address, expiry. */
export interface IptNatRule {
  spec: string[];
  addr: string;
  exp: number | null;
}

export function natRuleSpec(source: string, exp: number | null, target: readonly string[]): string {
  return `-s ${source} -p tcp -m comment --comment smtpstrike:exp=${exp ?? 'never'} ${target.join(' ')}`;
}

/** Our per-address rules in `iptables -t nat -S SMTPSTRIKE` output (REDIRECT or DNAT). */
export function parseNatChain(listing: string): IptNatRule[] {
  const out: IptNatRule[] = [];
  for (const r of chainRules(listing, IPT_CHAIN)) {
    if (r.length < 10 || r[0] !== '-s' || r.slice(2, 6).join(' ') !== '-p tcp -m comment' || r[6] !== '--comment' || r[8] !== '-j') continue;
    if (r[9] !== 'REDIRECT' && r[9] !== 'DNAT') continue;
    const m = /^smtpstrike:exp=(\d+|never)$/.exec(r[7]!);
    if (!m) continue;
    try {
      out.push({ spec: r, addr: parseBlockAddr(r[1]!).addr, exp: m[1] === 'never' ? null : Number(m[1]) });
    } catch {
      /* not an address we could have written */
    }
  }
  return out;
}

/** Our per-address rules in `iptables -S SMTPSTRIKE` output (anything else in the chain is left alone). */
export function parseChain(listing: string): IptRule[] {
  const out: IptRule[] = [];
  for (const r of chainRules(listing, IPT_CHAIN)) {
    if (
      r.length !== 12 ||
      r[0] !== '-s' ||
      r.slice(2, 6).join(' ') !== '-p tcp -m comment' ||
      r[6] !== '--comment' ||
      r.slice(8).join(' ') !== '-j REJECT --reject-with tcp-reset'
    )
      continue;
    const m = /^smtpstrike:exp=(\d+|never)$/.exec(r[7]!);
    if (!m) continue;
    try {
      out.push({ source: r[1]!, addr: parseBlockAddr(r[1]!).addr, exp: m[1] === 'never' ? null : Number(m[1]) });
    } catch {
      /* not an address we could have written */
    }
  }
  return out;
}

export class IptablesBlocker implements Blocker {
  readonly name = 'iptables' as const;
  readonly ports: number[];
  private readonly runner: CommandRunner;
  private readonly log: BlockLogger;
  private readonly now: () => number;
  readonly tarpit: TarpitRule[];

  constructor(opts: IptablesOptions) {
    this.ports = checkPorts(opts.ports, 15);
    this.tarpit = tarpitRules(opts.tarpit, this.ports);
    this.runner = opts.runner ?? new SpawnRunner(opts.netns === undefined ? {} : { netns: opts.netns });
    this.log = opts.logger ?? silentLogger;
    this.now = opts.now ?? Date.now;
  }

  jumpArgs(): string[] {
    return [...tcpPortsMatch(this.ports), '-m', 'comment', '--comment', JUMP_COMMENT, '-j', IPT_CHAIN];
  }

  private static ours(this: void, rule: string[]): boolean {
    return (
      rule.includes('-j') && rule[rule.indexOf('-j') + 1] === IPT_CHAIN && rule.includes('--comment') && rule[rule.indexOf('--comment') + 1] === JUMP_COMMENT
    );
  }

  /** The tarpit rule's jump for one family, or null when the tarpit does not serve it. */
  natTargetArgs(fam: Family): string[] | null {
    const r = this.tarpit.find((x) => x.family === fam);
    return r === undefined ? null : natTarget(r);
  }

  /** The nat PREROUTING jump for one family; its comment carries the tarpit target. */
  natJumpArgs(fam: Family): string[] | null {
    const r = this.tarpit.find((x) => x.family === fam);
    if (r === undefined) return null;
    const comment = `smtpstrike:tarpit${fam}:${formatTarpitTarget(r)}`;
    return [...tcpPortsMatch(this.ports), '-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', comment, '-j', IPT_CHAIN];
  }

  private static oursNat(this: void, rule: string[]): boolean {
    const c = rule.indexOf('--comment');
    return rule.includes('-j') && rule[rule.indexOf('-j') + 1] === IPT_CHAIN && c >= 0 && (rule[c + 1] ?? '').startsWith('smtpstrike:tarpit');
  }

  private nowSec(): number {
    return Math.ceil(this.now() / 1000);
  }

  /**
   * The `iptables-restore --noflush` script for one family: delete the expired rules and every rule
   * of an address an op names, append one rule per `add`. Empty string when nothing changes.
   */
  restoreScript(current: IptRule[], ops: NormOp[], nat?: { rules: IptNatRule[]; target: string[] }): string {
    const now = this.nowSec();
    const named = new Set(ops.map((o) => o.a.addr));
    const lines: string[] = [];
    const natLines: string[] = [];
    for (const r of current) if (named.has(r.addr) || (r.exp !== null && r.exp <= now)) lines.push(`-D ${IPT_CHAIN} ${ruleSpec(r.source, r.exp)}`);
    for (const r of nat?.rules ?? []) if (named.has(r.addr) || (r.exp !== null && r.exp <= now)) natLines.push(`-D ${IPT_CHAIN} ${r.spec.join(' ')}`);
    for (const o of ops) {
      if (o.op !== 'add') continue;
      const source = `${o.a.family === 4 || o.a.prefix === 128 ? `${o.a.addr}/${o.a.prefix}` : o.a.addr}`;
      const exp = o.timeoutSec === null ? null : now + o.timeoutSec;
      lines.push(`-A ${IPT_CHAIN} ${ruleSpec(source, exp)}`);
      if (nat) natLines.push(`-A ${IPT_CHAIN} ${natRuleSpec(source, exp, nat.target)}`);
    }
    return (lines.length === 0 ? '' : `*filter\n${lines.join('\n')}\nCOMMIT\n`) + (natLines.length === 0 ? '' : `*nat\n${natLines.join('\n')}\nCOMMIT\n`);
  }

  /** Our nat chain's per-address rules; null when the chain is missing (or the family has no nat table). */
  private async readNat(fam: Family): Promise<IptNatRule[] | null> {
    const r = await this.runner.run(IPT[fam], [...tableArgs(NAT_PREROUTING), '-S', IPT_CHAIN]);
    if (r.code === 0) return parseNatChain(r.stdout);
    if (NO_CHAIN.test(r.stderr)) return null;
    throw failure(IPT[fam], r, `list nat chain ${IPT_CHAIN}`, this.runner.netns);
  }

  private async read(fam: Family): Promise<IptRule[] | null> {
    const r = await this.runner.run(IPT[fam], ['-w', '-S', IPT_CHAIN]);
    if (r.code === 0) return parseChain(r.stdout);
    if (NO_CHAIN.test(r.stderr)) return null;
    throw failure(IPT[fam], r, `list chain ${IPT_CHAIN}`, this.runner.netns);
  }

  /** Applies ops of one family plus the expiry sweep; returns the rules left (null: no chain). */
  private async update(fam: Family, ops: NormOp[]): Promise<IptRule[] | null> {
    const current = await this.read(fam);
    if (current === null) {
      if (ops.length > 0)
        throw failure(IPT[fam], { code: 1, stdout: '', stderr: `chain ${IPT_CHAIN} missing` }, 'apply blocks (run init first)', this.runner.netns);
      return null;
    }
    const target = this.natTargetArgs(fam);
    const natRules = target === null ? null : await this.readNat(fam);
    const script = this.restoreScript(current, ops, target !== null && natRules !== null ? { rules: natRules, target } : undefined);
    if (script === '') return current;
    const cmd = `${IPT[fam]}-restore`;
    const r = await this.runner.run(cmd, ['-w', '--noflush'], script);
    if (r.code !== 0) throw failure(cmd, r, 'apply blocks', this.runner.netns);
    const now = this.nowSec();
    const named = new Set(ops.map((o) => o.a.addr));
    const left = current.filter((x) => !named.has(x.addr) && (x.exp === null || x.exp > now));
    for (const o of ops) if (o.op === 'add') left.push({ source: '', addr: o.a.addr, exp: o.timeoutSec === null ? null : now + o.timeoutSec });
    return left;
  }

  async exists(): Promise<boolean> {
    return (await this.read(4)) !== null;
  }

  async init(): Promise<void> {
    let changed = false;
    for (const fam of [4, 6] as const) {
      if ((await this.read(fam)) === null) {
        const n = await this.runner.run(IPT[fam], ['-w', '-N', IPT_CHAIN]);
        if (n.code !== 0) throw failure(IPT[fam], n, `create chain ${IPT_CHAIN}`, this.runner.netns);
        changed = true;
      }
      changed = (await ensureInputRule(this.runner, fam, this.jumpArgs(), IptablesBlocker.ours)) || changed;
      changed = (await this.initNat(fam)) || changed;
    }
    if (changed) {
      this.log.info({ backend: 'iptables', ports: this.ports }, `iptables: chain ${IPT_CHAIN} and INPUT jumps ready`);
      if (this.tarpit.length === 1) {
        const f = this.tarpit[0]!.family;
        this.log.warn({ backend: 'iptables' }, `iptables: the tarpit host is an IPv${f} address: blocked IPv${f === 4 ? 6 : 4} addresses stay rejected`);
      }
    }
  }

  /**
   * The nat side of one family: with a tarpit for it, the chain, the PREROUTING jump and one rule
   * per blocked address (made anew from the filter rules when they differ, e.g. another target);
   * without, whatever an earlier tarpit left is removed. True when something changed.
   */
  private async initNat(fam: Family): Promise<boolean> {
    const target = this.natTargetArgs(fam);
    const jump = this.natJumpArgs(fam);
    if (target === null || jump === null) return this.removeNat(fam);
    let changed = false;
    let rules = await this.readNat(fam);
    if (rules === null) {
      const n = await this.runner.run(IPT[fam], [...tableArgs(NAT_PREROUTING), '-N', IPT_CHAIN]);
      if (n.code !== 0) throw failure(IPT[fam], n, `create nat chain ${IPT_CHAIN} (the tarpit needs the nat table)`, this.runner.netns);
      rules = [];
      changed = true;
    }
    changed = (await ensureInputRule(this.runner, fam, jump, IptablesBlocker.oursNat, NAT_PREROUTING)) || changed;
    const filter = (await this.read(fam)) ?? [];
    const want = filter.map((r) => natRuleSpec(r.source, r.exp, target)).sort();
    const have = rules.map((r) => r.spec.join(' ')).sort();
    if (want.length !== have.length || want.some((w, i) => w !== have[i])) {
      const script = `*nat\n-F ${IPT_CHAIN}\n${want.map((w) => `-A ${IPT_CHAIN} ${w}\n`).join('')}COMMIT\n`;
      const cmd = `${IPT[fam]}-restore`;
      const r = await this.runner.run(cmd, ['-w', '--noflush'], script);
      if (r.code !== 0) throw failure(cmd, r, 'make the tarpit rules', this.runner.netns);
      changed = true;
    }
    return changed;
  }

  /** Removes the nat jump and chain of one family, if there; a family without a nat table has none. */
  private async removeNat(fam: Family): Promise<boolean> {
    let changed = await removeNatRulesIfAny(this.runner, fam, IptablesBlocker.oursNat);
    for (const op of ['-F', '-X']) {
      const r = await this.runner.run(IPT[fam], [...tableArgs(NAT_PREROUTING), op, IPT_CHAIN]);
      if (r.code === 0) changed = changed || op === '-X';
      else if (!NO_CHAIN.test(r.stderr) && failure(IPT[fam], r, '', this.runner.netns).kind !== 'command') {
        throw failure(IPT[fam], r, `remove nat chain ${IPT_CHAIN}`, this.runner.netns);
      }
    }
    return changed;
  }

  async ruleTarpit(): Promise<{ host?: string; port: number; families: (4 | 6)[] } | null> {
    let found: { host?: string; port: number; families: (4 | 6)[] } | null = null;
    for (const fam of [4, 6] as const) {
      const ls = await this.runner.run(IPT[fam], [...tableArgs(NAT_PREROUTING), '-S', 'PREROUTING']);
      if (ls.code !== 0) continue;
      for (const rule of chainRules(ls.stdout, 'PREROUTING')) {
        if (!IptablesBlocker.oursNat(rule)) continue;
        const m = /^smtpstrike:tarpit[46]:(.+)$/.exec(rule[rule.indexOf('--comment') + 1] ?? '');
        if (!m) continue;
        try {
          if (found === null) found = { ...parseTarpitTarget(m[1]!), families: [] };
          found.families.push(fam);
        } catch {
          /* not a target we wrote */
        }
        break;
      }
    }
    return found;
  }

  async rulePorts(): Promise<number[] | null> {
    return inputRulePorts(this.runner, IptablesBlocker.ours);
  }

  async apply(input: BlockOp[]): Promise<void> {
    const ops = normalizeOps(input);
    if (ops.length === 0) return;
    for (const fam of [4, 6] as const) {
      const mine = ops.filter((o) => o.a.family === fam);
      if (mine.length > 0) await this.update(fam, mine);
    }
  }

  /** Deletes expired rules (both families). */
  async maintain(): Promise<void> {
    for (const fam of [4, 6] as const) await this.update(fam, []);
  }

  async list(): Promise<BlockEntry[]> {
    const now = this.now() / 1000;
    const out: BlockEntry[] = [];
    for (const fam of [4, 6] as const) {
      const left = await this.update(fam, []);
      for (const r of left ?? []) out.push({ addr: r.addr, expiresInSec: r.exp === null ? null : Math.max(0, Math.floor(r.exp - now)) });
    }
    return out;
  }

  async flush(): Promise<void> {
    for (const fam of [4, 6] as const) {
      const r = await this.runner.run(IPT[fam], ['-w', '-F', IPT_CHAIN]);
      if (r.code !== 0 && !NO_CHAIN.test(r.stderr)) throw failure(IPT[fam], r, `flush chain ${IPT_CHAIN}`, this.runner.netns);
      if (this.natTargetArgs(fam) === null) continue;
      const n = await this.runner.run(IPT[fam], [...tableArgs(NAT_PREROUTING), '-F', IPT_CHAIN]);
      if (n.code !== 0 && !NO_CHAIN.test(n.stderr)) throw failure(IPT[fam], n, `flush nat chain ${IPT_CHAIN}`, this.runner.netns);
    }
  }

  async cleanup(): Promise<void> {
    for (const fam of [4, 6] as const) {
      await removeInputRules(this.runner, fam, IptablesBlocker.ours);
      await this.removeNat(fam);
      for (const op of ['-F', '-X']) {
        const r = await this.runner.run(IPT[fam], ['-w', op, IPT_CHAIN]);
        if (r.code !== 0 && !NO_CHAIN.test(r.stderr)) throw failure(IPT[fam], r, `remove chain ${IPT_CHAIN}`, this.runner.netns);
      }
    }
    this.log.info({ backend: 'iptables' }, `iptables: chain ${IPT_CHAIN} and INPUT jumps removed`);
  }
}
