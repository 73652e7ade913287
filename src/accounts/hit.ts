/**
 * What a format parser returns for one line: a verdict, and for successes and failures the
 * fields it filled in a reused `Hit` (no allocation for the many lines that carry nothing).
 */

export const IGNORED = 0;
export const SUCCESS = 1;
export const FAILURE = 2;
export const UNPARSEABLE = 3;
export type Verdict = typeof IGNORED | typeof SUCCESS | typeof FAILURE | typeof UNPARSEABLE;

export interface Hit {
  user: string | null;
  /** Canonical client address (see ip.ts). */
  ip: string;
  method: string | undefined;
  reason: string | undefined;
  /** Set by the parsers of formats that carry their own timestamp (Apache, OpenWebMail, Exim). */
  ts: number;
  tsGuessed: boolean;
}

export function newHit(): Hit {
  return { user: null, ip: '', method: undefined, reason: undefined, ts: 0, tsGuessed: true };
}

/** Resets the per-line fields. */
export function clearHit(h: Hit): void {
  h.user = null;
  h.ip = '';
  h.method = undefined;
  h.reason = undefined;
}

/** Empty names (`user=<>`, `Invalid user  from`) become null. */
export function userOrNull(u: string | undefined): string | null {
  return u === undefined || u === '' ? null : u;
}
