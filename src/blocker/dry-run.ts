/**
 * Dry-run backend: touches no firewall. Logs what it would do and keeps the blocks in memory (with
 * their expiry) so `list()` answers as a real backend would.
 */
import { normalizeOps } from './address.js';
import { silentLogger, type BlockEntry, type Blocker, type BlockerOptions, type BlockLogger, type BlockOp } from './types.js';

export interface DryRunOptions extends Partial<BlockerOptions> {
  now?: () => number;
}

export class DryRunBlocker implements Blocker {
  readonly name = 'dry-run' as const;
  private readonly log: BlockLogger;
  private readonly now: () => number;
  private readonly ports: number[];
  /** addr → expiry in ms (null: never). */
  private readonly blocks = new Map<string, number | null>();
  private created = false;

  constructor(opts: DryRunOptions = {}) {
    this.log = opts.logger ?? silentLogger;
    this.now = opts.now ?? Date.now;
    this.ports = opts.ports ?? [];
  }

  private sweep(): void {
    const now = this.now();
    for (const [a, exp] of this.blocks) if (exp !== null && exp <= now) this.blocks.delete(a);
  }

  async exists(): Promise<boolean> {
    return this.created;
  }

  async init(): Promise<void> {
    if (!this.created) this.log.info({ backend: 'dry-run', ports: this.ports }, 'dry-run: would create the block table and rules');
    this.created = true;
  }

  async apply(input: BlockOp[]): Promise<void> {
    const ops = normalizeOps(input);
    this.sweep();
    const now = this.now();
    for (const o of ops) {
      if (o.op === 'add') {
        this.blocks.set(o.a.addr, o.timeoutSec === null ? null : now + o.timeoutSec * 1000);
        this.log.info({ backend: 'dry-run', op: 'add', addr: o.a.addr, timeout_s: o.timeoutSec }, `dry-run: would block ${o.a.addr}`);
      } else {
        this.blocks.delete(o.a.addr);
        this.log.info({ backend: 'dry-run', op: 'del', addr: o.a.addr }, `dry-run: would unblock ${o.a.addr}`);
      }
    }
  }

  async maintain(): Promise<void> {
    this.sweep();
  }

  async list(): Promise<BlockEntry[]> {
    this.sweep();
    const now = this.now();
    return [...this.blocks].map(([addr, exp]) => ({ addr, expiresInSec: exp === null ? null : Math.floor((exp - now) / 1000) }));
  }

  async flush(): Promise<void> {
    this.log.info({ backend: 'dry-run', count: this.blocks.size }, 'dry-run: would remove every block');
    this.blocks.clear();
  }

  async cleanup(): Promise<void> {
    this.log.info({ backend: 'dry-run' }, 'dry-run: would remove the block table and rules');
    this.blocks.clear();
    this.created = false;
  }
}
