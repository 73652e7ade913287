/**
 * watch's log sensor (--log, --journal) without capture or firewall: lines are counted through the
 * onLogLines hook, positions and the journal cursor go into the state file and a restart resumes
 * from them (no line twice, none missed); the config keys and an old state file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import type { CommandRunner, RunResult } from '../src/blocker/runner.js';
import { applyConfigValues } from '../src/commands/options.js';
import { watchCommand } from '../src/commands/watch.js';
import { parseConfigFile } from '../src/config/config-file.js';
import { defaultPipelineOptions, Pipeline } from '../src/pipeline.js';
import { readStateChecked } from '../src/strike-state/state-file.js';
import { journalLine, LiveLogClock, LogSensor } from '../src/watch/log-sensor.js';
import { parseJournalLine } from '../src/logfollow/journal-follower.js';
import { WatchService, type WatchSettings } from '../src/watch/watch-service.js';
import { fakeJournalctl } from './support/fake-journalctl.js';
import { tempDir } from './support/synth.js';
import { watchTestSettings } from './support/watch-settings.js';
import { waitFor } from './support/wait.js';

const runner: CommandRunner = { netns: 'test-ns', run: async (): Promise<RunResult> => ({ code: 0, stdout: '[]', stderr: '' }) };

function memLog(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'trace' },
    {
      write: (s: string) => {
        lines.push(JSON.parse(s) as Record<string, unknown>);
      },
    },
  );
  return { logger, lines };
}

function settings(dir: string, extra: Partial<WatchSettings>): WatchSettings {
  return watchTestSettings(dir, 'state.json', extra);
}

test('watch --log: lines counted, positions saved in the state file, a restart resumes there (nothing twice, nothing missed)', async () => {
  const t = tempDir();
  const log = join(t.dir, 'mail.log');
  writeFileSync(log, 'old 1\nold 2\n');
  const s = settings(t.dir, { logs: [log] });
  const a = memLog();
  let w = new WatchService(s, a.logger, { runner });
  try {
    await w.startLogSensors();
    appendFileSync(log, 'one\ntwo\nthree\n');
    await waitFor(() => w.logLines.get(log) === 3, '3 new lines (not the 2 old ones)');
    await w.stop();
    const saved = readStateChecked(s.stateFile);
    assert.ok(saved);
    const pos = saved.followers.files[log];
    assert.ok(pos, 'the position is in the state file');
    assert.equal(pos.offset, statSync(log).size);
    assert.equal(pos.inode, statSync(log).ino);
    const stats = a.lines.find((l) => l.event === 'stats' && l.when === 'exit');
    assert.deepEqual(stats?.log_lines, { [log]: 3 }, 'lines read are in the stats');

    appendFileSync(log, 'four\nfive\n'); // while watch is down
    const b = memLog();
    w = new WatchService(s, b.logger, { runner });
    await w.startLogSensors();
    appendFileSync(log, 'six\n');
    await waitFor(() => w.logLines.get(log) === 3, 'four, five, six');
    assert.ok(
      b.lines.some((l) => l.event === 'log_resumed' && l.file === log),
      'logged at info: resumed',
    );
    await w.stop();
    assert.equal(w.logLines.get(log), 3, 'nothing read twice');
  } finally {
    await w.stop();
    t.cleanup();
  }
});

test('watch --journal: the cursor is saved in the state file and the next start goes on after it', async () => {
  const t = tempDir();
  const prog = fakeJournalctl(t.dir);
  const s = settings(t.dir, { journal: true });
  let w = new WatchService(s, memLog().logger, { runner, journalctl: { program: prog } });
  try {
    await w.startLogSensors();
    await waitFor(() => w.logLines.get('journal') === 3, '3 journal entries');
    await w.stop();
    assert.equal(readStateChecked(s.stateFile)?.followers.journal_cursor, 's=abc;i=3');
    w = new WatchService(s, memLog().logger, { runner, journalctl: { program: prog } });
    await w.startLogSensors();
    await waitFor(() => readFileSync(join(t.dir, 'args.last'), 'utf8').includes('--after-cursor=s=abc;i=3'), 'journalctl asked for what follows the cursor');
    await w.stop();
    assert.equal(w.logLines.get('journal') ?? 0, 0, 'nothing read twice');
  } finally {
    await w.stop();
    t.cleanup();
  }
});

test('a state file of before the log sensor (no followers) loads; a damaged position is skipped and named', () => {
  const t = tempDir();
  const f = join(t.dir, 'state.json');
  writeFileSync(f, JSON.stringify({ version: 1, saved_at: 5, entries: [] }));
  const r = readStateChecked(f);
  assert.deepEqual(r?.followers, { files: {} });
  writeFileSync(
    f,
    JSON.stringify({
      version: 1,
      saved_at: 5,
      entries: [],
      followers: { files: { '/a': { inode: 'x' }, '/b': { inode: 1, dev: 2, offset: 3, head: 'a'.repeat(40), headLen: 4 } }, journal_cursor: 'c' },
    }),
  );
  const r2 = readStateChecked(f);
  assert.deepEqual(Object.keys(r2!.followers.files), ['/b']);
  assert.equal(r2!.followers.journal_cursor, 'c');
  assert.ok(r2!.skipped.some((sk) => sk.reason.includes('/a')));
  t.cleanup();
});

test("config: top-level logs: and journal: are watch's; accounts.logs: stays the accounts command's", () => {
  const { options, accounts } = parseConfigFile('logs: [/var/log/mail.log, /var/log/dovecot.log]\njournal: true\naccounts:\n  logs: [/var/log/mail.log.1]\n');
  assert.deepEqual(options.get('log'), ['/var/log/mail.log', '/var/log/dovecot.log']);
  assert.equal(options.get('journal'), true);
  assert.deepEqual(accounts.options.get('logs'), ['/var/log/mail.log.1']);
});

test("watch --log (repeatable) and --journal parse; the config's logs: adds to --log", () => {
  const cmd = watchCommand();
  cmd.parseOptions(['--log', '/var/log/mail.log', '--log', '/var/log/dovecot.log', '--journal']);
  assert.deepEqual(cmd.opts().log, ['/var/log/mail.log', '/var/log/dovecot.log']);
  assert.equal(cmd.opts().journal, true);
  applyConfigValues(cmd, parseConfigFile('logs: [/var/log/exim4/mainlog]\njournal: false\n').options);
  assert.deepEqual(cmd.opts().log, ['/var/log/mail.log', '/var/log/dovecot.log', '/var/log/exim4/mainlog']);
  assert.equal(cmd.opts().journal, true, 'the command line wins over journal: false');
  const plain = watchCommand();
  plain.parseOptions([]);
  assert.deepEqual(plain.opts().log, []);
  assert.equal(plain.opts().journal, false);
});

/** A Postfix maillog_file stamp (zero-padded day) of `ts`, in this process's zone. */
function pfStamp(ts: number): string {
  const d = new Date(ts * 1000);
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getMonth()]!;
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${mon} ${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
}
const pfFail = (ts: number, ip: string, pid = 4242): string =>
  `${pfStamp(ts)} mail postfix/submission/smtpd[${pid}]: warning: unknown[${ip}]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=alice\n`;

