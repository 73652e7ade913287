/**
 * nftables backend (the default): table `inet smtpstrike`, sets `blocked4` (ipv4_addr, timeout) and
 * `blocked6` (ipv6_addr, interval + timeout, so IPv6 prefixes work), chain `input` (hook input,
 * priority filter - 10) with one rule per family:
 *
 *   ip saddr @blocked4 tcp dport { PORTS } counter reject with tcp reset
 *
 * The rule has no `ct state new`: it also cuts a session that is already established when the
 * block starts (the offender's next packet gets a RST), which is what stops a bot that keeps
 * guessing on one open connection.
 *
 * With a tarpit (BlockerOptions.tarpit), the table also has chain `prerouting` (type nat, hook
 * prerouting, priority dstnat - 10) with one rule per family the tarpit serves:
 *
 *   ip saddr @blocked4 tcp dport { PORTS } ct state new counter redirect to :TPORT
 *   (or, for a tarpit HOST of that family: ... dnat ip to HOST:TPORT / dnat ip6 to [HOST]:TPORT)
 *
 * A NEW connection of a blocked address is translated before the input hook, so it reaches the
 * input chain with the tarpit port and passes the reject rule; packets of sessions established
 * before the block are not translated (NAT is decided once per connection) and are reset as before.
 * Without a tarpit the table is exactly as it was before tarpits existed. Every change goes through `nft -f -` (script on stdin, one
 * transaction: all or nothing). Timeouts are kernel-side: a crash never leaves a permanent block.
 */
import { hexRange, normalizeOps, parseBlockAddr, type BlockAddr, type NormOp } from './address.js';
import { BlockerError, silentLogger, type BlockEntry, type Blocker, type BlockerOptions, type BlockLogger, type BlockOp } from './types.js';
import { checkPorts } from './ports.js';
import { formatTarpitTarget, parseTarpitTarget, tarpitRules, type TarpitRule } from './tarpit-target.js';
import { failure, SpawnRunner, type CommandRunner, type RunResult } from './runner.js';
import { isObj, nftItems, parseNftSet } from './nft-json.js';
import { elem, NFT_CHAIN, NFT_NAT_CHAIN, NFT_PROBE_SET, NFT_SET4, NFT_SET6, NFT_TABLE, statements } from './nft-script.js';

export { parseNftSet } from './nft-json.js';
export { NFT_CHAIN, NFT_NAT_CHAIN, NFT_PROBE_SET, NFT_SET4, NFT_SET6, NFT_TABLE } from './nft-script.js';

/**
 * How an `add` of an element already in a set gets its new timeout:
 * - `readd`: a plain `add element` (recent kernels update the timeout of an existing element);
 * - `recreate`: delete and add again in the same transaction (older kernels keep the old timeout
 *   on a re-add; correct everywhere, but nft 1.0.x deletes from an interval set slowly, ~1 ms per
 *   element, which makes IPv6 refreshes slow);
 * - `auto` (default): probe the kernel once (a scratch set in our table) and pick.
 */
export type NftRefreshMode = 'auto' | 'readd' | 'recreate';

export interface NftOptions extends BlockerOptions {
  /** Tests and benchmarks inject their own runner. */
  runner?: CommandRunner;
  /** Elements per `add element` statement (default 4096). */
  chunk?: number;
  refresh?: NftRefreshMode;
}

export class NftBlocker implements Blocker {
  readonly name = 'nft' as const;
  readonly ports: number[];
  private readonly runner: CommandRunner;
  private readonly log: BlockLogger;
  private readonly chunk: number;
  private refresh: NftRefreshMode;
  /** The tarpit's NAT rules, one per family it serves (empty: no tarpit). */
  readonly tarpit: TarpitRule[];

  constructor(opts: NftOptions) {
    this.ports = checkPorts(opts.ports);
    this.tarpit = tarpitRules(opts.tarpit, this.ports);
    this.runner = opts.runner ?? new SpawnRunner(opts.netns === undefined ? {} : { netns: opts.netns });
    this.log = opts.logger ?? silentLogger;
    this.chunk = Math.max(1, opts.chunk ?? 4096);
    this.refresh = opts.refresh ?? 'auto';
  }

