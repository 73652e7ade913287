/**
 * The report's whole output, byte for byte, on the shipped inputs: text and `--json` (without
 * `generated_at`) against test/fixtures/report-golden/, written by the report as it was before it
 * joined address by address in bounded memory (issue 15 item 3). A change that moves any byte of
 * these reports fails here; regenerate the files only for an intended change of the output (the
 * commands are the `CASES` below, `-c /dev/null -q -g 0 --no-state --tz UTC`, TZ=UTC).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const CLI = 'dist/src/cli.js';
const DIR = 'test/fixtures/report-golden';
const S = 'test/fixtures/accounts/seed';
const R = 'pcaps/report';

const CASES: [string, string[]][] = [
  ['report', [`${R}/report.pcap`, `${R}/postfix.log`, `${R}/dovecot.log`]],
  ['report-tls', ['pcaps/report-tls/report-tls.pcap', 'pcaps/report-tls/postfix.log', 'pcaps/report-tls/dovecot.log']],
  ['seed-logs', ['--log-year', '2023', `${S}/mail.log`, `${S}/auth.log`, `${S}/mainlog`, `${S}/openwebmail.log`, `${S}/access.log`]],
  ['tarpit', ['--log-year', '2026', 'test/fixtures/tarpit/watch.log', `${R}/postfix.log`, `${R}/dovecot.log`]],
  ['report-rules', ['--limit', '1', '--min-failures', '2', '--distributed-min', '2', `${R}/report.pcap`, `${R}/postfix.log`, `${R}/dovecot.log`]],
];

function run(args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, 'report', '-c', '/dev/null', '-q', '-g', '0', '--no-state', '--tz', 'UTC', ...args], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC' },
    maxBuffer: 64 << 20,
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

for (const [name, args] of CASES) {
  test(`report output unchanged, byte for byte: ${name} (text and --json)`, () => {
    assert.equal(run(args), readFileSync(`${DIR}/${name}.txt`, 'utf8'));
    const doc = JSON.parse(run(['--json', ...args])) as Record<string, unknown>;
    delete doc['generated_at'];
    assert.equal(JSON.stringify(doc, null, 1) + '\n', readFileSync(`${DIR}/${name}.json`, 'utf8'));
  });
}