test('watch --log: Postfix failures strike from the log (Strike 3 (log), source log, blocked); a login with auth=1/2 is one success; coverage in the stats', async () => {
  const t = tempDir();
  const log = join(t.dir, 'mail.log');
  writeFileSync(log, '');
  const s = settings(t.dir, { logs: [log] });
  const a = memLog();
  const w = new WatchService(s, a.logger, { runner });
  try {
    assert.equal(w.pipeline.merge.opts.logSensor, true, 'a followed log turns the log sensor on');
    await w.startLogSensors();
    const now = Date.now() / 1000;
    appendFileSync(log, pfFail(now, '203.0.113.9') + pfFail(now, '203.0.113.9') + pfFail(now, '203.0.113.9'));
    appendFileSync(
      log,
      `${pfFail(now, '198.51.100.7', 77)}${pfStamp(now)} mail postfix/submission/smtpd[77]: disconnect from unknown[198.51.100.7] ehlo=2 starttls=1 auth=1/2 quit=1 commands=5/6\n`,
    );
    await waitFor(() => a.lines.some((l) => l.event === 'block' && l.key === '203.0.113.9'), 'a block from the log');
    const strikes = a.lines.filter((l) => l.event === 'strike' && l.client === '203.0.113.9');
    assert.equal(strikes.length, 3);
    assert.ok(
      strikes.every((l) => l.source === 'log'),
      'source: log on every strike line',
    );
    assert.match(String(strikes[2]!.msg), /^SMTP_AUTH_FAIL: Strike 3 \(log\): .*DST=203\.0\.113\.9 /);
    await waitFor(() => w.logSensor!.counts.successes === 1, 'the auth=1/2 login');
    assert.equal(w.logSensor!.counts.failures, 4);
    assert.equal(a.lines.filter((l) => l.event === 'block').length, 1, 'the client that got in after one failure is not blocked');
    await w.stop();
    const stats = a.lines.find((l) => l.event === 'stats' && l.when === 'exit') as { sensors?: Record<string, number> } | undefined;
    assert.equal(stats?.sensors?.log_only, 5, '4 failures + 1 login, log only (no capture here)');
    assert.equal(stats?.sensors?.wire_only, 0);
    assert.equal(stats?.sensors?.both, 0);
  } finally {
    await w.stop();
    t.cleanup();
  }
});

