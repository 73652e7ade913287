import type { Redis } from 'ioredis';

/** A block one host published for the fleet (an entry of `PREFIX:blocks`). */
export interface FleetBlock {
  /** The stream entry's id (`ms-seq`). */
  id: string;
  /** The host that published it. */
  host: string;
  rule: 'auth' | 'conn';
  /** The strike key: an address or an IPv6 prefix (`2001:db8::/64`). */
  key: string;
  /** The client address whose hit crossed the threshold. */
  client: string;
  /** When the threshold was crossed and when the block ends (ms since the epoch). */
  fromMs: number;
  untilMs: number;
  /** Fleet-wide hits in the window when it was published. */
  count: number;
}

/**
 * Reads the fleet's block stream on its own connection (XREAD BLOCK holds the connection) and hands
 * each entry to `onEntry`. Why a stream and not pub/sub: a PUBLISH reaches only the hosts connected
 * at that instant, while a stream keeps the entries, so a host that restarts or lost Redis for a
 * while reads on from the last id it saw (and at start from `now - horizonMs`, which covers every
 * block that can still be running) — no block is missed. The stream is capped (~MAXLEN) by the
 * publishing script.
 */
export class BlockStreamReader {
  private lastId: string;
  private stopped = false;
  private loop: Promise<void> | null = null;
  /** Entries read (all hosts, ours included). */
  read = 0;
  /** XREAD failures (Redis away): the loop waits and tries again. */
  errors = 0;

  constructor(
    private readonly conn: Redis,
    private readonly stream: string,
    horizonMs: number,
    private readonly onEntry: (b: FleetBlock) => void,
    private readonly onError: (e: Error) => void,
    private readonly retryMs = 500,
  ) {
    this.lastId = `${Math.max(0, Date.now() - horizonMs)}-0`;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops reading; the caller disconnects the connection, which ends a pending XREAD. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let reply: [string, [string, string[]][]][] | null;
      try {
        reply = await this.conn.xread('COUNT', 256, 'BLOCK', 1000, 'STREAMS', this.stream, this.lastId);
      } catch (e) {
        if (this.stopped) return;
        this.errors++;
        this.onError(e instanceof Error ? e : new Error(String(e)));
        await new Promise((r) => setTimeout(r, this.retryMs).unref());
        continue;
      }
      if (!reply) continue;
      for (const [, entries] of reply) {
        for (const [id, fields] of entries) {
          this.lastId = id;
          this.read++;
          const b = parseEntry(id, fields);
          if (b) this.onEntry(b);
        }
      }
    }
  }
}

/** A stream entry's flat field list → FleetBlock; null for an entry we do not understand. */
export function parseEntry(id: string, fields: string[]): FleetBlock | null {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
  const rule = f.rule;
  if ((rule !== 'auth' && rule !== 'conn') || !f.key || !f.host) return null;
  const untilMs = Number(f.until);
  if (!Number.isFinite(untilMs)) return null;
  return { id, host: f.host, rule, key: f.key, client: f.client ?? f.key, fromMs: Number(f.from), untilMs, count: Number(f.count) };
}