  /** The refresh mode in use ('auto' until the kernel has been probed). */
  get refreshMode(): NftRefreshMode {
    return this.refresh;
  }

  /** Comments that identify our two rules (and the ports they were made for). */
  ruleComments(): [string, string] {
    const p = this.ports.join(',');
    return [`smtpstrike:ipv4:${p}`, `smtpstrike:ipv6:${p}`];
  }

  /** Comments of the tarpit's NAT rules: `smtpstrike:tarpit4:2626`, `smtpstrike:tarpit6:[2001:db8::1]:2626`. */
  tarpitComments(): string[] {
    return this.tarpit.map((r) => `smtpstrike:tarpit${r.family}:${formatTarpitTarget(r)}`);
  }

  structureScript(): string {
    return (
      `add table ${NFT_TABLE}\n` +
      `add set ${NFT_TABLE} ${NFT_SET4} { type ipv4_addr; flags timeout; }\n` +
      `add set ${NFT_TABLE} ${NFT_SET6} { type ipv6_addr; flags interval,timeout; }\n` +
      `add chain ${NFT_TABLE} ${NFT_CHAIN} { type filter hook input priority filter - 10; policy accept; }\n`
    );
  }

  private natChainSpec(): string {
    return `add chain ${NFT_TABLE} ${NFT_NAT_CHAIN} { type nat hook prerouting priority dstnat - 10; policy accept; }\n`;
  }

  /**
   * The NAT chain made anew with the tarpit's rules; without a tarpit, the chain deleted when
   * `natExists` (a table made with a tarpit before), else nothing.
   */
  natScript(natExists: boolean): string {
    if (this.tarpit.length === 0) {
      return natExists ? `flush chain ${NFT_TABLE} ${NFT_NAT_CHAIN}\ndelete chain ${NFT_TABLE} ${NFT_NAT_CHAIN}\n` : '';
    }
    const ports = `{ ${this.ports.join(', ')} }`;
    const comments = this.tarpitComments();
    let s = this.natChainSpec() + `flush chain ${NFT_TABLE} ${NFT_NAT_CHAIN}\n`;
    this.tarpit.forEach((r, i) => {
      const match = r.family === 4 ? `ip saddr @${NFT_SET4}` : `ip6 saddr @${NFT_SET6}`;
      const to = r.host === undefined ? `redirect to :${r.port}` : r.family === 4 ? `dnat ip to ${r.host}:${r.port}` : `dnat ip6 to [${r.host}]:${r.port}`;
      s += `add rule ${NFT_TABLE} ${NFT_NAT_CHAIN} ${match} tcp dport ${ports} ct state new counter ${to} comment "${comments[i]!}"\n`;
    });
    return s;
  }

  rulesScript(): string {
    const ports = `{ ${this.ports.join(', ')} }`;
    const [c4, c6] = this.ruleComments();
    return (
      `flush chain ${NFT_TABLE} ${NFT_CHAIN}\n` +
      `add rule ${NFT_TABLE} ${NFT_CHAIN} ip saddr @${NFT_SET4} tcp dport ${ports} counter reject with tcp reset comment "${c4}"\n` +
      `add rule ${NFT_TABLE} ${NFT_CHAIN} ip6 saddr @${NFT_SET6} tcp dport ${ports} counter reject with tcp reset comment "${c6}"\n`
    );
  }

  /**
   * One transaction for a batch. Per family, `del` ops: make sure each address exists (`add
   * element` of a present element only sets its timeout), then delete them, so deleting an absent
   * address is not an error. `add` ops: with `readd`, a plain `add element` (sets the new timeout
   * of a present element too); with `recreate`, present-or-not elements are first made to exist,
   * deleted, then added with their timeout, so the timeout is set anew on any kernel.
   */
  opsScript(ops: NormOp[], mode: 'readd' | 'recreate' = 'recreate'): string {
    let s = '';
    for (const [fam, set] of [
      [4, NFT_SET4],
      [6, NFT_SET6],
    ] as const) {
      const mine = ops.filter((o) => o.a.family === fam);
      if (mine.length === 0) continue;
      const head = `${NFT_TABLE} ${set}`;
      const gone = mine.filter((o) => mode === 'recreate' || o.op === 'del').map((o) => o.a.addr);
      s += statements(`add element ${head}`, gone, this.chunk);
      s += statements(`delete element ${head}`, gone, this.chunk);
      s += statements(`add element ${head}`, mine.filter((o) => o.op === 'add').map(elem), this.chunk);
    }
    return s;
  }

