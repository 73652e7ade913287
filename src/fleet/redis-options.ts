import type { RedisOptions } from 'ioredis';

/** The fleet's Redis connection: the URL's options (fleet-url.ts), this policy, then `extra` (tests: a faster reconnect). */
export function fleetRedisOptions(urlOptions: RedisOptions, extra: Partial<RedisOptions> | undefined): RedisOptions {
  return {
    ...urlOptions,
    lazyConnect: true,
    // A command while disconnected fails at once (the hit is decided locally) instead of waiting
    // in ioredis' queue; one that was out when the connection dropped fails too (the journal
    // replays it: ioredis resending it as well would be harmless, but late).
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // Commands issued in one tick of the event loop (a burst of packets) go out in one write.
    enableAutoPipelining: true,
    connectTimeout: 2000,
    // Bounds a replay pipeline on a connection that hangs; live hits have the budget.
    commandTimeout: 5000,
    retryStrategy: (n: number) => Math.min(100 * n, 2000),
    ...extra,
  };
}
