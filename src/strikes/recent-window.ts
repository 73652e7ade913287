/**
 * The one xt_recent window test, for the strike engine (each ring's stamps) and the report (which
 * predicts from wire and log failures whether the engine would have blocked an address).
 *
 * xt_recent skips a stamp only when `time_after(now - seconds, stamp)`, so a hit exactly
 * `seconds` old still counts. Written as `stamp >= now - seconds`, the engine's form since its
 * first version: with fractional stamps the float result of `now - stamp <= seconds` can differ in
 * the last bit (996.349 and 2196.349 with 1200 s: the difference reads 1200, the window start
 * 996.3490000000002), and the report must say what the engine does.
 */
export function inRecentWindow(stamp: number, now: number, seconds: number): boolean {
  return stamp >= now - seconds;
}

/** Whether the sorted times hold `n` hits inside one window of `seconds` (the `--hitcount n` test at the n-th hit). */
export function reachesHitcount(times: readonly number[], n: number, seconds: number): boolean {
  for (let i = 0; i + n - 1 < times.length; i++) if (inRecentWindow(times[i]!, times[i + n - 1]!, seconds)) return true;
  return false;
}
