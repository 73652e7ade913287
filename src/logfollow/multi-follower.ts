import { LogFollower, type FollowPosition, type FollowStats, type LogFollowerOptions } from './log-follower.js';

/** Several LogFollowers, one per path (duplicates once). */
export class MultiFollower {
  readonly followers = new Map<string, LogFollower>();
  constructor(paths: readonly string[], positions: Record<string, FollowPosition | undefined>, opts: Omit<LogFollowerOptions, 'position'>) {
    for (const p of paths) {
      if (!this.followers.has(p)) this.followers.set(p, new LogFollower(p, { ...opts, position: positions[p] ?? null }));
    }
  }
  async start(): Promise<void> {
    for (const f of this.followers.values()) await f.start();
  }
  async stop(): Promise<void> {
    for (const f of this.followers.values()) await f.stop();
  }
  async poll(): Promise<void> {
    for (const f of this.followers.values()) await f.poll();
  }
  /** path → position, for the files opened so far. */
  positions(): Record<string, FollowPosition> {
    const out: Record<string, FollowPosition> = {};
    for (const [p, f] of this.followers) {
      const pos = f.position();
      if (pos) out[p] = pos;
    }
    return out;
  }
  /** path → bytes not yet read (LogFollower.unreadBytes), for the files open now. */
  unreadBytes(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [p, f] of this.followers) {
      const n = f.unreadBytes();
      if (n !== null) out[p] = n;
    }
    return out;
  }
  stats(): Record<string, FollowStats> {
    const out: Record<string, FollowStats> = {};
    for (const [p, f] of this.followers) out[p] = { ...f.stats };
    return out;
  }
}
