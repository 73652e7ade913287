/**
 * The option registry (src/options/): every command's options are made from it, and the command
 * line and the config file accept and refuse the same values of every option that has a config
 * key (issue 12: ranges had been written twice and had drifted). The README's option tables are
 * rendered from it too, and must be what README.md and docs/*.md hold.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Command, Option } from 'commander';
import { accountsCommand } from '../src/commands/accounts.js';
import { blocksCommand } from '../src/commands/blocks.js';
import { calibrateCommand } from '../src/commands/calibrate.js';
import { dumpCommand } from '../src/commands/dump.js';
import { replayCommand } from '../src/commands/replay.js';
import { reportCommand } from '../src/commands/report.js';
import { watchCommand } from '../src/commands/watch.js';
import { parseConfigFile } from '../src/config/config-file.js';
import { ACCOUNTS_KEYS, COMMAND_OPTIONS, CONFIG_KEYS, LIVE_KEYS, RESTART_KEYS } from '../src/options/all-options.js';
import { PIPELINE_OPTIONS } from '../src/options/pipeline.js';
import type { OptionSpec } from '../src/options/registry.js';
import { markedTables, renderMarkedTables, renderTable, TABLE_ROWS } from '../src/options/tables.js';
import { markdownFiles } from '../scripts/option-tables.js';

const COMMANDS: Record<string, () => Command> = {
  replay: replayCommand,
  watch: watchCommand,
  dump: dumpCommand,
  report: reportCommand,
  accounts: accountsCommand,
  blocks: () => blocksCommand().commands.find((c) => c.name() === 'del')!,
  'blocks list': () => blocksCommand().commands.find((c) => c.name() === 'list')!,
  'blocks add': () => blocksCommand().commands.find((c) => c.name() === 'add')!,
  calibrate: calibrateCommand,
};

test("every command's options are the registry's: flags, help and default, in order", () => {
  for (const [name, make] of Object.entries(COMMANDS)) {
    const opts = make().options;
    const specs = (COMMAND_OPTIONS[name] ?? []).filter((s) => s.flags);
    // blocks add and list have the common options too, then their own.
    const want = name === 'blocks add' || name === 'blocks list' ? [...COMMAND_OPTIONS.blocks!, ...specs] : specs;
    assert.deepEqual(
      opts.map((o) => o.flags),
      want.map((s) => s.flags),
      name,
    );
    for (const [i, s] of want.entries()) {
      assert.equal(opts[i]!.description, s.help, `${name} ${s.flags}: help`);
      assert.deepEqual(opts[i]!.defaultValue, s.default, `${name} ${s.flags}: default`);
    }
  }
});

/** The command line's reading of `v`, or 'refused'. */
function cli(opt: Option, v: string): unknown {
  try {
    return opt.parseArg ? opt.parseArg(v, opt.defaultValue) : v;
  } catch {
    return 'refused';
  }
}

/** The config file's reading of `key: v` (`accounts.key` inside its section), or 'refused'. */
function file(key: string, v: string): unknown {
  const inAccounts = key.startsWith('accounts.');
  const text = inAccounts ? `accounts:\n  ${key.slice(9)}: ${v}\n` : `${key}: ${v}\n`;
  try {
    const f = parseConfigFile(text, 'c.yaml');
    const spec = inAccounts ? ACCOUNTS_KEYS[key.slice(9)]! : CONFIG_KEYS[key]!;
    return (inAccounts ? f.accounts.options : f.options).get(spec.option);
  } catch {
    return 'refused';
  }
}

/** The values to try on both sides: each bound and its neighbour outside, and some that are no number. */
function probes(s: OptionSpec): string[] {
  switch (s.kind) {
    case 'int':
    case 'decimal':
    case 'bytes': {
      const out = ['abc', '""', '1.5', '-1', '0'];
      if (s.min !== undefined) out.push(String(s.min - 1), String(s.min), String(s.min + 1));
      if (s.max !== undefined) out.push(String(s.max - 1), String(s.max), String(s.max + 1));
      return out;
    }
    case 'string':
      // A `check` reads what the text names (the TLS replies file) on the command line only.
      return [...(s.choices ?? (s.check ? [] : ['/var/x'])), ...(s.choices ? ['nope'] : []), '""'];
    case 'zone':
      return ['local', 'UTC', '"+01:00"', '"-05:30"', 'Mars', '""'];
    default:
      return [];
  }
}

/** `v` as the command line gets it (YAML quotes taken off). */
const unquote = (v: string): string => (v.startsWith('"') ? (JSON.parse(v) as string) : v);

test('for every option with a config key, the command line and the config file accept and refuse the same values (bounds and their neighbours)', () => {
  let checked = 0;
  for (const [name, make] of Object.entries(COMMANDS)) {
    const cmd = make();
    for (const s of COMMAND_OPTIONS[name] ?? []) {
      if (!s.flags || s.config === undefined) continue;
      const opt = cmd.options.find((o) => o.flags === s.flags)!;
      for (const v of probes(s)) {
        const onCli = cli(opt, unquote(v));
        const inFile = file(s.config, v);
        // A list-valued key takes one value per item on the command line.
        assert.deepEqual(onCli, inFile, `${name} ${s.flags} ${v} / ${s.config}: ${v}`);
        checked++;
      }
    }
  }
  assert.ok(checked > 150, `${checked} values checked`);
});

