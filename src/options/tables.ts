/**
 * The README's option tables, made from the registry: each command's rows (the options a row
 * covers, and where the README words it differently from --help or groups options) rendered to
 * Markdown between `<!-- options:COMMAND -->` and `<!-- /options:COMMAND -->` in README.md and
 * docs/*.md (scripts/option-tables.ts writes them; a test fails when one differs).
 */
import { COMMAND_OPTIONS } from './all-options.js';
import type { OptionSpec } from './registry.js';

export interface TableRow {
  /** The options of the row (attribute names), in the order the row names them. */
  options: readonly string[];
  /** The option column as Markdown (default: each option's label in backticks, joined by ` / `). */
  label?: string;
  /** The default column (default: each option's, joined by ` / `). */
  default?: string;
  /** The meaning column (default: the one option's `doc`, else its help). */
  doc?: string;
}

const row = (...options: string[]): TableRow => ({ options });

/** The tables the README has (a command without one here gets a row per option, in --help order). */
export const TABLE_ROWS: Readonly<Record<string, readonly TableRow[]>> = {
  replay: [
    row('json'),
    row('summaryOnly'),
    row('threads'),
    row('detailsPerClient'),
    row('ports'),
    { options: ['hitcount', 'seconds'], doc: 'failures within S seconds that block an address' },
    { options: ['connHitcount', 'connSeconds'], doc: 'new connections within S seconds that block an address' },
    row('whitelist'),
    row('ipv6Prefix'),
    row('match'),
    row('tempfailStrikes'),
    row('inferredStrikes'),
    row('escalate'),
    {
      options: ['escalateFactor', 'escalateCap', 'escalateLookback'],
      doc: 'repeat offenders: each earlier block of the address within the lookback S2 multiplies the block time by X, up to S1 seconds',
    },
    row('maxFlows'),
    row('maxStrikeEntries'),
    row('tlsReply'),
    row('tlsRepliesFile'),
    row('maxClients'),
    row('progress'),
  ],
  dump: [
    { options: ['read'], label: '`-r FILE`', default: '', doc: 'pcap or pcapng, `.gz` too, `-` for stdin; repeat for several files (merged in time order)' },
    {
      options: ['interface', 'captureBackend', 'snapshotLength', 'bufferSize'],
      label: '`-i IFACE`',
      default: '',
      doc: `live capture (\`any\` too; \`--capture-backend ${optionOf('dump', 'captureBackend').choices!.join('\\|')}\`, \`-s SNAPLEN\` (${String(optionOf('dump', 'snapshotLength').default)}), \`-B KiB\`)`,
    },
    { options: ['count'], label: '`-c N`', default: 'no limit', doc: 'stop after N packets' },
    { options: ['n'], label: '`-n`, `-nn`', default: '', doc: 'accepted; names are never resolved' },
    { options: ['A', 'X'], label: '`-A`, `-X`', default: 'off', doc: 'payload in ASCII / hex and ASCII, as tcpdump' },
    { options: ['S'], default: 'off', doc: 'absolute TCP sequence numbers' },
    {
      options: ['w'],
      label: '`-w FILE`',
      default: '',
      doc: 'also write the packets shown (after the filter and `-c`) to a pcap file; `replay FILE` gives the same counts',
    },
    { options: ['l'], default: 'off', doc: "write each packet's lines at once" },
    { options: ['smtp'], default: 'off', doc: "tcpdump's lines only" },
    { options: ['redact'], default: 'off', doc: 'no payload text after `length N` in the packet lines (not with `-A`/`-X`)' },
    {
      options: ['ports', 'hitcount'],
      label: '`--ports`, `--hitcount`, …',
      default: 'as replay',
      doc: 'the SMTP ports and strike options of `replay` ([replay.md](replay.md#options))',
    },
  ],
  accounts: [
    row('mode'),
    row('limit'),
    row('user'),
    row('userRegex'),
    { options: ['nodate', 'nouser'], default: 'off', doc: 'one group per account over all days / per day over all accounts' },
    row('geoip'),
    row('geoipDb'),
    row('quiet'),
    row('json'),
    row('tz'),
    row('year'),
    row('stats'),
    row('threads'),
    row('config'),
  ],
  report: [
    { options: ['capture', 'logs', 'state'], default: 'by content', doc: 'inputs, as in [Inputs](#inputs) (repeatable; `--no-state`)' },
    { options: ['logTz', 'logYear'], default: 'estimated', doc: 'zone and year of log timestamps that carry none' },
    row('tz'),
    row('tolerance'),
    row('gap'),
    row('minFailures'),
    { options: ['distributedMin', 'distributedWindow'], doc: 'DISTRIBUTED: addresses, within how long' },
    row('limit'),
    {
      options: ['mode', 'geoip', 'geoipDb'],
      label: '`-m, --mode`, `-g, --geoip`, `--geoip-db`',
      default: 'as accounts',
      doc: 'log formats, GeoIP level and databases',
    },
    row('json'),
    row('html'),
    row('quiet'),
    row('config'),
  ],
};

