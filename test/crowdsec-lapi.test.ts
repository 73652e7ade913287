/**
 * The CrowdSec client against the real thing: Debian's `crowdsec` 1.4.6 LAPI started by this test
 * in a temporary directory (test/support/crowdsec-lapi.ts), machines and a bouncer registered with
 * cscli. Our blocks show in `cscli decisions list`; a `cscli decisions add` reaches our bouncer
 * within the poll interval; a second smtpstrike host's block reaches it too; with the LAPI killed
 * the queue grows under backoff and nothing crashes; restarted (new JWT secret: 401, login again)
 * the queue drains. SKIPPED loudly without the package (scripts/install-deps.sh crowdsec).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CrowdsecBlock } from '../src/fleet/crowdsec-alert.js';
import { CrowdsecBouncer, type CrowdsecBan } from '../src/fleet/crowdsec-bouncer.js';
import { parseGoDuration } from '../src/fleet/crowdsec-duration.js';
import { LapiHttp, smtpstrikeUserAgent } from '../src/fleet/crowdsec-http.js';
import { OwnPushes } from '../src/fleet/crowdsec-own-pushes.js';
import { CrowdsecPusher } from '../src/fleet/crowdsec-pusher.js';
import { QUEUE_FILE } from '../src/fleet/crowdsec-queue.js';
import { CROWDSEC_BIN, CSCLI_BIN, freePort, TestLapi } from './support/crowdsec-lapi.js';
import { tempDir } from './support/synth.js';
import { waitFor } from './support/wait.js';

interface ListedAlert {
  machine_id: string;
  scenario: string;
  source: { scope: string; value: string; ip?: string };
  decisions: { value: string; scope: string; type: string; origin: string; scenario: string; duration: string }[];
}

const POLL_MS = 500;

test('CrowdSec 1.4.6 LAPI: push, cscli list, bouncer stream, LAPI down and back', async (t) => {
  if (!CROWDSEC_BIN || !CSCLI_BIN) {
    process.stderr.write('SKIPPED LOUDLY: crowdsec-lapi needs the Debian crowdsec package (scripts/install-deps.sh crowdsec)\n');
    t.skip('no crowdsec');
    return;
  }
  const tmp = tempDir();
  const lapi = new TestLapi(tmp.dir, await freePort());
  lapi.addMachine('mx1', 'mx1-password-123');
  lapi.addMachine('mx2', 'mx2-password-456');
  lapi.addBouncer('mx1-bouncer', 'mx1bouncerkey0123456789');
  await lapi.start();
  const ua = smtpstrikeUserAgent();
  const http = new LapiHttp({ url: lapi.url, userAgent: ua, timeoutMs: 2000 });
  const own = new OwnPushes();
  const stateA = join(tmp.dir, 'state-a');
  const mk = (machineId: string, password: string, stateDir: string, ownPushes?: OwnPushes): CrowdsecPusher =>
    new CrowdsecPusher({
      http,
      credentials: { machineId, password },
      stateDir,
      flushDelayMs: 20,
      backoffBaseMs: 100,
      backoffMaxMs: 800,
      saveEveryMs: 50,
      ...(ownPushes ? { ownPushes } : {}),
    });
  const a = mk('mx1', 'mx1-password-123', stateA, own);
  const b = mk('mx2', 'mx2-password-456', join(tmp.dir, 'state-b'));
  const bans: CrowdsecBan[] = [];
  const unbans: CrowdsecBan[] = [];
  const bouncer = new CrowdsecBouncer({
    http,
    apiKey: 'mx1bouncerkey0123456789',
    intervalMs: POLL_MS,
    maxBackoffMs: 1000,
    ownPushes: own,
    onBan: (x) => bans.push(x),
    onUnban: (x) => unbans.push(x),
    mayApply: (x) => !x.value.startsWith('127.'),
  });
  const now = Math.floor(Date.now() / 1000);
  const blk = (key: string, rule: 'auth' | 'conn', secs: number, client = key): CrowdsecBlock => ({
    key,
    client,
    rule,
    from: now,
    until: now + secs,
    hits: rule === 'auth' ? 3 : 6,
    windowS: rule === 'auth' ? 1200 : 60,
  });
  try {
    a.start();
    b.start();
    // 1. Our blocks, one alert each, in `cscli decisions list`.
    a.push(blk('192.0.2.10', 'auth', 1200));
    a.push(blk('2001:db8:1:2::/64', 'conn', 600, '2001:db8:1:2::99'));
    await waitFor(() => a.stats.pushed === 2, 'two alerts pushed', 15_000);
    const listed = JSON.parse(lapi.cscli(['decisions', 'list', '-o', 'json'])) as ListedAlert[];
    const v4 = listed.find((x) => x.source.value === '192.0.2.10');
    const v6 = listed.find((x) => x.source.value === '2001:db8:1:2::/64');
    assert.ok(v4 && v6, `both blocks listed: ${JSON.stringify(listed)}`);
    assert.equal(v4.machine_id, 'mx1');
    assert.equal(v4.scenario, 'smtpstrike/smtp-auth-bf');
    assert.deepEqual(
      v4.decisions.map((d) => [d.value, d.scope, d.type, d.origin, d.scenario]),
      [['192.0.2.10', 'Ip', 'ban', 'crowdsec', 'smtpstrike/smtp-auth-bf']],
    );
    assert.deepEqual(
      v6.decisions.map((d) => [d.value, d.scope, d.scenario]),
      [['2001:db8:1:2::/64', 'Range', 'smtpstrike/smtp-conn-flood']],
    );
    assert.equal(v6.source.ip, '2001:db8:1:2::99');
    // duration = our block: until − now as the LAPI prints it (Go), a little under 1200 s.
    const left = parseGoDuration(v4.decisions[0]!.duration);
    assert.ok(left !== null && left > 1100 && left <= 1200, `time left ${v4.decisions[0]!.duration}`);
    const machines = JSON.parse(lapi.cscli(['machines', 'list', '-o', 'json'])) as { machineId: string; version?: string; scenarios?: string }[];
    const m1 = machines.find((m) => m.machineId === 'mx1');
    assert.equal(m1?.version, ua.split('/')[1], 'the LAPI took the version from our User-Agent');
    assert.equal(m1?.scenarios, 'smtpstrike/smtp-auth-bf,smtpstrike/smtp-conn-flood');

    // 2. The bouncer: our own pushes are skipped; a cscli ban and the other host's block arrive.
    bouncer.start();
    await waitFor(() => bouncer.stats.polls >= 1, 'the startup poll', 10_000);
    assert.equal(bouncer.stats.skippedOwn, 2, 'our two pushes came back and were skipped');
    assert.equal(bans.length, 0);
    const t0 = Date.now();
    lapi.cscli(['decisions', 'add', '--ip', '198.51.100.7', '--duration', '2h', '--reason', 'manual test']);
    await waitFor(() => bans.some((x) => x.value === '198.51.100.7'), 'the cscli ban at our bouncer', POLL_MS * 4 + 5000);
    const waited = Date.now() - t0;
    const manual = bans.find((x) => x.value === '198.51.100.7')!;
    assert.equal(manual.origin, 'cscli');
    assert.equal(manual.scope, 'Ip');
    assert.ok(manual.durationS > 7000 && manual.durationS <= 7200, `time left ${manual.durationS}`);
    process.stderr.write(`crowdsec-lapi: cscli decisions add → onBan in ${waited} ms (poll ${POLL_MS} ms, cscli itself included)\n`);
    b.push(blk('203.0.113.5', 'auth', 900));
    await waitFor(() => bans.some((x) => x.value === '203.0.113.5'), "the other host's block at our bouncer", 15_000);
    assert.equal(bans.find((x) => x.value === '203.0.113.5')!.scenario, 'smtpstrike/smtp-auth-bf');
    lapi.cscli(['decisions', 'add', '--ip', '127.0.0.9', '--duration', '1h']);
    await waitFor(() => bouncer.stats.skippedProtected === 1, 'a ban on a protected address refused by mayApply', 10_000);
    assert.ok(!bans.some((x) => x.value === '127.0.0.9'));
    lapi.cscli(['decisions', 'delete', '--ip', '198.51.100.7']);
    await waitFor(() => unbans.some((x) => x.value === '198.51.100.7'), 'the deletion at our bouncer', 10_000);

    // 3. LAPI down: the queue grows, backoff, no crash; the queue is on disk.
    await lapi.stop();
    const failuresBefore = a.stats.failures;
    for (let i = 1; i <= 5; i++) a.push(blk(`192.0.2.${100 + i}`, 'auth', 1200));
    await waitFor(() => a.stats.consecutiveFailures >= 3, 'three failed attempts in a row', 15_000);
    assert.equal(a.queued, 5);
    assert.ok(a.stats.failures > failuresBefore);
    assert.ok(a.stats.lastBackoffMs >= 100, 'backing off');
    await waitFor(() => bouncer.stats.consecutiveFailures >= 1, 'the bouncer notices too', 10_000);
    await waitFor(
      () => existsSync(join(stateA, QUEUE_FILE)) && (JSON.parse(readFileSync(join(stateA, QUEUE_FILE), 'utf8')) as { blocks: unknown[] }).blocks.length === 5,
      'the queue saved',
      5000,
    );

    // 4. LAPI back (new JWT secret: our token gets a 401, we log in again): the queue drains.
    const loginsBefore = a.login.stats.logins;
    await lapi.start();
    await waitFor(() => a.queued === 0, 'the queue drained', 15_000);
    assert.equal(a.stats.pushed, 7);
    assert.ok(a.login.stats.logins > loginsBefore, 'logged in again after the restart');
    const after = JSON.parse(lapi.cscli(['decisions', 'list', '-o', 'json'])) as ListedAlert[];
    for (let i = 1; i <= 5; i++)
      assert.ok(
        after.some((x) => x.source.value === `192.0.2.${100 + i}`),
        `192.0.2.${100 + i} listed after the restart`,
      );
    await waitFor(
      () => bouncer.stats.consecutiveFailures === 0 && bouncer.stats.skippedOwn >= 7,
      'the bouncer back, our queued pushes skipped as ours',
      10_000,
    );
    assert.equal(a.stats.rejected, 0);
    assert.equal(a.queue.counters.dropped, 0);
  } finally {
    await bouncer.stop();
    await a.stop();
    await b.stop();
    await lapi.stop();
    tmp.cleanup();
  }
});