  probeScripts(): [string, string, string] {
    const set = `${NFT_TABLE} ${NFT_PROBE_SET}`;
    return [
      `add set ${set} { type ipv4_addr; flags timeout; }\nflush set ${set}\nadd element ${set} { 192.0.2.1 timeout 100s }\n`,
      `add element ${set} { 192.0.2.1 timeout 1000s }\n`,
      `delete set ${set}\n`,
    ];
  }

  /**
   * Finds out once whether this kernel sets a new timeout when an existing element is added
   * again: a scratch set in our table, one element added with 100 s then with 1000 s.
   */
  async probeRefresh(): Promise<'readd' | 'recreate'> {
    if (this.refresh !== 'auto') return this.refresh;
    const [create, readd, drop] = this.probeScripts();
    await this.script(create, 'probe the kernel');
    try {
      await this.script(readd, 'probe the kernel');
      const r = await this.nft(['-j', 'list', 'set', ...NFT_TABLE.split(' '), NFT_PROBE_SET]);
      if (r.code !== 0) throw failure('nft', r, 'probe the kernel', this.runner.netns);
      let timeout: unknown = null;
      for (const it of nftItems(r.stdout)) {
        const set = it.set;
        if (isObj(set) && Array.isArray(set.elem)) for (const e of set.elem) if (isObj(e) && isObj(e.elem)) timeout = e.elem.timeout;
      }
      this.refresh = timeout === 1000 ? 'readd' : 'recreate';
    } finally {
      await this.script(drop, 'probe the kernel');
    }
    this.log.info(
      { backend: 'nft', refresh: this.refresh },
      this.refresh === 'readd'
        ? 'nft: the kernel refreshes the timeout of a re-added element'
        : 'nft: the kernel keeps the old timeout of a re-added element: refreshing by delete + add',
    );
    return this.refresh;
  }

  /**
   * For a batch the kernel refused because IPv6 intervals overlap (an address inside a blocked
   * prefix, or a prefix around blocked addresses): the same batch planned against what blocked6
   * holds now. A prefix replaces the narrower entries it covers; an entry inside a blocked wider
   * prefix is skipped (already blocked; logged); `del` of something not in the set is skipped.
   * The set's intervals are disjoint, so they are kept sorted by first address and each op finds
   * the entries it overlaps by binary search.
   */
  conflictScript(ops: NormOp[], existing6: BlockAddr[], mode: 'readd' | 'recreate' = 'recreate'): { script: string; skipped: string[] } {
    let s = this.opsScript(
      ops.filter((o) => o.a.family === 4),
      mode,
    );
    const head = `${NFT_TABLE} ${NFT_SET6}`;
    interface Iv {
      lo: string;
      hi: string;
      a: BlockAddr;
    }
    const ivs: Iv[] = existing6
      .map((a) => {
        const [lo, hi] = hexRange(a);
        return { lo, hi, a };
      })
      .sort((x, y) => (x.lo < y.lo ? -1 : x.lo > y.lo ? 1 : 0));
    const skipped: string[] = [];
    for (const o of ops) {
      if (o.a.family !== 6) continue;
      const [lo, hi] = hexRange(o.a);
      // First interval ending at or after lo; the overlapping ones follow while they start <= hi.
      let first = 0;
      for (let n = ivs.length; first < n;) {
        const mid = (first + n) >> 1;
        if (ivs[mid]!.hi < lo) first = mid + 1;
        else n = mid;
      }
      let last = first;
      while (last < ivs.length && ivs[last]!.lo <= hi) last++;
      const hit = ivs.slice(first, last);
      const exact = hit.length === 1 && hit[0]!.lo === lo && hit[0]!.hi === hi;
      if (o.op === 'del') {
        if (exact) {
          s += `delete element ${head} { ${hit[0]!.a.addr} }\n`;
          ivs.splice(first, 1);
        }
        continue;
      }
      if (exact) {
        if (mode === 'recreate') s += `delete element ${head} { ${hit[0]!.a.addr} }\n`;
        s += `add element ${head} { ${elem(o)} }\n`;
        continue;
      }
      const wider = hit.find((iv) => iv.lo <= lo && iv.hi >= hi);
      if (wider) {
        skipped.push(`${o.a.addr} (inside ${wider.a.addr})`);
        continue;
      }
      // CIDR blocks nest or are disjoint: every hit lies inside the op's prefix.
      for (const iv of hit) s += `delete element ${head} { ${iv.a.addr} }\n`;
      s += `add element ${head} { ${elem(o)} }\n`;
      ivs.splice(first, hit.length, { lo, hi, a: o.a });
    }
    return { script: s, skipped };
  }

