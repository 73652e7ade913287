/**
 * ipset backend: sets `smtpstrike4` (hash:ip) and `smtpstrike6` (hash:net family inet6, so IPv6
 * prefixes work and may overlap), both `timeout 0` (per-entry timeouts; 0 = permanent), filled
 * with `ipset restore -exist` batches; one iptables and one ip6tables rule in INPUT point at them:
 *
 *   -p tcp -m multiport --dports PORTS -m set --match-set smtpstrike4 src
 *     -m comment --comment smtpstrike -j REJECT --reject-with tcp-reset
 *
 * `-exist` makes `add` of a present entry set its timeout anew and `del` of an absent one a no-op.
 * `ipset restore` is one call but not one transaction: if a line fails, the lines before it stay.
 * Timeouts are kernel-side, like nft.
 *
 * With a tarpit, the nat table's PREROUTING gets one more rule per family it serves:
 *
 *   -p tcp -m multiport --dports PORTS -m set --match-set smtpstrike4 src -m conntrack --ctstate NEW
 *     -m comment --comment smtpstrike -j REDIRECT --to-ports TPORT   (or -j DNAT --to-destination HOST:TPORT)
 *
 * Without one, init removes such a rule left from before (and the filter rules are as they were).
 */
import { normalizeOps, parseBlockAddr, type NormOp } from './address.js';
import { silentLogger, type BlockEntry, type Blocker, type BlockerOptions, type BlockLogger, type BlockOp } from './types.js';
import {
  chainRules,
  ensureInputRule,
  IPT,
  inputRulePorts,
  NAT_PREROUTING,
  natTarget,
  natTargetText,
  removeInputRules,
  removeNatRulesIfAny,
  tableArgs,
  type Family,
  tcpPortsMatch,
} from './iptables-input.js';
import { parseTarpitTarget, tarpitRules, type TarpitRule } from './tarpit-target.js';
import { checkPorts } from './ports.js';
import { failure, SpawnRunner, type CommandRunner, type RunResult } from './runner.js';

export const IPSET4 = 'smtpstrike4';
export const IPSET6 = 'smtpstrike6';
export const RULE_COMMENT = 'smtpstrike';
/** Entries a set holds at most (ipset's default, 65536, is too small for a restore of 100,000). */
export const IPSET_MAXELEM = 1_048_576;

export interface IpsetOptions extends BlockerOptions {
  runner?: CommandRunner;
}

const NO_SET = /does not exist/;

export class IpsetBlocker implements Blocker {
  readonly name = 'ipset' as const;
  readonly ports: number[];
  private readonly runner: CommandRunner;
  private readonly log: BlockLogger;
  readonly tarpit: TarpitRule[];

  constructor(opts: IpsetOptions) {
    this.ports = checkPorts(opts.ports, 15); // -m multiport takes at most 15 ports
    this.tarpit = tarpitRules(opts.tarpit, this.ports);
    this.runner = opts.runner ?? new SpawnRunner(opts.netns === undefined ? {} : { netns: opts.netns });
    this.log = opts.logger ?? silentLogger;
  }

  createScript(): string {
    return (
      `create ${IPSET4} hash:ip family inet hashsize 1024 maxelem ${IPSET_MAXELEM} timeout 0\n` +
      `create ${IPSET6} hash:net family inet6 hashsize 1024 maxelem ${IPSET_MAXELEM} timeout 0\n`
    );
  }

  ruleArgs(fam: Family): string[] {
    return [...this.setMatch(fam), '-m', 'comment', '--comment', RULE_COMMENT, '-j', 'REJECT', '--reject-with', 'tcp-reset'];
  }

  /** Our SMTP ports from a member of the family's set. */
  private setMatch(fam: Family): string[] {
    return [...tcpPortsMatch(this.ports), '-m', 'set', '--match-set', fam === 4 ? IPSET4 : IPSET6, 'src'];
  }

  /** The tarpit's nat PREROUTING rule for one family; null when the tarpit does not serve it (or there is none). */
  natArgs(fam: Family): string[] | null {
    const r = this.tarpit.find((x) => x.family === fam);
    if (r === undefined) return null;
    return [...this.setMatch(fam), '-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', RULE_COMMENT, ...natTarget(r)];
  }

  private static ours(fam: Family): (rule: string[]) => boolean {
    const set = fam === 4 ? IPSET4 : IPSET6;
    return (rule) =>
      rule.includes('--match-set') &&
      rule[rule.indexOf('--match-set') + 1] === set &&
      rule.includes('--comment') &&
      rule[rule.indexOf('--comment') + 1] === RULE_COMMENT;
  }

  /** `ipset restore -exist` lines, in op order (coalesced: one line per address). */
  opsScript(ops: NormOp[]): string {
    let s = '';
    for (const o of ops) {
      const set = o.a.family === 4 ? IPSET4 : IPSET6;
      s += o.op === 'add' ? `add ${set} ${o.a.addr} timeout ${o.timeoutSec ?? 0}\n` : `del ${set} ${o.a.addr}\n`;
    }
    return s;
  }

  private async restore(script: string): Promise<RunResult> {
    return this.runner.run('ipset', ['restore', '-exist'], script);
  }

