import { createHash } from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';

/**
 * One fleet hit, atomically, in Redis: the xt_recent window of one rule for one key is a sorted set
 * (score = the hit's time in ms on the host that saw it, member = a name unique to that hit), and
 * crossing the threshold publishes the block on the fleet's stream in the same step, so no host can
 * count the decisive hit and die before the others hear of it.
 *
 *   KEYS[1] the window         `PREFIX:w:RULE:KEY`
 *   KEYS[2] the block marker   `PREFIX:b:KEY` (until, ms; one per key whichever rule blocked)
 *   KEYS[3] the block stream   `PREFIX:blocks`
 *   ARGV    tsMs windowMs member hitcount maxStamps blockMs nowMs refreshMs streamMaxLen host rule key client
 *
 * 1. ZADD the hit. The member is unique per hit (host, boot nonce, sequence number), so sending the
 *    same hit twice (a reply lost to a timeout, then the replay) counts it once.
 * 2. Trim: ZREMRANGEBYSCORE below `newest - windowMs`, exclusive — a hit exactly `seconds` older than
 *    the newest still counts, as in the kernel (`time_after(now - seconds, stamp)` skips only older
 *    ones) and in our RecentList. Then keep at most maxStamps newest (the kernel keeps 20): memory
 *    and the scan below stay bounded under a flood; counts saturate there (≥ hitcount by far).
 * 3. PEXPIRE = the window: an idle key disappears when its newest hit has left the window.
 * 4. Count: the most hits any window [x - windowMs, x] holds, over the hits x in [ts, ts + windowMs].
 *    For a hit that arrives in order (the live path: no newer stamp) that is the one window ending
 *    at it, i.e. the ZCARD after the trim, and the script reads nothing more. For a hit replayed
 *    late (reconciliation after Redis was away) it is what the fleet's later hits would have
 *    counted had this one arrived in time — so the threshold the fleet would have reached is
 *    reached now. A window ending before the hit never held it, so it is not counted (nor are hits
 *    more than a window apart). A replayed hit more than a window older than the key's newest
 *    stamp is trimmed at once and counts for nothing: a block the fleet would have started more
 *    than a window before the newest hit is not made up for (the local verdict stood meanwhile).
 * 5. If some such window holds ≥ hitcount hits and the block (latest such x + blockMs) still runs at
 *    nowMs: publish it (XADD, stream capped at ~streamMaxLen) unless the marker says an equal block
 *    (within refreshMs) was already published: one message per block, one more each time a host that
 *    keeps hammering extends it by a quarter.
 * Returns { count, untilMs (0: below the threshold), published (1/0) }.
 */
export const WINDOW_HIT_LUA = `
local ts = tonumber(ARGV[1])
local w = tonumber(ARGV[2])
local hit = tonumber(ARGV[4])
local cap = tonumber(ARGV[5])
redis.call('ZADD', KEYS[1], ts, ARGV[3])
local newest = tonumber(redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (newest - w))
local n = redis.call('ZCARD', KEYS[1])
if n > cap then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(cap + 1)); n = cap end
redis.call('PEXPIRE', KEYS[1], w)
local best, lastEnd = n, nil
if ts >= newest then
  -- In order (the live path): the one window that ends at this hit is the whole trimmed set.
  if n >= hit then lastEnd = ts end
else
  best = 0
  local s = redis.call('ZRANGEBYSCORE', KEYS[1], ts - w, ts + w, 'WITHSCORES')
  local i = 2
  for j = 2, #s, 2 do
    local x = tonumber(s[j])
    if x >= ts then
      while tonumber(s[i]) < x - w do i = i + 2 end
      local c = (j - i) / 2 + 1
      if c > best then best = c end
      if c >= hit then lastEnd = x end
    end
  end
end
if not lastEnd then return { best, 0, 0 } end
local untilMs = lastEnd + tonumber(ARGV[6])
local now = tonumber(ARGV[7])
if untilMs <= now then return { best, tostring(untilMs), 0 } end
local cur = tonumber(redis.call('GET', KEYS[2]) or '0')
if untilMs <= cur + tonumber(ARGV[8]) then return { best, tostring(untilMs), 0 } end
redis.call('SET', KEYS[2], tostring(untilMs), 'PX', math.ceil(untilMs - now))
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[9], '*', 'host', ARGV[10], 'rule', ARGV[11], 'key', ARGV[12],
  'client', ARGV[13], 'from', tostring(lastEnd), 'until', tostring(untilMs), 'count', tostring(best))
return { best, tostring(untilMs), 1 }
`;

export const WINDOW_HIT_SHA = createHash('sha1').update(WINDOW_HIT_LUA).digest('hex');

/** What the script answered for one hit. */
export interface WindowResult {
  count: number;
  /** When the block ends (ms since the epoch, the hosts' clock); 0 below the threshold. */
  untilMs: number;
  published: boolean;
}

/** The script's arguments for one hit, in ARGV order after the three keys. */
export type WindowHitArgs = [keys: [string, string, string], argv: (string | number)[]];

/** Reads the script's reply (Lua numbers come back as integers: the until is sent as a string). */
export function windowResult(reply: unknown): WindowResult {
  if (!Array.isArray(reply) || reply.length !== 3) throw new Error(`fleet: unexpected script reply ${JSON.stringify(reply)}`);
  return { count: Number(reply[0]), untilMs: Number(reply[1]), published: Number(reply[2]) === 1 };
}

/** Runs one hit (EVALSHA, loading the script on NOSCRIPT: after a Redis restart its cache is empty). */
export async function runWindowHit(redis: Redis, [keys, argv]: WindowHitArgs): Promise<WindowResult> {
  try {
    return windowResult(await redis.evalsha(WINDOW_HIT_SHA, 3, ...keys, ...argv));
  } catch (e) {
    if (!(e instanceof Error) || !e.message.startsWith('NOSCRIPT')) throw e;
    return windowResult(await redis.eval(WINDOW_HIT_LUA, 3, ...keys, ...argv));
  }
}

/** Queues one hit on a pipeline (the caller has made sure the script is loaded: SCRIPT LOAD first). */
export function pipeWindowHit(p: ChainableCommander, [keys, argv]: WindowHitArgs): void {
  p.evalsha(WINDOW_HIT_SHA, 3, ...keys, ...argv);
}