test('watch without --log: the merge holds nothing (the wire alone, as before)', () => {
  const t = tempDir();
  try {
    const w = new WatchService(settings(t.dir, {}), memLog().logger, { runner });
    assert.equal(w.pipeline.merge.opts.logSensor, false);
    assert.equal(w.logSensor, null);
  } finally {
    t.cleanup();
  }
});

test('watch --log: lines written while watch was down are placed at their own time (a restart), live ones at now', async () => {
  const t = tempDir();
  const log = join(t.dir, 'mail.log');
  writeFileSync(log, '');
  const s = settings(t.dir, { logs: [log], pipeline: { ...defaultPipelineOptions(), strikes: { ...defaultPipelineOptions().strikes, seconds: 60 } } });
  let w = new WatchService(s, memLog().logger, { runner });
  try {
    await w.startLogSensors();
    await w.stop();
    const old = Date.now() / 1000 - 600; // ten minutes ago: outside the 60 s window
    appendFileSync(log, pfFail(old, '192.0.2.1') + pfFail(old, '192.0.2.1'));
    const b = memLog();
    w = new WatchService(s, b.logger, { runner });
    await w.startLogSensors();
    appendFileSync(log, pfFail(Date.now() / 1000, '192.0.2.1'));
    await waitFor(() => w.logSensor!.counts.failures === 3, 'three failures');
    assert.equal(w.logSensor!.counts.caught_up, 2);
    const strikes = b.lines.filter((l) => l.event === 'strike');
    assert.equal(strikes.length, 3);
    assert.equal(b.lines.filter((l) => l.event === 'block').length, 0, 'the two old failures are outside the window: no block');
  } finally {
    await w.stop();
    t.cleanup();
  }
});