/** The spec of `option` in `command` (the first, for `--state` / `--no-state`). */
export function optionOf(command: string, option: string): OptionSpec {
  const s = (COMMAND_OPTIONS[command] ?? []).find((o) => o.option === option);
  if (!s) throw new Error(`${command} has no option ${option}`);
  return s;
}

/** `-l, --limit <n>` → `-l, --limit N`. */
function labelOf(s: OptionSpec): string {
  return s.docLabel ?? (s.flags ?? s.option).replace(/ ?<([^>]+)>/, (_, p: string) => ` ${p.toUpperCase()}`);
}

function defaultOf(s: OptionSpec): string {
  if (s.docDefault !== undefined) return s.docDefault;
  const d = s.default;
  if (d === undefined) return '';
  if (d === false) return 'off';
  if (Array.isArray(d)) return d.length === 0 ? 'none' : `\`${d.join(',')}\``;
  if (typeof d === 'string' || typeof d === 'number' || typeof d === 'boolean') return `\`${String(d)}\``;
  // Any other default (none today) needs its own docDefault.
  throw new Error(`option ${s.option}: this default needs docDefault`);
}

function rowsOf(command: string): readonly TableRow[] {
  const rows = TABLE_ROWS[command];
  if (rows) return rows;
  const specs = COMMAND_OPTIONS[command];
  if (!specs) throw new Error(`no options of a command "${command}"`);
  return specs.filter((s) => s.flags).map((s) => row(s.option));
}

/** A Markdown table cell: `|` inside it escaped, as the README writes `0\|1\|2`. */
const cell = (c: string): string => (c === '' ? ' ' : ` ${c} `);

/**
 * The option table of `command` ("blocks-add" for blocks add), as Markdown lines ending in \n;
 * `watch/tarpit`: only the watch options whose name starts with `tarpit` (a page on one feature).
 */
export function renderTable(command: string): string {
  const [cmd, prefix] = command.split('/');
  const name = cmd!.replace('-', ' ');
  const lines = ['| option | default | meaning |', '| --- | --- | --- |'];
  for (const r of rowsOf(name)) {
    if (prefix !== undefined && !r.options.every((o) => o.startsWith(prefix))) continue;
    const specs = r.options.map((o) => optionOf(name, o));
    const label = r.label ?? specs.map((s) => `\`${labelOf(s)}\``).join(' / ');
    const def = r.default ?? specs.map(defaultOf).join(' / ');
    const doc = r.doc ?? specs[0]!.doc ?? specs[0]!.help ?? '';
    lines.push(`|${[label, def, doc].map(cell).join('|')}|`);
  }
  return lines.join('\n') + '\n';
}

export interface MarkedTable {
  command: string;
  /** Offsets of the table text between the markers' lines. */
  start: number;
  end: number;
}

const OPEN = /<!-- options:([a-z/-]+) -->\n/g;

/** The marked tables of a Markdown text; throws on a marker without its end. */
export function markedTables(text: string): MarkedTable[] {
  const out: MarkedTable[] = [];
  for (const m of text.matchAll(OPEN)) {
    const command = m[1]!;
    const start = m.index + m[0].length;
    const close = `<!-- /options:${command} -->`;
    const end = text.indexOf(close, start);
    if (end < 0) throw new Error(`<!-- options:${command} --> without its ${close}`);
    out.push({ command, start, end });
  }
  return out;
}

/**
 * `text` with every marked table rendered from the registry. Blank lines keep the markers out of
 * the table: in GFM a line right after a table may be read as one more row.
 */
export function renderMarkedTables(text: string): string {
  let out = '';
  let at = 0;
  for (const t of markedTables(text)) {
    out += text.slice(at, t.start) + '\n' + renderTable(t.command) + '\n';
    at = t.end;
  }
  return out + text.slice(at);
}
