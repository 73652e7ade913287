/**
 * The report page's CSS and scripts as files (src/report/page/): checked by tsc like code, read
 * from the package whatever the working directory, and inlined as the page carried them before
 * (header and JSDoc lines cut; the byte-for-byte comparison with the old inline strings was made
 * when they moved, and test/report-html.test.ts runs the page in a browser).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pageFiles, pageText } from '../src/report/page-files.js';

test('page text: the header up to the first blank line is cut; a line holding only a JSDoc comment goes with its line breaks', () => {
  assert.equal(
    pageText('// @ts-check\n// what it is\n\n(function(){var a=1;\n/** @param {string} m */\nfunction f(m){}\n})();\n'),
    '\n(function(){var a=1;function f(m){}\n})();\n',
  );
  assert.equal(pageText('// h\n\nx;\n\n/**\n * @param {string} a\n * @param {number} b\n */\nfunction g(a,b){}\n'), '\nx;\nfunction g(a,b){}\n');
  assert.equal(pageText('// h\r\n\r\nx;\r\n'), '\nx;\n', 'CRLF checkouts give the same page');
  assert.throws(() => pageText('// no blank line\nx;\n'), /no blank line after its header/);
  assert.throws(() => pageText('// h\n\nx;\n/** @type {number} */ var y;\n'), /does not end a line/);
});

test('page files: what the page carries has no checker comment or JSDoc; CSS and scripts as the page had them', () => {
  const p = pageFiles();
  for (const t of [p.css, p.errorsScript, p.mainScript]) {
    assert.ok(!t.includes('@ts-check') && !t.includes('/**') && !t.includes('@param'));
    assert.ok(t.startsWith('\n') && t.endsWith('\n'));
  }
  assert.ok(p.css.startsWith('\n:root{--fg:#1b1b1f;'));
  assert.ok(p.errorsScript.startsWith('\n(function(){var n=0;function add(m){n++;'));
  assert.ok(p.mainScript.includes("function apply(){var on={};Array.prototype.forEach.call(document.querySelectorAll('#filters input')"));
  assert.ok(p.mainScript.includes("s.innerHTML='';function part(txt,v,p){"));
});

test('page files: the scripts pass tsc with checkJs (src/report/page/tsconfig.json)', { timeout: 120_000 }, () => {
  const r = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'src/report/page'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('page files: the built command finds them from any working directory', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'smtpstrike-page-'));
  try {
    const html = join(dir, 'r.html');
    const inputs = ['report.pcap', 'postfix.log', 'dovecot.log'].map((f) => resolve('pcaps/report', f));
    const r = spawnSync(process.execPath, [resolve('dist/src/cli.js'), 'report', '-c', '/dev/null', '--no-state', '-q', '-g', '0', '--html', html, ...inputs], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC' },
    });
    assert.equal(r.status, 0, r.stderr);
    const page = readFileSync(html, 'utf8');
    const p = pageFiles();
    assert.ok(page.includes(`<style>${p.css}</style><script>${p.errorsScript}</script></head>`));
    assert.ok(page.includes(`<script>${p.mainScript}</script>\n</body></html>`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