  private async nft(args: string[], input?: string): Promise<RunResult> {
    return this.runner.run('nft', args, input);
  }

  private async script(text: string, what: string): Promise<void> {
    const r = await this.nft(['-f', '-'], text);
    if (r.code !== 0) throw failure('nft', r, what, this.runner.netns);
  }

  async exists(): Promise<boolean> {
    const r = await this.nft(['-t', 'list', 'table', ...NFT_TABLE.split(' ')]);
    if (r.code === 0) return true;
    if (/No such file or directory/.test(r.stderr)) return false;
    throw failure('nft', r, 'list the table', this.runner.netns);
  }

  /** Our chains' rule comments, from one terse listing of the table (no set elements); null: no table. */
  private async chainComments(): Promise<Map<string, unknown[]> | null> {
    const r = await this.nft(['-j', '-t', 'list', 'table', ...NFT_TABLE.split(' ')]);
    if (r.code !== 0) {
      if (/No such file or directory/.test(r.stderr)) return null;
      throw failure('nft', r, 'list the table', this.runner.netns);
    }
    const out = new Map<string, unknown[]>();
    for (const it of nftItems(r.stdout)) {
      if (isObj(it.chain) && typeof it.chain.name === 'string' && !out.has(it.chain.name)) out.set(it.chain.name, []);
      if (isObj(it.rule) && typeof it.rule.chain === 'string') {
        const list = out.get(it.rule.chain) ?? [];
        list.push(it.rule.comment);
        out.set(it.rule.chain, list);
      }
    }
    return out;
  }

  async init(): Promise<void> {
    const chains = await this.chainComments();
    const same = (got: unknown[] | undefined, want: string[]): boolean => got !== undefined && got.length === want.length && got.every((c, i) => c === want[i]);
    const natExists = chains?.has(NFT_NAT_CHAIN) ?? false;
    const rulesOk =
      same(chains?.get(NFT_CHAIN), this.ruleComments()) && (this.tarpit.length === 0 ? !natExists : same(chains?.get(NFT_NAT_CHAIN), this.tarpitComments()));
    try {
      await this.script(this.structureScript() + (rulesOk ? '' : this.rulesScript() + this.natScript(natExists)), 'create the smtpstrike table');
    } catch (e) {
      if (e instanceof BlockerError && e.kind === 'command') {
        e.message += ' (a table inet smtpstrike of another layout exists? "smtpstrike blocks cleanup" removes it)';
        if (this.tarpit.length > 0) e.message += ' (the tarpit needs NAT in nftables: kernel 5.2 or later with nft_chain_nat)';
      }
      throw e;
    }
    if (!rulesOk) {
      this.log.info({ backend: 'nft', ports: this.ports }, 'nft: table inet smtpstrike ready');
      if (this.tarpit.length > 0) this.logTarpit();
    }
    await this.probeRefresh();
  }

  private logTarpit(): void {
    const fams = this.tarpit.map((r) => r.family);
    const rejected = ([4, 6] as const).filter((f) => !fams.includes(f));
    this.log.info(
      { backend: 'nft', tarpit: this.tarpit.map((r) => `IPv${r.family} ${r.host === undefined ? 'redirect to' : 'dnat to'} ${formatTarpitTarget(r)}`) },
      'nft: new connections of blocked addresses go to the tarpit',
    );
    if (rejected.length > 0) {
      this.log.warn(
        { backend: 'nft', rejected_families: rejected.map((f) => `IPv${f}`) },
        `nft: the tarpit host is an IPv${fams[0]!} address: blocked IPv${rejected[0]!} addresses stay rejected`,
      );
    }
  }

