/**
 * Whether `ns` may name a network namespace we pass to `ip netns exec` or read under /run/netns:
 * letters, digits, `_`, `.`, `-`, at most 63 characters, not starting with `.` or `-` (no option
 * look-alike, no `.`/`..`) and without `..` (no path walk). One rule for the blocker and the live
 * capture: both put the name on a command line and into a path.
 */
export function isNetnsName(ns: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/.test(ns) && !ns.includes('..');
}