test("journal entries: SYSLOG_IDENTIFIER and _PID make the syslog header the parsers need; journald's time is the stamp", () => {
  const now = Date.now() / 1000;
  const e = parseJournalLine(
    JSON.stringify({
      __CURSOR: 'c1',
      __REALTIME_TIMESTAMP: String(Math.round(now * 1e6)),
      SYSLOG_IDENTIFIER: 'postfix/submission/smtpd',
      _PID: '991',
      _SYSTEMD_UNIT: 'postfix@-.service',
      MESSAGE: 'warning: unknown[192.0.2.55]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=alice',
    }),
  );
  assert.ok(e);
  assert.equal(
    journalLine(e),
    'postfix/submission/smtpd[991]: warning: unknown[192.0.2.55]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=alice',
  );
  const engine = new Pipeline(defaultPipelineOptions(), { event: () => undefined });
  engine.merge.configure({ logSensor: true, clock: () => now });
  const sensor = new LogSensor(engine.merge, () => now);
  sensor.lines('journal', [journalLine(e), journalLine(e)], [e.ts, e.ts - 3600]);
  assert.equal(sensor.counts.failures, 2);
  assert.equal(sensor.counts.caught_up, 1, 'an entry an hour old is placed at its own time');
});

test('LiveLogClock: the year of a syslog stamp follows the wall clock (a watch running over New Year)', () => {
  let now = Date.UTC(2026, 11, 31, 23, 59, 0) / 1000;
  const c = new LiveLogClock(0, () => now);
  assert.equal(c.syslog(11, 31, 23, 58, 59), Date.UTC(2026, 11, 31, 23, 58, 59) / 1000);
  now = Date.UTC(2027, 0, 1, 0, 0, 1) / 1000; // one second into the new year
  assert.equal(c.syslog(0, 1, 0, 0, 0), Date.UTC(2027, 0, 1, 0, 0, 0) / 1000, 'January 1st after midnight: the new year');
  assert.equal(c.syslog(11, 31, 23, 59, 30), Date.UTC(2026, 11, 31, 23, 59, 30) / 1000, 'a late December line: the old year');
});

test("--services: Dovecot imap-login failures count (N attempts each) only when imap is listed, never Dovecot's auth process; they strike as IMAP, apart from SMTP sightings", () => {
  const now = Date.UTC(2026, 11, 5, 4, 0, 0) / 1000;
  const stamp = 'Dec  5 04:00:00';
  const lines = [
    `${stamp} mail dovecot: imap-login: Disconnected (auth failed, 2 attempts in 4 secs): user=<alice>, method=PLAIN, rip=192.0.2.77, lip=192.0.2.25, TLS, session=<abc>`,
    `${stamp} mail dovecot: pop3-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<bob>, method=PLAIN, rip=192.0.2.78, lip=192.0.2.25, TLS, session=<abd>`,
    `${stamp} mail dovecot: auth: passwd-file(alice,192.0.2.79,<xyz>): Password mismatch`,
  ];
  const run = (services: ('smtp' | 'imap' | 'pop3')[]): { counts: LogSensor['counts']; strikes: { client: string; source: string }[] } => {
    const strikes: { client: string; source: string }[] = [];
    const engine = new Pipeline(defaultPipelineOptions(), {
      event: (ev) => {
        if (ev.type === 'strike') strikes.push({ client: ev.client, source: ev.source });
      },
    });
    engine.merge.configure({ logSensor: true, clock: () => now });
    const sensor = new LogSensor(engine.merge, () => now, services, 0);
    sensor.lines('/var/log/mail.log', lines);
    return { counts: sensor.counts, strikes };
  };
  const smtpOnly = run(['smtp']);
  assert.equal(smtpOnly.counts.failures, 0, 'default: Dovecot lines do not count');
  assert.deepEqual(smtpOnly.strikes, []);
  const imap = run(['smtp', 'imap']);
  assert.equal(imap.counts.failures, 2, 'imap-login: 2 attempts; pop3 not listed; the auth process never');
  assert.deepEqual(imap.strikes, [
    { client: '192.0.2.77', source: 'log' },
    { client: '192.0.2.77', source: 'log' },
  ]);
  const all = run(['smtp', 'imap', 'pop3']);
  assert.equal(all.counts.failures, 3);
  assert.deepEqual(all.strikes.map((s) => s.client).sort(), ['192.0.2.77', '192.0.2.77', '192.0.2.78']);
});