  async ruleTarpit(): Promise<{ host?: string; port: number; families: (4 | 6)[] } | null> {
    const chains = await this.chainComments();
    let found: { host?: string; port: number; families: (4 | 6)[] } | null = null;
    for (const c of chains?.get(NFT_NAT_CHAIN) ?? []) {
      const m = typeof c === 'string' ? /^smtpstrike:tarpit([46]):(.+)$/.exec(c) : null;
      if (!m) continue;
      let t;
      try {
        t = parseTarpitTarget(m[2]!);
      } catch {
        continue;
      }
      if (found === null) found = { ...t, families: [] };
      found.families.push(m[1] === '4' ? 4 : 6);
    }
    return found;
  }

  async rulePorts(): Promise<number[] | null> {
    const r = await this.nft(['-j', 'list', 'chain', ...NFT_TABLE.split(' '), NFT_CHAIN]);
    if (r.code !== 0) {
      if (/No such file or directory/.test(r.stderr)) return null;
      throw failure('nft', r, 'list the chain', this.runner.netns);
    }
    for (const it of nftItems(r.stdout)) {
      const c = isObj(it.rule) ? it.rule.comment : undefined;
      const m = typeof c === 'string' ? /^smtpstrike:ipv4:([\d,]+)$/.exec(c) : null;
      if (m) return m[1]!.split(',').map(Number);
    }
    return null;
  }

  async apply(input: BlockOp[]): Promise<void> {
    const ops = normalizeOps(input);
    if (ops.length === 0) return;
    const mode = ops.some((o) => o.op === 'add') ? await this.probeRefresh() : 'recreate';
    const r = await this.nft(['-f', '-'], this.opsScript(ops, mode));
    if (r.code === 0) return;
    if (!/overlap|conflicting intervals/i.test(r.stderr) || !ops.some((o) => o.a.family === 6)) {
      throw failure('nft', r, 'apply blocks', this.runner.netns);
    }
    const existing = (await this.listSet(NFT_SET6)).flatMap((e) => {
      try {
        return [parseBlockAddr(e.addr)];
      } catch {
        return [];
      }
    });
    const { script, skipped } = this.conflictScript(ops, existing, mode);
    if (skipped.length > 0) {
      this.log.warn(
        { backend: 'nft', skipped: skipped.slice(0, 20), count: skipped.length },
        'nft: IPv6 blocks already covered by a wider blocked prefix, skipped',
      );
    }
    if (script) await this.script(script, 'apply blocks');
  }

  private async listSet(set: string): Promise<BlockEntry[]> {
    const r = await this.nft(['-j', 'list', 'set', ...NFT_TABLE.split(' '), set]);
    if (r.code !== 0) {
      if (/No such file or directory/.test(r.stderr)) return [];
      throw failure('nft', r, 'list blocks', this.runner.netns);
    }
    return parseNftSet(nftItems(r.stdout), set);
  }

  async list(): Promise<BlockEntry[]> {
    const r = await this.nft(['-j', 'list', 'table', ...NFT_TABLE.split(' ')]);
    if (r.code !== 0) {
      if (/No such file or directory/.test(r.stderr)) return [];
      throw failure('nft', r, 'list blocks', this.runner.netns);
    }
    const items = nftItems(r.stdout);
    return [...parseNftSet(items, NFT_SET4), ...parseNftSet(items, NFT_SET6)];
  }

  flushScript(): string {
    return `flush set ${NFT_TABLE} ${NFT_SET4}\nflush set ${NFT_TABLE} ${NFT_SET6}\n`;
  }

  async flush(): Promise<void> {
    const r = await this.nft(['-f', '-'], this.flushScript());
    if (r.code !== 0 && !/No such file or directory/.test(r.stderr)) throw failure('nft', r, 'flush blocks', this.runner.netns);
  }

  /** `add` then `delete` in one transaction: removes the table whether or not it exists. */
  cleanupScript(): string {
    return `add table ${NFT_TABLE}\ndelete table ${NFT_TABLE}\n`;
  }

  async cleanup(): Promise<void> {
    await this.script(this.cleanupScript(), 'delete the smtpstrike table');
    this.log.info({ backend: 'nft' }, 'nft: table inet smtpstrike deleted');
  }
}
