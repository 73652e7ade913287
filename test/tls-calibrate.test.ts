/**
 * `smtpstrike calibrate` (issue 10 item 3). Without root: the target parsing, the refusal of a host
 * that is not this machine's, clear errors (connection refused, no STARTTLS). As root: against the
 * real TLS-only Postfix + Dovecot of the test bed in network namespaces (scripts/testbed/calibrate-run.sh),
 * then every shipped TLS capture replayed with the saved file infers exactly its truth.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitTarget } from '../src/commands/calibrate-run.js';
import type { PipelineFlags } from '../src/commands/options.js';
import { pipelineOptionsFrom } from '../src/commands/pipeline-flags.js';
import { defaultPipelineOptions } from '../src/pipeline.js';
import { CLI } from './support/cli.js';
import { inferCapture, truthCounts, type InferredCounts } from './support/tls-infer.js';

const isRoot = process.getuid?.() === 0;

/** Runs the CLI asynchronously (an in-process fake server must keep answering meanwhile). */
function run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, TZ: 'UTC' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

test('calibrate: HOST[:PORT] parsing, port 587 by default, IPv6 in brackets', () => {
  assert.deepEqual(splitTarget('mail.example.org'), ['mail.example.org', 587]);
  assert.deepEqual(splitTarget('10.0.0.1:25'), ['10.0.0.1', 25]);
  assert.deepEqual(splitTarget('[2001:db8::1]:465'), ['2001:db8::1', 465]);
  assert.deepEqual(splitTarget('2001:db8::1'), ['2001:db8::1', 587]);
  assert.throws(() => splitTarget('x:99999'), /not a TCP port/);
});

test("calibrate: a host that is not this machine's is refused without a connection, exit 1", async () => {
  const r = await run(['calibrate', '192.0.2.1:587']); // TEST-NET-1: never a local address
  assert.equal(r.status, 1);
  assert.match(r.stderr, /refusing: 192\.0\.2\.1 is not an address of this machine.*--yes-this-is-my-server/);
  assert.equal(r.stdout, '');
});

test('calibrate: connection refused and a server without STARTTLS are clear errors, exit 1', async () => {
  const closed = createServer();
  await new Promise<void>((res) => closed.listen(0, '127.0.0.1', res));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((res) => closed.close(() => res()));
  const refused = await run(['calibrate', `127.0.0.1:${port}`]);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /connection refused by 127\.0\.0\.1 port \d+/);

  const srv: Server = createServer((c) => {
    c.write('220 fake.example ESMTP test\r\n');
    c.on('data', (d: Buffer) => {
      const l = d.toString();
      if (/^EHLO/i.test(l)) c.write('250-fake.example\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n');
      else if (/^QUIT/i.test(l)) c.end('221 bye\r\n');
    });
    c.on('error', () => {});
  });
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
  try {
    const r = await run(['calibrate', `127.0.0.1:${(srv.address() as AddressInfo).port}`, '--timeout', '20']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /does not offer STARTTLS/);
  } finally {
    await new Promise<void>((res) => srv.close(() => res()));
  }
});

interface Truth {
  capture: string;
  inside_tls: Record<string, InferredCounts>;
}

test("calibrate against the test bed's TLS-only Postfix + Dovecot; the saved file reads every shipped TLS capture", { timeout: 300_000 }, async (t) => {
  if (!isRoot) {
    console.warn('SKIPPED LOUDLY: tls-calibrate test bed part needs root (network namespaces, a real Postfix + Dovecot); run as root');
    t.skip('needs root');
    return;
  }
  const out = mkdtempSync(join(tmpdir(), 'smtpstrike-calibrate-'));
  try {
    const r = spawnSync('bash', ['scripts/testbed/calibrate-run.sh', out], {
      encoding: 'utf8',
      env: { ...process.env, TB_PREFIX: `sstcal${process.pid % 10000}` },
      timeout: 240_000,
    });
    assert.equal(r.status, 0, `calibrate-run.sh failed:\n${r.stderr.slice(-3000)}`);
    const get = (n: string, ext: string): string => readFileSync(join(out, `${n}.${ext}`), 'utf8');

    // From the server's own namespace: its address is local, accepted.
    assert.equal(get('server-ns', 'rc').trim(), '0', get('server-ns', 'stderr'));
    const saved = JSON.parse(get('server-ns', 'json')) as { replies: Record<string, string>; banner: string; challenges: string[]; tls: { protocol: string } };
    assert.deepEqual(saved.replies, {
      535: '535 5.7.8 Error: authentication failed: (reason unavailable)',
      334: '334 VXNlcm5hbWU6',
      221: '221 2.0.0 Bye',
    });
    assert.deepEqual(saved.challenges, ['334 VXNlcm5hbWU6', '334 UGFzc3dvcmQ6']);
    assert.match(saved.banner, /^220 mail\.example\.test ESMTP Postfix/);
    assert.match(get('server-ns', 'stdout'), /535 {3}62 bytes with CRLF/);
    // From the client namespace, without the flag: refused, nothing saved; with it: the same texts.
    assert.notEqual(get('client-ns', 'rc').trim(), '0');
    assert.match(get('client-ns', 'stderr'), /refusing: 10\.200\.0\.1 is not an address of this machine.*--yes-this-is-my-server/);
    assert.throws(() => get('client-ns', 'json'));
    assert.equal(get('client-yes', 'rc').trim(), '0', get('client-yes', 'stderr'));
    assert.deepEqual((JSON.parse(get('client-yes', 'json')) as { replies: unknown }).replies, saved.replies);
    // The server saw two failed logins, both with made-up users (never real credentials).
    const auth = get('postfix-auth', 'log').trim().split('\n');
    assert.equal(auth.length, 2, auth.join('\n'));
    for (const l of auth) assert.match(l, /SASL LOGIN authentication failed: \(reason unavailable\), sasl_username=smtpstrike-calibrate-[0-9a-f]{12}$/);

    // Every shipped capture of the server calibrated (Postfix + Dovecot; the Exim ones carry
    // `server`), read with --tls-replies-file: exactly its truth per client.
    const d = defaultPipelineOptions();
    const flags: PipelineFlags = {
      ports: d.ports,
      hitcount: d.strikes.hitcount,
      seconds: d.strikes.seconds,
      connHitcount: d.strikes.connHitcount,
      connSeconds: d.strikes.connSeconds,
      whitelist: [],
      ipv6Prefix: d.strikes.ipv6Prefix,
      match: [],
      tempfailStrikes: false,
      inferredStrikes: true,
      maxFlows: d.flows.maxFlows,
      maxStrikeEntries: d.strikes.maxEntries,
      tlsReply: [],
      tlsRepliesFile: join(out, 'server-ns.json'),
    };
    const truths = readdirSync('pcaps/tls')
      .filter((f) => f.endsWith('.truth.json'))
      .sort()
      .map((tf) => JSON.parse(readFileSync(join('pcaps/tls', tf), 'utf8')) as Truth & { server?: string })
      .filter((t) => t.server === undefined);
    assert.ok(truths.length >= 4);
    for (const truth of truths) {
      const opts = pipelineOptionsFrom(flags);
      assert.equal(opts.tlsReplies.forSession('220 mail.example.test ESMTP Postfix (Debian/GNU)').source, 'file');
      const got = await inferCapture(join('pcaps/tls', truth.capture), opts);
      assert.deepEqual(got.clients, truthCounts(truth.inside_tls), truth.capture);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
