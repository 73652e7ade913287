/**
 * The tarpit's default 451 lines, in the spirit of the iptables recipe this project grew from
 * (its last paragraphs wish for "a series of 451 messages"); our own words. `tarpit_lines:` in the
 * config replaces them.
 */
export const DEFAULT_TARPIT_LINES: readonly string[] = [
  '451 4.3.0 The postmaster is out feeding the pigeons; try again never',
  '451 4.3.0 Your message has been placed in a very long queue behind a snail',
  '451 4.7.1 This server only accepts mail written with a quill pen',
  '451 4.3.0 Greylisted until the heat death of the universe',
  '451 4.4.5 Mailbox is being knitted; please hold',
  '451 4.3.0 The dictionary you are reading from is missing a few pages',
  '451 4.7.0 Computer says no; ask again later, much later',
  '451 4.3.2 Local clocks run on sundial time here and it is cloudy',
];

/** A configured line made safe for the wire: one line, printable ASCII, starting with "451 ". */
export function tarpitLine(text: string): string {
  let t = text.replace(/[^\x20-\x7e]/g, ' ').trim();
  if (!/^451[ -]/.test(t)) t = `451 4.3.0 ${t}`;
  else if (t[3] === '-') t = `451 ${t.slice(4)}`;
  return t.slice(0, 510);
}

/** The defaults of watch's --tarpit-* options (src/options/watch.ts). */
export const TARPIT_DEFAULTS = {
  /** OpenBSD spamd's pace: a 60-byte 451 line holds a bot for a minute, the greeting for half of one. */
  rate: 1,
  decoyRate: 0.1,
  /** endlessh's default. */
  maxConnections: 4096,
  perAddress: 16,
  lifetimeSec: 600,
  idleSec: 120,
  maxLine: 1024,
  user: 'nobody',
  /** The child's V8 heap, MiB: the 4,096 connections measured need far less (native-notes/tarpit.md). */
  heapMb: 64,
} as const;
