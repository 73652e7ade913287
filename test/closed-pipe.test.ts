/**
 * Output into a reader that closes early (`smtpstrike ... | head -1`): every command ends quietly
 * with exit status 0 — no `write EPIPE`, no stack trace — as tcpdump and grep do. The inputs are
 * made here, large enough (50,000 clients; 60,000 log lines) that the CLI is still writing
 * megabytes when head has gone. And an unexpected error is one line, its stack only on request.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { CLI } from './support/cli.js';
import { manyFailuresCapture, postfixLog } from './support/big-inputs.js';
import { tempDir } from './support/synth.js';
import { unexpectedErrorLine } from '../src/io/unexpected.js';

interface PipedRun {
  first: string;
  status: number;
  stderr: string;
}

/**
 * `smtpstrike ARGS | head -1` under `set -o pipefail`: head's line, the CLI's exit status, its
 * stderr. `head -c 200` for an output that is one long line (head -1 would read it all).
 */
function pipedIntoHead(dir: string, args: string[], head = 'head -1'): PipedRun {
  const err = join(dir, 'stderr');
  const quoted = args.map((a) => `'${a}'`).join(' ');
  const script = `set -o pipefail; "${process.execPath}" "${CLI}" ${quoted} 2>"${err}" | ${head}; echo; echo "status=$?"`;
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, timeout: 120_000 });
  const lines = r.stdout.split('\n').filter(Boolean);
  const status = /^status=(\d+)$/.exec(lines[1] ?? '');
  assert.ok(status && lines.length === 2, `unexpected output: ${r.stdout.slice(0, 300)} ${r.stderr}`);
  return { first: lines[0]!, status: Number(status[1]), stderr: readFileSync(err, 'utf8') };
}

/** The size of the full output (a pipe holds 64 KiB: far more means the reader closed mid-write). */
function fullOutputBytes(args: string[]): number {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, TZ: 'UTC' }, maxBuffer: 512 << 20 });
  return r.stdout.length;
}

function assertQuiet(r: PipedRun, what: string): void {
  assert.equal(r.status, 0, `${what}: exit status (stderr: ${r.stderr.slice(0, 500)})`);
  assert.doesNotMatch(r.stderr, /EPIPE|Unhandled|^\s+at /m, `${what}: stderr`);
}

test('replay, report and accounts into | head -1: exit status 0, nothing on stderr', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const capture = await manyFailuresCapture(join(dir, 'clients.pcap'), 50_000);
    const failures = postfixLog(join(dir, 'failures.log'), 60_000, 'failure');
    const logins = postfixLog(join(dir, 'logins.log'), 60_000, 'success');

    const replayText = ['replay', capture];
    assert.ok(fullOutputBytes(replayText) > 4 << 20);
    let r = pipedIntoHead(dir, replayText);
    assertQuiet(r, 'replay');
    assert.equal(r.first, 'Clients with AUTH outcomes: 50000  (failures 50000, successes 0, temporary failures 0)');
    assert.equal(r.stderr, '');

    r = pipedIntoHead(dir, ['replay', '--json', capture]);
    assertQuiet(r, 'replay --json');
    assert.equal((JSON.parse(r.first) as { type: string; client: string }).client, '10.0.0.0');
    assert.equal(r.stderr, '');

    // --limit 0: every account with a login is a SUSPECT line (60,000 of them).
    const reportText = ['report', '-q', '--no-state', '-c', '/dev/null', '-g', '0', '-l', '0', '--tz', 'UTC', '--log-tz', 'UTC', '--log-year', '2026', logins];
    assert.ok(fullOutputBytes(reportText) > 4 << 20);
    r = pipedIntoHead(dir, reportText);
    assertQuiet(r, 'report');
    assert.equal(r.first, 'smtpstrike report: 1 log; times in +00:00');
    assert.equal(r.stderr, '');

    // The JSON report is one object on one line (tens of megabytes here).
    const reportJson = ['report', '-q', '--no-state', '-c', '/dev/null', '-g', '0', '--json', '--log-tz', 'UTC', capture, failures];
    assert.ok(fullOutputBytes(reportJson) > 4 << 20);
    r = pipedIntoHead(dir, reportJson, 'head -c 200');
    assertQuiet(r, 'report --json');
    assert.match(r.first, /^\{"type":"report","version":1,/);
    assert.equal(r.stderr, '');

    const accounts = ['accounts', '-c', '/dev/null', '-g', '0', '-l', '0', '--tz', 'UTC', '--year', '2026', logins];
    assert.ok(fullOutputBytes(accounts) > 4 << 20);
    r = pipedIntoHead(dir, accounts);
    assertQuiet(r, 'accounts');
    assert.equal(r.first, 'Feb 12 -> account user0: 1 IP (Last: 10.0.0.0 @ 00:00:00)');
    assert.equal(r.stderr, '');

    r = pipedIntoHead(dir, [...accounts, '--json']);
    assertQuiet(r, 'accounts --json');
    assert.match(r.first, /^\{"type":"account","day":"2026-02-12","user":"user0",/);
    assert.equal(r.stderr, '');
  } finally {
    cleanup();
  }
});

for (const args of [
  ['replay', '--json', '-'],
  ['dump', '-r', '-'],
]) {
  test(`${args.join(' ')} | head: a reader that goes away ends it even while its input pipe is quiet`, async () => {
    const { dir, cleanup } = tempDir();
    try {
      const capture = await manyFailuresCapture(join(dir, 'clients.pcap'), 20_000);
      const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, TZ: 'UTC' }, stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
      });
      const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
      // The whole capture, then nothing: the writer stays (as `tcpdump -w -` would), so stdin never ends.
      child.stdin.on('error', () => undefined);
      createReadStream(capture).pipe(child.stdin, { end: false });
      await once(child.stdout, 'data');
      child.stdout.destroy(); // the reader goes away, as head does after its line
      const deadline = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const [code, signal] = await exited;
      clearTimeout(deadline);
      child.stdin.destroy();
      assert.equal(signal, null, 'it ended by itself');
      assert.equal(code, 0);
      assert.equal(stderr, '');
    } finally {
      cleanup();
    }
  });
}

test('an unexpected error is one line; its stack trace only with SMTPSTRIKE_DEBUG=1', () => {
  const e = new TypeError('something broke\nsecond line');
  assert.equal(unexpectedErrorLine(e, {}), 'smtpstrike: something broke\n');
  assert.equal(unexpectedErrorLine('a string', {}), 'smtpstrike: a string\n');
  const debug = unexpectedErrorLine(e, { SMTPSTRIKE_DEBUG: '1' });
  assert.match(debug, /^smtpstrike: TypeError: something broke\n/);
  assert.match(debug, /\n\s+at /);
});
