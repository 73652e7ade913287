/**
 * `smtpstrike watch --tarpit` as a user runs it (a replay from stdin, --dry-run): the tarpit child
 * listens, a session with it is logged as one `tarpit_session` line with the contract's fields and
 * no password, its counters are on /metrics, and the end of its input ends it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from './support/cli.js';
import { waitFor } from './support/wait.js';

test('watch --tarpit: the child listens, a session is logged and counted on /metrics, the end of its input ends it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tarpit-watch-'));
  const pw = 'NeverInTheLog42';
  const proc = spawn(
    process.execPath,
    [
      CLI,
      'watch',
      '--replay',
      '-',
      '--dry-run',
      '-c',
      '/dev/null',
      '--state-file',
      join(dir, 'state.json'),
      '--tarpit',
      '127.0.0.1:0',
      '--tarpit-rate',
      '100000',
      '--tarpit-decoy-rate',
      '1',
      '--metrics',
      '127.0.0.1:0',
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (d: string) => (out += d));
  proc.stderr.resume();
  const exit = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const lines = (): Record<string, unknown>[] =>
    out
      .slice(0, out.lastIndexOf('\n') + 1)
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const find = (event: string): Record<string, unknown> | undefined => lines().find((l) => l.event === event);
  try {
    await waitFor(() => find('tarpit_listening') !== undefined && find('metrics_listening') !== undefined, 'the tarpit and metrics listening', 30_000);
    const port = find('tarpit_listening')!.port as number;
    const s = connect(port, '127.0.0.1');
    let got = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => (got += d));
    await waitFor(() => got.includes('220 '), 'the greeting');
    s.write(`AUTH PLAIN ${Buffer.from(`\0mallory\0${pw}`).toString('base64')}\r\n`);
    await waitFor(() => got.includes('235 '), 'the decoy 235');
    s.write('MAIL FROM:<x@y>\r\n');
    await waitFor(() => /\r\n451 [^\n]*\r\n$/.test(got), 'a 451 at MAIL');
    s.write('QUIT\r\n');
    await waitFor(() => find('tarpit_session') !== undefined, 'the tarpit_session line');
    const ev = find('tarpit_session')!;
    for (const k of [
      'client',
      'client_port',
      'local_port',
      'started',
      'held_s',
      'bytes_in',
      'bytes_out',
      'commands',
      'auth_attempts',
      'decoy_successes',
      'usernames',
      'usernames_dropped',
      'starttls',
      'end',
    ])
      assert.ok(k in ev, `tarpit_session has ${k}`);
    assert.equal(ev.end, 'quit');
    assert.deepEqual(ev.usernames, ['mallory']);
    assert.equal(ev.decoy_successes, 1);
    const m = find('metrics_listening')!;
    const page = await (await fetch(`http://127.0.0.1:${m.port as number}/metrics`)).text();
    assert.match(page, /^smtpstrike_tarpit_sessions_total\{end="quit"\} 1$/m);
    assert.match(page, /^smtpstrike_tarpit_decoy_successes_total 1$/m);
    assert.match(page, /^smtpstrike_tarpit_auth_attempts_total 1$/m);
    assert.ok(!out.includes(pw) && !out.includes(Buffer.from(pw).toString('base64')), 'the password in the log');
  } finally {
    // The end of stdin ends the replay: watch stops (the tarpit child with it) and exits.
    proc.stdin.end();
    const kill = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    await exit;
    clearTimeout(kill);
    rmSync(dir, { recursive: true, force: true });
  }
});
