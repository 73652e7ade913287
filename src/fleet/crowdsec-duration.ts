/**
 * Go's time.Duration text, the only duration format the CrowdSec Local API speaks: it parses a
 * decision's `duration` with time.ParseDuration and prints the remaining time of a decision with
 * Duration.String() (`59m59.004585667s`, `-1.5s` once it has passed). A parser of our own because
 * no other format is involved and the grammar is small: [-+] then (number unit)+, units
 * ns us µs μs ms s m h.
 */

const UNIT_SECONDS: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  μs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

/** Seconds in a Go duration string (may be negative or fractional); null when it is not one. */
export function parseGoDuration(text: string): number | null {
  let i = 0;
  let sign = 1;
  if (text[0] === '-' || text[0] === '+') {
    if (text[0] === '-') sign = -1;
    i = 1;
  }
  if (text.slice(i) === '0') return 0;
  if (i >= text.length) return null;
  let total = 0;
  while (i < text.length) {
    const numStart = i;
    while (i < text.length && ((text[i]! >= '0' && text[i]! <= '9') || text[i] === '.')) i++;
    const num = text.slice(numStart, i);
    if (num === '' || num === '.' || num.indexOf('.') !== num.lastIndexOf('.')) return null;
    const unitStart = i;
    while (i < text.length && !((text[i]! >= '0' && text[i]! <= '9') || text[i] === '.')) i++;
    const mult = UNIT_SECONDS[text.slice(unitStart, i)];
    if (mult === undefined) return null;
    total += Number(num) * mult;
  }
  return sign * total;
}

/** A whole number of seconds as Go accepts it (`3600s`); what we send as a decision's duration. */
export function formatGoSeconds(seconds: number): string {
  return `${Math.max(0, Math.round(seconds))}s`;
}
