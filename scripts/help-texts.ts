/**
 * What the CLI prints for `--help` (every command and subcommand), `help`, `--version` and an
 * unknown option, as the fixture `test/cli-help.test.ts` compares byte for byte
 * (test/fixtures/cli-help/):
 *
 *   node dist/scripts/help-texts.js           # check: exit 1 naming each text that differs
 *   node dist/scripts/help-texts.js --write   # rewrite the fixture from this build
 *
 * The commands are found by walking the `Commands:` sections of the help texts themselves, from
 * `smtpstrike --help` down, so a command that loses or gains a subcommand shows in its parent's text.
 * Each text comes from its own process (`node dist/src/cli.js ARGS`), with stdout a pipe (80
 * columns) and the one machine-dependent default, `accounts --threads` (the number of cores),
 * pinned to 2 by a preload.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const HELP_FIXTURE_DIR = join(root, 'test', 'fixtures', 'cli-help');
const CLI = join(root, 'dist', 'src', 'cli.js');

/** Pins os.availableParallelism() (accounts' --threads default) so the texts are the same on any machine. */
const PIN_CORES =
  'data:text/javascript,' +
  encodeURIComponent(
    "import os from 'node:os'; import { syncBuiltinESMExports } from 'node:module'; os.availableParallelism = () => 2; syncBuiltinESMExports();",
  );

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], cli = CLI): CliRun {
  const env = { ...process.env };
  delete env['NODE_OPTIONS'];
  delete env['COLUMNS'];
  delete env['FORCE_COLOR'];
  const r = spawnSync(process.execPath, ['--import', PIN_CORES, cli, ...args], { encoding: 'utf8', env, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The subcommand names listed in a help text's `Commands:` section (without `help`). */
export function subcommandsOf(help: string): string[] {
  const at = help.indexOf('\nCommands:\n');
  if (at < 0) return [];
  const names: string[] = [];
  for (const line of help.slice(at + '\nCommands:\n'.length).split('\n')) {
    if (line === '' || !line.startsWith('  ')) break;
    const m = /^ {2}(\S+)/.exec(line);
    if (m && m[1] !== 'help') names.push(m[1]!);
  }
  return names;
}

/** Fixture file name → the text it must hold (the exit status on the first line). */
export function collectHelpTexts(cli = CLI): Map<string, string> {
  const texts = new Map<string, string>();
  const record = (name: string, r: CliRun): void => {
    texts.set(name, `exit ${r.status}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`);
  };
  record('version', runCli(['--version'], cli));
  record('help', runCli(['help'], cli));
  const walk = (path: string[]): void => {
    const name = path.length === 0 ? 'smtpstrike' : path.join('-');
    const r = runCli([...path, '--help'], cli);
    record(`${name}.help`, r);
    if (path.length > 0) record(`${name}.bad-option`, runCli([...path, '--no-such-option-x'], cli));
    for (const sub of subcommandsOf(r.stdout)) walk([...path, sub]);
  };
  walk([]);
  return texts;
}

function main(argv: string[]): number {
  const texts = collectHelpTexts();
  if (argv.includes('--write')) {
    if (existsSync(HELP_FIXTURE_DIR)) rmSync(HELP_FIXTURE_DIR, { recursive: true });
    mkdirSync(HELP_FIXTURE_DIR, { recursive: true });
    for (const [name, text] of texts) writeFileSync(join(HELP_FIXTURE_DIR, `${name}.txt`), text);
    process.stdout.write(`help-texts: wrote ${texts.size} texts to ${HELP_FIXTURE_DIR}\n`);
    return 0;
  }
  let bad = 0;
  const have = existsSync(HELP_FIXTURE_DIR) ? readdirSync(HELP_FIXTURE_DIR).filter((f) => f.endsWith('.txt')) : [];
  for (const f of have) {
    if (texts.has(f.slice(0, -4))) continue;
    bad++;
    process.stdout.write(`help-texts: ${f} is no longer printed\n`);
  }
  for (const [name, text] of texts) {
    const file = join(HELP_FIXTURE_DIR, `${name}.txt`);
    if (existsSync(file) && readFileSync(file, 'utf8') === text) continue;
    bad++;
    process.stdout.write(`help-texts: ${name} differs\n`);
  }
  process.stdout.write(bad ? `help-texts: ${bad} of ${texts.size} differ (--write rewrites them)\n` : `help-texts: ${texts.size} texts identical\n`);
  return bad ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2));
