/**
 * The test bed's shell helpers that need no root: tb_syslog_near, which the fixture scripts use to
 * check that the server logged in the zone it was given. It must accept Postfix's zero-padded day
 * (`Dec 05`, its own maillog_file) as well as syslog's space-padded one (`Dec  5`): a string compare
 * with `date +'%b %e'` failed the whole suite on days 1-9 of every month.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

/** Exit status of tb_syslog_near STAMP REF [SLACK] under TZ. */
function near(stamp: string, refIso: string, tz: string, slack?: number): number {
  const ref = String(Date.parse(refIso) / 1000);
  const args = slack === undefined ? [stamp, ref] : [stamp, ref, String(slack)];
  const r = spawnSync('bash', ['-c', '. scripts/testbed/lib.sh && tb_syslog_near "$@"', 'x', ...args], { encoding: 'utf8', env: { ...process.env, TZ: tz } });
  assert.equal(r.error, undefined);
  return r.status ?? -1;
}

test('tb_syslog_near: zero-padded, space-padded and one-digit days are the same moment', () => {
  for (const stamp of ['Dec 05 04:09:00', 'Dec  5 04:09:00', 'Dec 5 04:09:00']) {
    assert.equal(near(stamp, '2026-12-05T04:09:30Z', 'UTC'), 0, stamp);
  }
  assert.equal(near('Dec 15 04:09:00', '2026-12-15T04:08:10Z', 'UTC'), 0);
});

test('tb_syslog_near: another day, a time past the slack, or garbage do not fit', () => {
  assert.equal(near('Dec 06 04:09:00', '2026-12-05T04:09:30Z', 'UTC'), 1);
  assert.equal(near('Dec 05 04:19:00', '2026-12-05T04:09:30Z', 'UTC'), 1);
  assert.equal(near('Dec 05 04:11:00', '2026-12-05T04:09:30Z', 'UTC', 60), 1);
  assert.equal(near('Dec 05 04:11:00', '2026-12-05T04:09:30Z', 'UTC', 120), 0);
  assert.equal(near('Dez 05 04:09:00', '2026-12-05T04:09:30Z', 'UTC'), 1);
  assert.equal(near('', '2026-12-05T04:09:30Z', 'UTC'), 1);
});

test('tb_syslog_near: the stamp is read in TZ (a server at UTC+05:30), across New Year too', () => {
  assert.equal(near('Dec 05 04:10:10', '2026-12-04T22:40:00Z', '<+0530>-5:30'), 0);
  assert.equal(near('Dec 05 04:10:10', '2026-12-04T22:40:00Z', 'UTC'), 1);
  assert.equal(near('Dec 31 23:59:50', '2027-01-01T00:00:30Z', 'UTC'), 0);
  assert.equal(near('Jan 01 00:00:10', '2026-12-31T23:59:30Z', 'UTC'), 0);
});
