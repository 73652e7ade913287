/**
 * Issue 13 item 6, as a user would run it: three `smtpstrike watch --replay - --dry-run --fleet …`
 * processes on one real redis-server, each fed (on its standard input, kept open) the capture of
 * one mail host on which one attacker failed AUTH once. The third failure reaches the auth rule's
 * threshold fleet-wide and every host blocks the attacker; a watch without the fleet, fed the same
 * host's capture, blocks nothing (1 of 3). The captures are stamped at the test's own clock
 * (a fleet block ends at packet time + block length: an old capture's would be over already).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { test } from 'node:test';
import { haveRedisServer, RedisServer } from './support/redis-server.js';
import { FrameList, loginSession, tempDir } from './support/synth.js';
import { waitFor } from './support/wait.js';

const CLI = resolve('dist/src/cli.js');
const ATTACKER = '203.0.113.66';
const LONG = 60_000;

interface Host {
  name: string;
  proc: ChildProcessByStdio<Writable, Readable, Readable>;
  lines: Record<string, unknown>[];
  exit: Promise<number | null>;
}

function startWatch(dir: string, name: string, extra: string[]): Host {
  const proc = spawn(
    process.execPath,
    [CLI, 'watch', '--replay', '-', '--dry-run', '-c', '/dev/null', '--state-file', join(dir, `${name}.state.json`), ...extra],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const lines: Record<string, unknown>[] = [];
  let buf = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const l = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        lines.push(JSON.parse(l) as Record<string, unknown>);
      } catch {
        lines.push({ text: l });
      }
    }
  });
  proc.stderr.resume();
  const exit = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { name, proc, lines, exit };
}

const blocked = (h: Host): boolean => h.lines.some((l) => l.backend === 'dry-run' && l.op === 'add' && l.addr === ATTACKER);
const struck = (h: Host): boolean => h.lines.some((l) => l.event === 'strike' && (l.client === ATTACKER || l.src === ATTACKER));

/** One failed AUTH LOGIN of the attacker on mail host `server`, at `t0` (µs). */
async function hostCapture(dir: string, name: string, server: string, t0: number): Promise<Buffer> {
  const f = new FrameList();
  loginSession(f.conversation('en10mb', ATTACKER, 40000, server, 587), t0, 'info', '535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6\r\n');
  return readFileSync(await f.write(join(dir, `${name}.pcap`)));
}

test('three watch --replay --fleet processes, one failure each: all three block at the third; alone, none', async (t) => {
  if (!haveRedisServer()) {
    process.stderr.write('SKIPPED LOUDLY: fleet-watch-replay needs redis-server (scripts/install-deps.sh fleet)\n');
    t.skip('no redis-server');
    return;
  }
  const tmp = tempDir();
  const redis = await RedisServer.start();
  const now = Date.now() * 1000;
  const caps = await Promise.all(['mx1', 'mx2', 'mx3'].map((n, i) => hostCapture(tmp.dir, n, `192.0.2.${10 + i}`, now - (60 - 10 * i) * 1e6)));
  const fleet = (name: string): string[] => ['--fleet', redis.url, '--fleet-host', name];
  const hosts = ['mx1', 'mx2', 'mx3'].map((n) => startWatch(tmp.dir, n, fleet(n)));
  try {
    for (const h of hosts) await waitFor(() => h.lines.some((l) => l.event === 'fleet_start'), `${h.name} started its fleet link`, LONG);
    for (const [i, h] of hosts.entries()) {
      h.proc.stdin.write(caps[i]!);
      await waitFor(() => struck(h), `${h.name}: the attacker's failure struck`, LONG);
      if (i < 2) {
        // Give the fleet's answer time to come back before saying "not blocked": the previous hosts are checked again below.
        await new Promise((r) => setTimeout(r, 500));
        for (const p of hosts.slice(0, i + 1)) assert.ok(!blocked(p), `${p.name}: not blocked after ${i + 1} of 3 failures`);
      }
    }
    for (const h of hosts) await waitFor(() => blocked(h), `${h.name} blocks ${ATTACKER} (fleet-wide third failure)`, LONG);
    assert.ok(
      hosts[2]!.lines.some((l) => l.event === 'block' && l.key === ATTACKER),
      'mx3 reached the threshold itself',
    );
    for (const h of hosts.slice(0, 2))
      assert.ok(
        h.lines.some((l) => l.event === 'fleet_block' && l.from_host === 'mx3' && l.key === ATTACKER),
        `${h.name} applied mx3's block`,
      );
    for (const h of hosts) h.proc.stdin.end();
    for (const h of hosts) assert.equal(await h.exit, 0, `${h.name} exits 0 at the end of its capture`);

    // The same host without the fleet: one failure of three, no block.
    const alone = startWatch(tmp.dir, 'alone', []);
    alone.proc.stdin.end(caps[0]!);
    assert.equal(await alone.exit, 0);
    assert.ok(struck(alone), 'the failure struck');
    assert.ok(!blocked(alone), 'one host alone does not block (1 of 3)');
  } finally {
    for (const h of hosts) if (h.proc.exitCode === null) h.proc.kill('SIGKILL');
    await redis.stop();
    tmp.cleanup();
  }
});