  async exists(): Promise<boolean> {
    const r = await this.runner.run('ipset', ['list', '-n', IPSET4]);
    if (r.code === 0) return true;
    if (NO_SET.test(r.stderr)) return false;
    throw failure('ipset', r, 'list sets', this.runner.netns);
  }

  async init(): Promise<void> {
    const r = await this.restore(this.createScript());
    if (r.code !== 0) {
      const e = failure('ipset', r, 'create the sets', this.runner.netns);
      if (e.kind === 'command') e.message += ' (a set of that name with other parameters exists? "smtpstrike blocks cleanup --backend ipset")';
      throw e;
    }
    let changed = false;
    for (const fam of [4, 6] as const) changed = (await ensureInputRule(this.runner, fam, this.ruleArgs(fam), IpsetBlocker.ours(fam))) || changed;
    for (const fam of [4, 6] as const) {
      const nat = this.natArgs(fam);
      if (nat !== null) changed = (await ensureInputRule(this.runner, fam, nat, IpsetBlocker.ours(fam), NAT_PREROUTING)) || changed;
      else changed = (await removeNatRulesIfAny(this.runner, fam, IpsetBlocker.ours(fam))) || changed;
    }
    if (changed) {
      this.log.info({ backend: 'ipset', ports: this.ports }, 'ipset: sets and INPUT rules ready');
      if (this.tarpit.length === 1) {
        const f = this.tarpit[0]!.family;
        this.log.warn({ backend: 'ipset' }, `ipset: the tarpit host is an IPv${f} address: blocked IPv${f === 4 ? 6 : 4} addresses stay rejected`);
      }
    }
  }

  async ruleTarpit(): Promise<{ host?: string; port: number; families: (4 | 6)[] } | null> {
    let found: { host?: string; port: number; families: (4 | 6)[] } | null = null;
    for (const fam of [4, 6] as const) {
      const ls = await this.runner.run(IPT[fam], [...tableArgs(NAT_PREROUTING), '-S', 'PREROUTING']);
      if (ls.code !== 0) continue;
      for (const rule of chainRules(ls.stdout, 'PREROUTING')) {
        const to = IpsetBlocker.ours(fam)(rule) ? natTargetText(rule) : null;
        if (to === null) continue;
        try {
          if (found === null) found = { ...parseTarpitTarget(to), families: [] };
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
    return inputRulePorts(this.runner, IpsetBlocker.ours(4));
  }

  async apply(input: BlockOp[]): Promise<void> {
    const ops = normalizeOps(input);
    if (ops.length === 0) return;
    const r = await this.restore(this.opsScript(ops));
    if (r.code !== 0) throw failure('ipset', r, 'apply blocks', this.runner.netns);
  }

  /** Entries of `ipset save SET` output. */
  static parseSave(text: string, set: string): BlockEntry[] {
    const out: BlockEntry[] = [];
    for (const line of text.split('\n')) {
      const f = line.trim().split(/\s+/);
      if (f[0] !== 'add' || f[1] !== set || f[2] === undefined) continue;
      let addr: string;
      try {
        addr = parseBlockAddr(f[2]).addr;
      } catch {
        continue;
      }
      const ti = f.indexOf('timeout');
      const t = ti >= 0 ? Number(f[ti + 1]) : 0;
      out.push({ addr, expiresInSec: Number.isFinite(t) && t > 0 ? t : null });
    }
    return out;
  }

  async list(): Promise<BlockEntry[]> {
    const out: BlockEntry[] = [];
    for (const set of [IPSET4, IPSET6]) {
      const r = await this.runner.run('ipset', ['save', set]);
      if (r.code !== 0) {
        if (NO_SET.test(r.stderr)) continue;
        throw failure('ipset', r, 'list blocks', this.runner.netns);
      }
      for (const e of IpsetBlocker.parseSave(r.stdout, set)) out.push(e); // not push(...): a set can hold millions (call stack)
    }
    return out;
  }

  async flush(): Promise<void> {
    for (const set of [IPSET4, IPSET6]) {
      const r = await this.runner.run('ipset', ['flush', set]);
      if (r.code !== 0 && !NO_SET.test(r.stderr)) throw failure('ipset', r, 'flush blocks', this.runner.netns);
    }
  }

  async cleanup(): Promise<void> {
    for (const fam of [4, 6] as const) {
      await removeInputRules(this.runner, fam, IpsetBlocker.ours(fam));
      await removeNatRulesIfAny(this.runner, fam, IpsetBlocker.ours(fam));
    }
    for (const set of [IPSET4, IPSET6]) {
      // A set just released by an iptables-nft rule can be "in use" for a moment: retry briefly.
      for (let attempt = 0; ; attempt++) {
        const r = await this.runner.run('ipset', ['destroy', set]);
        if (r.code === 0 || NO_SET.test(r.stderr)) break;
        if (!/in use/i.test(r.stderr) || attempt >= 20) throw failure('ipset', r, `destroy set ${set}`, this.runner.netns);
        await new Promise((res) => setTimeout(res, 50));
      }
    }
    this.log.info({ backend: 'ipset' }, 'ipset: sets and INPUT rules removed');
  }
}
