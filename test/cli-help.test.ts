/**
 * Lazy loading (issue 15 item 5) moved every command's implementation behind a dynamic import():
 * what the CLI prints for `--help` of every command and subcommand, `help`, `--version` and an
 * unknown option must stay byte for byte what it printed before (test/fixtures/cli-help/, made by
 * `node dist/scripts/help-texts.js --write` from the build before the change). A deliberate change
 * of a help text (a new option) rewrites the fixture with that command.
 *
 * And `--help` must not load what only running a command needs: the modules it loads are listed by
 * a loader hook and checked against the heavy ones.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { collectHelpTexts, HELP_FIXTURE_DIR } from '../scripts/help-texts.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(root, 'dist', 'src', 'cli.js');

test('help texts: every command and subcommand, byte for byte as before lazy loading', () => {
  const texts = collectHelpTexts(CLI);
  const fixture = readdirSync(HELP_FIXTURE_DIR)
    .filter((f) => f.endsWith('.txt'))
    .map((f) => f.slice(0, -4))
    .sort();
  assert.deepEqual([...texts.keys()].sort(), fixture, 'the same commands and subcommands');
  assert.ok(texts.size >= 30, `${texts.size} texts`);
  for (const [name, text] of texts) assert.equal(text, readFileSync(join(HELP_FIXTURE_DIR, `${name}.txt`), 'utf8'), name);
});

/** The files (project-relative) and packages a CLI run loads: ESM through a loader hook, CommonJS through NODE_DEBUG=module. */
function loaded(args: string[]): { files: string[]; packages: Set<string> } {
  const hook =
    'data:text/javascript,' +
    encodeURIComponent(
      "import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent('export async function load(u, c, n) { process.stderr.write(\"LOADED \" + u + \"\\\\n\"); return n(u, c); }'));",
    );
  const r = spawnSync(process.execPath, ['--import', hook, CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NODE_DEBUG: 'module' },
    maxBuffer: 1 << 26,
  });
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  const files: string[] = [];
  const packages = new Set<string>();
  for (const line of r.stderr.split('\n')) {
    const m = /^LOADED file:\/\/(.*)$/.exec(line);
    const path = m ? m[1]! : /load "([^"]+)"/.exec(line)?.[1];
    if (path === undefined || !path.startsWith('/')) continue;
    const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
    if (nm) packages.add(nm[1]!);
    else if (path.startsWith(root)) files.push(path.slice(root.length));
  }
  return { files, packages };
}

test('--help loads commander and the option registry, not the pipeline, the commands’ implementations or the heavy packages', () => {
  const { files, packages } = loaded(['--help']);
  assert.deepEqual([...packages].sort(), ['commander']);
  const bad = files.filter(
    (f) =>
      /-run\.js$|^dist\/src\/(pipeline|replay)\.js$|^dist\/src\/(report|geoip|source|decode|reassembly|smtp|live|status|dump|logfollow|blocker\/index)/.test(
        f,
      ) ||
      (f.startsWith('dist/src/fleet/') && f !== 'dist/src/fleet/fleet-url.js'),
  );
  assert.deepEqual(bad, []);
  assert.ok(files.includes('dist/src/options/all-options.js'), 'the registry is loaded');
});

test('replay of a small capture loads the pipeline, not GeoIP, pino, yaml, prom-client, ioredis, selfsigned, cap or the report', () => {
  const capture = join(root, 'pcaps', 'crafted', 'link-ipv4.pcap');
  assert.ok(existsSync(capture));
  const { files, packages } = loaded(['replay', capture]);
  for (const p of ['maxmind', 'pino', 'yaml', 'prom-client', 'ioredis', 'selfsigned', 'cap', 'mmdb-lib']) assert.ok(!packages.has(p), `${p} not loaded`);
  assert.ok(files.includes('dist/src/pipeline.js'));
  // Beyond what --help loads: the pipeline's rooms, replay's output and its implementation only
  // (and the idle-core reading that decides where --json's lines are written).
  const help = new Set(loaded(['--help']).files);
  const extra = files.filter((f) => !help.has(f));
  const allowed =
    /^dist\/src\/((source|decode|reassembly|smtp|strikes|net|tls|text|replay-output)\/|(pipeline|replay|events)\.js$|commands\/(replay-run|pipeline-flags)\.js$|io\/spare-cores\.js$)/;
  assert.deepEqual(
    extra.filter((f) => !allowed.test(f)),
    [],
  );
});