test('an option that reads a config key checks it as the key does (report --log-year as accounts.year)', () => {
  for (const [name, specs] of Object.entries(COMMAND_OPTIONS)) {
    for (const s of specs) {
      if (s.config === undefined) continue;
      const key = s.config.startsWith('accounts.') ? ACCOUNTS_KEYS[s.config.slice(9)] : CONFIG_KEYS[s.config];
      assert.ok(key, `${name} ${s.option}: config key ${s.config} exists`);
      assert.deepEqual([s.kind, s.min, s.max, s.choices], [key.kind, key.min, key.max, key.choices], `${name} ${s.option} / ${s.config}`);
    }
  }
});

test('the ranges that had drifted apart stay one (issue 12)', () => {
  const opt = (make: () => Command, flags: string): Option => make().options.find((o) => o.flags === flags)!;
  // Each was accepted on one side and refused on the other (or by the firewall at every block).
  assert.equal(cli(opt(accountsCommand, '-l, --limit <n>'), '100001'), 'refused', "accounts --limit: the config's ±100000");
  assert.equal(cli(opt(accountsCommand, '--year <yyyy>'), '1969'), 'refused', "accounts --year: the config's 1970..9999");
  assert.equal(cli(opt(reportCommand, '--log-year <yyyy>'), '0001'), 'refused', "report --log-year: accounts.year's range");
  assert.equal(cli(opt(watchCommand, '--block-seconds <n>'), '2147484'), 'refused', 'watch --block-seconds: what every blocker takes');
  assert.equal(file('block_seconds', '31536000'), 'refused', 'block_seconds: likewise');
  assert.equal(cli(opt(watchCommand, '--block-seconds <n>'), '2147483'), 2147483);
  assert.equal(cli(opt(watchCommand, '-i, --interface <name>'), ''), 'refused', 'watch -i "": refused as interface: "" is');
  assert.equal(cli(opt(accountsCommand, '--tz <zone>'), ''), 'refused', 'accounts --tz "": refused as tz: "" is (it was read as local)');
  assert.equal(file('accounts.tz', 'Mars'), 'refused', 'accounts.tz checked in the file, with its line');
  assert.throws(() => parseConfigFile('hitcount: 3\naccounts:\n  tz: Mars\n', 'c.yaml'), /c\.yaml:3: accounts\.tz:/);
  // dump -B is KiB with no config key: at most watch's buffer_size in bytes (what libpcap takes).
  const kib = opt(dumpCommand, '-B, --buffer-size <KiB>');
  assert.equal(cli(kib, '2097152'), 'refused', '2^31 bytes: more than libpcap takes');
  assert.equal((cli(kib, '2097151') as number) * 1024 <= CONFIG_KEYS.buffer_size!.max!, true);
});

test("every top-level config key is watch's and says whether a SIGHUP applies it", () => {
  const watch = COMMAND_OPTIONS.watch!;
  for (const key of Object.keys(CONFIG_KEYS)) {
    const s = watch.find((o) => o.config === key);
    assert.ok(s, `${key}: a watch option`);
    assert.ok(s.reload === 'live' ? LIVE_KEYS.includes(key) : RESTART_KEYS.includes(key), `${key}: ${s.reload}`);
  }
});

test("the option tables in README.md and docs/*.md are the registry's (node dist/scripts/option-tables.js --write)", () => {
  const seen = new Set<string>();
  for (const f of markdownFiles('.')) {
    const text = readFileSync(f, 'utf8');
    for (const t of markedTables(text)) {
      seen.add(t.command);
      assert.equal(text.slice(t.start, t.end), `\n${renderTable(t.command)}\n`, `${f}: the ${t.command} table`);
    }
    assert.equal(renderMarkedTables(text), text, f);
  }
  for (const c of Object.keys(TABLE_ROWS)) assert.ok(seen.has(c), `the ${c} table is marked in README.md or docs/*.md`);
});

test('every option of a command with a table is in it (dump and report: the pipeline options by reference)', () => {
  for (const [name, rows] of Object.entries(TABLE_ROWS)) {
    const listed = new Set(rows.flatMap((r) => r.options));
    for (const s of COMMAND_OPTIONS[name] ?? []) {
      if (!s.flags || ((name === 'dump' || name === 'report') && PIPELINE_OPTIONS.includes(s))) continue;
      assert.ok(listed.has(s.option), `${name} ${s.flags} is in its README table`);
    }
  }
});

test('a table renders from the registry: the default column follows a changed default', () => {
  assert.match(renderTable('accounts'), /\| `--threads N` \| the number of cores \|/);
  assert.match(renderTable('replay'), /\| `--hitcount N` \/ `--seconds S` \| `3` \/ `1200` \|/);
  assert.match(renderTable('watch'), /\| `--stats-interval S` \| `60` \| how often capture and blocker health is logged \|/);
});
