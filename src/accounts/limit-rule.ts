/**
 * The accounts `--limit` rule, for `smtpstrike accounts` (src/accounts/account-groups.ts) and the
 * report's SUSPECT verdict (src/report/rules.ts). A group is one account's logins on one day:
 *
 *   limit N > 0   listed when it has ≥ N distinct addresses that are not whitelisted; only those
 *                 are shown;
 *   limit 0       listed when it has at least one address that is not whitelisted; only those
 *                 are shown;
 *   limit -N      listed when it has ≥ N distinct addresses, whitelisted ones included; all are
 *                 shown (whitelisted ones marked by the caller).
 *
 * Returns the group's addresses to show when it is listed, null when it is not. A group with
 * fewer addresses than the limit needs is refused before any whitelist test (which may look up
 * GeoIP); `addresses` is not changed.
 */
export function listedByLimit<T>(limit: number, addresses: readonly T[], isWhitelisted: (a: T) => boolean): T[] | null {
  const need = limit < 0 ? -limit : Math.max(limit, 1);
  if (addresses.length < need) return null;
  const shown = limit < 0 ? addresses.slice() : addresses.filter((a) => !isWhitelisted(a));
  return shown.length >= need ? shown : null;
}
