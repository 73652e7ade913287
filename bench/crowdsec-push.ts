/**
 * LAPI pushes/s (issue 13): `node dist/bench/crowdsec-push.js [--alerts 2000] [--batches 50,10,1]`.
 * Starts Debian's crowdsec LAPI in a temporary directory (as the test does), pushes N blocks through
 * CrowdsecPusher at each batch size into a fresh database, times until the queue is empty, then
 * times one bouncer startup poll over everything pushed. Prints one line per case.
 */
import { parseArgs } from 'node:util';
import { CrowdsecBouncer } from '../src/fleet/crowdsec-bouncer.js';
import { LapiHttp, smtpstrikeUserAgent } from '../src/fleet/crowdsec-http.js';
import { CrowdsecPusher } from '../src/fleet/crowdsec-pusher.js';
import { CROWDSEC_BIN, freePort, TestLapi } from '../test/support/crowdsec-lapi.js';
import { tempDir } from '../test/support/synth.js';

const { values } = parseArgs({ options: { alerts: { type: 'string', default: '2000' }, batches: { type: 'string', default: '50,10,1' } } });
const n = Number(values.alerts);
if (!CROWDSEC_BIN) {
  console.error('crowdsec-push: needs the Debian crowdsec package (scripts/install-deps.sh crowdsec)');
  process.exit(3);
}
for (const batch of values.batches.split(',').map(Number)) {
  const tmp = tempDir();
  const lapi = new TestLapi(tmp.dir, await freePort());
  lapi.addMachine('bench', 'bench-password');
  lapi.addBouncer('bench-b', 'benchbouncerkey12345');
  await lapi.start();
  const http = new LapiHttp({ url: lapi.url, userAgent: smtpstrikeUserAgent(), timeoutMs: 30_000 });
  const p = new CrowdsecPusher({
    http,
    credentials: { machineId: 'bench', password: 'bench-password' },
    stateDir: tmp.dir,
    batchSize: batch,
    maxQueue: n,
    flushDelayMs: 0,
  });
  try {
    p.start();
    await p.login.token(); // the bcrypt login (~150 ms) is not part of the rate
    const now = Math.floor(Date.now() / 1000);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      p.push({
        key: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
        client: '10.0.0.1',
        rule: 'auth',
        from: now,
        until: now + 3600,
        hits: 3,
        windowS: 1200,
      });
    }
    while (p.queued > 0 && p.stats.consecutiveFailures === 0) await new Promise((r) => setTimeout(r, 5));
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    let got = 0;
    const b = new CrowdsecBouncer({
      http,
      apiKey: 'benchbouncerkey12345',
      onBan: () => {
        got++;
      },
      onUnban: () => {},
    });
    const t1 = process.hrtime.bigint();
    await b.pollNow();
    const ps = Number(process.hrtime.bigint() - t1) / 1e9;
    console.log(
      `batch ${String(batch).padStart(3)}: ${p.stats.pushed} alerts in ${s.toFixed(2)} s = ${(p.stats.pushed / s).toFixed(0)} alerts/s (${p.stats.batches} POSTs, failures ${p.stats.failures}); startup poll: ${got} bans in ${(ps * 1000).toFixed(0)} ms`,
    );
  } finally {
    await p.stop();
    await lapi.stop();
    tmp.cleanup();
  }
}
