// RedisFleet's types (redis-fleet.ts): its options, health, thresholds, counters, and the journal's hit.
import type { RedisOptions } from 'ioredis';
import type { FleetBlock } from './block-stream.js';

export type FleetRule = 'auth' | 'conn';

/**
 * - connecting: not yet reached Redis (hits are decided locally and queued);
 * - ok: every hit goes to Redis and is decided there (within the budget);
 * - degraded: Redis unreachable, or a hit missed its budget: hits are decided locally and queued;
 * - reconciling: Redis is back, the queued hits are being replayed (new hits are still local + queued);
 * - closed.
 */
export type FleetHealth = 'connecting' | 'ok' | 'degraded' | 'reconciling' | 'closed';

/**
 * Who decided a threshold: Redis within the budget (or its late reply); this host alone while Redis
 * was away or slow; or the replay of queued hits once Redis was back.
 */
export type ThresholdSource = 'fleet' | 'local' | 'reconciled';

export interface FleetThreshold {
  rule: FleetRule;
  key: string;
  client: string;
  /** Hits in the window (fleet-wide for fleet/reconciled, this host's for local). */
  count: number;
  /** When the block should end (ms since the epoch). */
  untilMs: number;
  source: ThresholdSource;
  /** Whether this hit published the block on the fleet's stream (others will apply it). */
  published: boolean;
}

/** pino-compatible: `logger.warn({ ...fields }, 'message')`. */
export interface FleetLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RuleWindow {
  hitcount: number;
  seconds: number;
}

export interface FleetOptions {
  /** redis://[:PASSWORD@]HOST:PORT/DB, rediss://…, redis+sentinel://H1:P1,H2:P2/MASTER/DB (fleet-url.ts). */
  url: string;
  /** This host's name on the fleet's stream; unique per host (default: the hostname). */
  host?: string;
  /** The xt_recent windows (the same on every host of a fleet: they share the sorted sets). */
  auth: RuleWindow;
  conn: RuleWindow;
  /** How long a fleet block lasts from the hit that crossed the threshold (default: auth.seconds). */
  blockSeconds?: number;
  /** Time Redis has to answer a hit before the host decides it locally (ms; default 50: native-notes/fleet.md). */
  budgetMs?: number;
  /** Key prefix (default `smtpstrike`): PREFIX:w:RULE:KEY, PREFIX:b:KEY, PREFIX:blocks. */
  prefix?: string;
  /** Hits kept for replay at most, per rule (the oldest unsent are dropped past it, counted; default 100,000). */
  maxJournal?: number;
  /** Keys the local fallback windows track (default 262,144, the strike table's default). */
  maxLocalKeys?: number;
  /** Stamps a fleet window keeps at most (counts saturate there; default 64, at least hitcount). */
  maxStamps?: number;
  /** Block stream length, approximately (default 10,000). */
  streamMaxLen?: number;
  /** How often a degraded host checks whether Redis answers within the budget again (ms; default 1000). */
  probeMs?: number;
  /** Hits per pipeline when replaying (default 512). */
  replayBatch?: number;
  /** A window reached its threshold (called on the event loop, never inside hit()). */
  onThreshold(t: FleetThreshold): void;
  /** Another host published a block that still runs and mayBlock allows. */
  onRemoteBlock(b: FleetBlock): void;
  /** Whether this host may block `key` (false: on its whitelist, loopback, its own addresses). */
  mayBlock(key: string, client: string): boolean;
  logger?: FleetLogger;
  /** Round trips kept for quantiles (default 4,096). */
  latencySamples?: number;
  /** Extra ioredis options (tests: a faster reconnect). */
  redisOptions?: Partial<RedisOptions>;
}

/** Counters for logs and metrics. */
export interface FleetStats {
  /** hit() calls. */
  hits: number;
  /** Hits decided by Redis within the budget. */
  fleetHits: number;
  /** Hits decided locally (Redis away, slow, or not yet reached). */
  localHits: number;
  /** Replies that came after the budget (the hit had been decided locally). */
  lateReplies: number;
  /** Hits replayed to Redis after an outage. */
  replayed: number;
  thresholdsFleet: number;
  thresholdsLocal: number;
  thresholdsReconciled: number;
  /** Blocks this host published on the stream. */
  published: number;
  /** Other hosts' blocks handed to onRemoteBlock. */
  remoteBlocks: number;
  /** Other hosts' blocks mayBlock refused. */
  remoteSkipped: number;
  /** Other hosts' blocks read after they had ended (a host catching up). */
  remoteExpired: number;
  /** Queued hits dropped unsent because the journal was full. */
  journalDropped: number;
  /** Redis errors (commands and connection). */
  errors: number;
  /** Times the host went from ok to degraded. */
  degradedEpisodes: number;
  /** Reconciliations finished. */
  reconciliations: number;
}

/** The counters, all zero. */
export function newFleetStats(): FleetStats {
  return {
    hits: 0,
    fleetHits: 0,
    localHits: 0,
    lateReplies: 0,
    replayed: 0,
    thresholdsFleet: 0,
    thresholdsLocal: 0,
    thresholdsReconciled: 0,
    published: 0,
    remoteBlocks: 0,
    remoteSkipped: 0,
    remoteExpired: 0,
    journalDropped: 0,
    errors: 0,
    degradedEpisodes: 0,
    reconciliations: 0,
  };
}

/** One hit, from hit() until it has landed in Redis and left its window. */
export interface Hit {
  rule: FleetRule;
  key: string;
  client: string;
  tsMs: number;
  member: string;
  /** Redis has it (its reply came). */
  landed: boolean;
  /** A command carrying it is out. */
  inflight: boolean;
  /** The packet path got its verdict (from Redis within the budget, or locally). */
  decided: boolean;
  /** onThreshold was called for it. */
  fired: boolean;
  sentAt: number;
}

/** A hit as hit() makes it: not yet sent, landed, decided or fired. */
export function newHit(rule: FleetRule, key: string, client: string, tsMs: number, member: string): Hit {
  return {
    rule,
    key,
    client,
    tsMs,
    member,
    landed: false,
    inflight: false,
    decided: false,
    fired: false,
    sentAt: 0,
  };
}
