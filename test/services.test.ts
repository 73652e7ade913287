/**
 * --services (issue 11, must-have 4): the vocabulary, the ports a block closes, which log events
 * count (serviceOf / countsFor on events the real accounts parser produced), option and config
 * parsing, the reload classification, and the block rules the backends make for the ports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import pino from 'pino';
import { parseLine } from '../src/accounts/parse-logs.js';
import { LineParser } from '../src/accounts/line-parser.js';
import { LogClock } from '../src/accounts/clock.js';
import { FAILURE, SUCCESS } from '../src/accounts/hit.js';
import type { AuthLogEvent } from '../src/accounts/types.js';
import type { CommandRunner, RunResult } from '../src/blocker/runner.js';
import { IpsetBlocker } from '../src/blocker/ipset.js';
import { IptablesBlocker } from '../src/blocker/iptables.js';
import { NftBlocker } from '../src/blocker/nft.js';
import { watchCommand } from '../src/commands/watch.js';
import { applyConfigValues } from '../src/commands/options.js';
import { ConfigError, parseConfig } from '../src/config/config-file.js';
import { defaultPipelineOptions } from '../src/pipeline.js';
import { keepRestartOnly, LIVE_KEYS, reloadChanges, RESTART_KEYS } from '../src/watch/reload.js';
import { attemptsFor, blockPorts, countsFor, parseServices, serviceOf } from '../src/watch/services.js';
import { WatchService } from '../src/watch/watch-service.js';
import { tempDir } from './support/synth.js';

function ev(line: string): AuthLogEvent {
  const r = parseLine(line, { mode: 'all', tz: 'UTC', year: 2023, refTs: Date.UTC(2023, 11, 31) / 1000 });
  assert.ok(r.event, `parsed: ${line}`);
  return r.event;
}

const IMAP_FAIL =
  'Jun 12 19:07:29 hostname dovecot[241]: imap-login: Login aborted: Connection closed (auth failed, 3 attempts in 16 secs) (auth_failed): user=<test>, method=PLAIN, rip=192.0.2.241, lip=203.0.113.104, TLS, session=<9ZHq02g3J8S60fan>';
const IMAP_OK =
  'Feb 13 00:15:16 mail dovecot: imap-login: Login: user=<hill>, method=PLAIN, rip=37.188.232.65, lip=192.0.2.25, mpid=123, TLS, session=<sF+SszFtrD5Q8TzB>';
const POP3_FAIL =
  'Jan 14 15:54:30 valhalla dovecot: pop3-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<ivo>, method=PLAIN, rip=1.2.3.4, lip=1.1.2.2, TLS: Disconnected, session=<q454Xu/vMwBZApgg>';
const POP3_OK =
  'Oct 13 09:22:59 canyon dovecot[7508]: pop3-login: Info: Login: user=<test@yourdomain.net>, method=PLAIN, rip=172.17.0.1, lip=172.17.0.2, mpid=18, TLS, session=<PeYcgjjOGOisEQAB>';
const SUBMISSION_FAIL =
  'Aug 29 03:17:18 server dovecot: submission-login: Client has quit the connection (auth failed, 1 attempts in 2 secs): user=<user1>, method=LOGIN, rip=192.0.2.133, lip=0.0.0.0';
const SIEVE_FAIL =
  'Aug 29 15:33:53 server dovecot: managesieve-login: Disconnected: Too many invalid commands. (auth failed, 1 attempts in 2 secs): user=<myself>, method=PLAIN, rip=192.0.2.100, lip=0.0.0.0, TLS';
// The test bed's Dovecot, answering Postfix's SASL: the same attempt Postfix logs as its own.
const AUTH_MISMATCH = 'Dec 05 03:36:20 auth: Info: passwd-file(alice,10.217.0.5): Password mismatch';
const AUTH_WORKER =
  'Jan 29 05:32:50 mail dovecot: auth-worker(304): pam(username,1.2.3.4): pam_authenticate() failed: Authentication failure (password mismatch?)';
const PAM_UNIX =
  'Apr 19 05:22:20 vm5 auth: pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 tty=dovecot ruser=informix rhost=80.255.3.104';
const POSTFIX_FAIL = 'Dec  2 22:24:22 hel postfix/smtpd[7676]: warning: unknown[114.44.142.233]: SASL LOGIN authentication failed: authentication failure';
const EXIM_FAIL =
  '2013-01-04 17:03:46 login authenticator failed for rrcs-24-106-174-74.se.biz.rr.com ([192.168.2.33]) [24.106.174.74]: 535 Incorrect authentication data (set_id=brian)';
const SSH_FAIL = 'Mar  7 18:53:20 bar sshd[1556]: Failed password for rda from 192.0.2.113 port 52100 ssh2';

test('services: the vocabulary; order and duplicates do not matter; unknown names are refused', () => {
  assert.deepEqual(parseServices('imap,smtp'), ['smtp', 'imap']);
  assert.deepEqual(parseServices(' POP3 , smtp,pop3'), ['smtp', 'pop3']);
  assert.deepEqual(parseServices(['pop3', 'imap']), ['imap', 'pop3']);
  assert.throws(() => parseServices('smtp,imaps'), /unknown service "imaps" \(known: smtp, imap, pop3\)/);
  assert.throws(() => parseServices(' , '), /no service given/);
});

test('services: the ports a block closes grow with the services; smtp means --ports', () => {
  assert.deepEqual(blockPorts([25, 587]), [25, 587], 'default: smtp only');
  assert.deepEqual(blockPorts([25, 587], ['smtp', 'imap']), [25, 143, 587, 993]);
  assert.deepEqual(blockPorts([25, 465, 587], ['smtp', 'imap', 'pop3']), [25, 110, 143, 465, 587, 993, 995]);
  assert.deepEqual(blockPorts([25, 587], ['pop3']), [110, 995], 'without smtp the SMTP ports stay open to a blocked address');
  assert.deepEqual(blockPorts([143, 25], ['smtp', 'imap']), [25, 143, 993], 'no port twice');
});

test('services: each parsed log event belongs to one service; auth-process lines to none', () => {
  const cases: [string, string, number][] = [
    [IMAP_FAIL, 'imap', 3],
    [IMAP_OK, 'imap', 1],
    [POP3_FAIL, 'pop3', 1],
    [POP3_OK, 'pop3', 1],
    [SUBMISSION_FAIL, 'other', 1],
    [SIEVE_FAIL, 'other', 1],
    [AUTH_MISMATCH, 'unknown', 1],
    [AUTH_WORKER, 'unknown', 1],
    [PAM_UNIX, 'unknown', 1],
    [POSTFIX_FAIL, 'smtp', 1],
    [EXIM_FAIL, 'smtp', 1],
    [SSH_FAIL, 'other', 1],
  ];
  for (const [line, svc, n] of cases) {
    const e = ev(line);
    assert.equal(serviceOf(e), svc, line);
    assert.equal(e.count ?? 1, n, `${line}: attempts`);
  }
});

test('services: countsFor — the default counts SMTP lines only; imap/pop3 add their login lines; the auth process never counts', () => {
  const at = (services: string, line: string): boolean => countsFor(parseServices(services), ev(line));
  // default: smtp
  assert.equal(at('smtp', POSTFIX_FAIL), true);
  assert.equal(at('smtp', EXIM_FAIL), true);
  assert.equal(at('smtp,imap,pop3', SUBMISSION_FAIL), false, 'Dovecot submission: logged at disconnect, the wire sees it on 587: would count twice');
  assert.equal(at('smtp', IMAP_FAIL), false, 'IMAP failures do not count by default');
  assert.equal(at('smtp', POP3_FAIL), false);
  // the auth process's line about Postfix's SASL attempt: Postfix's own line counts it, this one must not (no double count)
  for (const s of ['smtp', 'smtp,imap,pop3', 'imap']) {
    assert.equal(at(s, AUTH_MISMATCH), false, `${s}: auth process`);
    assert.equal(at(s, AUTH_WORKER), false);
    assert.equal(at(s, PAM_UNIX), false);
  }
  assert.equal(at('smtp,imap', IMAP_FAIL), true);
  assert.equal(at('smtp,imap', IMAP_OK), true, 'a success of a counted service is passed on too');
  assert.equal(at('smtp,imap', POP3_FAIL), false);
  assert.equal(at('smtp,pop3', POP3_FAIL), true);
  assert.equal(at('imap,pop3', POSTFIX_FAIL), false, 'without smtp, Postfix lines do not count');
  assert.equal(at('smtp,imap,pop3', SIEVE_FAIL), false, 'managesieve never counts');
  assert.equal(at('smtp,imap,pop3', SSH_FAIL), false);
  // attempts: a login line's N, 0 when it does not count
  assert.equal(attemptsFor(parseServices('smtp,imap'), ev(IMAP_FAIL)), 3);
  assert.equal(attemptsFor(parseServices('smtp'), ev(IMAP_FAIL)), 0);
  assert.equal(attemptsFor(parseServices('smtp'), ev(POSTFIX_FAIL)), 1);
  assert.equal(attemptsFor(parseServices('smtp,imap,pop3'), ev(AUTH_MISMATCH)), 0);
  // LineParser callers pass their service and hit: the same answer
  assert.equal(countsFor(['imap'], { service: 'dovecot', proto: 'imap' }), true);
  assert.equal(countsFor(['imap'], { service: 'dovecot', proto: undefined }), false);
});

test('services: --services on the command line and services: in the config; bad values refused', () => {
  const cmd = watchCommand().exitOverride();
  cmd.parseOptions(['--services', 'imap,smtp']);
  assert.deepEqual(cmd.opts().services, ['smtp', 'imap']);
  assert.deepEqual(watchCommand().opts().services, ['smtp'], 'default smtp');
  const bad = watchCommand()
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
  assert.throws(() => bad.parseOptions(['--services', 'smtp,ftp']), /unknown service "ftp"/);

  assert.deepEqual(parseConfig('services: [pop3, smtp]\n').get('services'), ['smtp', 'pop3']);
  assert.deepEqual(parseConfig('services:\n  - imap\n').get('services'), ['imap']);
  assert.deepEqual(parseConfig('services: smtp,imap\n').get('services'), ['smtp', 'imap'], "the command line's form");
  for (const [text, re] of [
    ['services: [smtp, ftp]\n', /services: unknown service "ftp"/],
    ['services: [1]\n', /services: every item/],
    ['services: []\n', /no service given/],
  ] as const) {
    assert.throws(
      () => parseConfig(text),
      (e: unknown) => e instanceof ConfigError && e.line === 1 && re.test(e.message),
      text,
    );
  }

  // The config fills what the command line left at its default; the command line wins.
  const c1 = watchCommand();
  c1.parseOptions([]);
  applyConfigValues(c1, parseConfig('services: [smtp, imap]\n'));
  assert.deepEqual(c1.opts().services, ['smtp', 'imap']);
  const c2 = watchCommand();
  c2.parseOptions(['--services', 'pop3']);
  applyConfigValues(c2, parseConfig('services: [smtp, imap]\n'));
  assert.deepEqual(c2.opts().services, ['pop3']);
});

test('services: restart-only on SIGHUP (the block rule is made at start)', () => {
  assert.ok(RESTART_KEYS.includes('services') && !LIVE_KEYS.includes('services'));
  const running = { services: ['smtp'], seconds: 600 };
  const next = { services: ['smtp', 'imap'], seconds: 300 };
  assert.deepEqual(reloadChanges(running, next), { applied: ['seconds'], needsRestart: ['services'] });
  assert.deepEqual(keepRestartOnly(running, next).services, ['smtp'], 'the running value is kept until a restart');
});

/** Records commands; `ip` answers with no addresses, everything else succeeds with no output. */
class RecordingRunner implements CommandRunner {
  readonly netns = 'test-ns';
  calls: { cmd: string; args: readonly string[]; input: string }[] = [];
  async run(cmd: string, args: readonly string[], input = ''): Promise<RunResult> {
    this.calls.push({ cmd, args, input });
    if (cmd === 'ip') return { code: 0, stdout: '[]', stderr: '' };
    return { code: 0, stdout: '', stderr: '' };
  }
}

test("services: every backend's rule matches the services' ports (one set of addresses)", () => {
  const ports = blockPorts([25, 587], ['smtp', 'imap', 'pop3']);
  const nft = new NftBlocker({ ports, runner: new RecordingRunner() });
  assert.match(nft.rulesScript(), /ip saddr @blocked4 tcp dport \{ 25, 110, 143, 587, 993, 995 \} counter reject/);
  assert.match(nft.rulesScript(), /ip6 saddr @blocked6 tcp dport \{ 25, 110, 143, 587, 993, 995 \} counter reject/);
  assert.deepEqual(
    nft.ruleComments(),
    ['smtpstrike:ipv4:25,110,143,587,993,995', 'smtpstrike:ipv6:25,110,143,587,993,995'],
    'the comment names the ports, so a restart with other services re-makes the rule',
  );
  const ipset = new IpsetBlocker({ ports, runner: new RecordingRunner() });
  assert.equal(ipset.ruleArgs(4)[ipset.ruleArgs(4).indexOf('--dports') + 1], '25,110,143,587,993,995');
  const ipt = new IptablesBlocker({ ports, runner: new RecordingRunner() });
  assert.equal(ipt.jumpArgs()[ipt.jumpArgs().indexOf('--dports') + 1], '25,110,143,587,993,995');
});

test('services: watch with --services smtp,imap makes its block rule and ss -K for 25, 143, 587, 993', async () => {
  const t = tempDir();
  const runner = new RecordingRunner();
  const logger = pino({ level: 'silent' });
  try {
    const base = {
      pipeline: defaultPipelineOptions(),
      iface: 'eth0',
      captureBackend: 'tcpdump' as const,
      bufferSize: 0,
      blocker: 'nft' as const,
      dryRun: false,
      blockSeconds: 60,
      killEstablished: true,
      stateFile: join(t.dir, 'state.json'),
      statsInterval: 60,
      netns: 'test-ns',
    };
    const w = new WatchService({ ...base, services: ['smtp', 'imap'] }, logger, { runner });
    w.event({ type: 'block', ts: 1000, client: '198.51.100.8', key: '198.51.100.8', rule: 'auth', from: 1000, until: 2200, level: 0 });
    await w.stop();
    const ss = runner.calls.filter((c) => c.cmd === 'ss').map((c) => c.args);
    assert.deepEqual(ss, [
      ['-K', 'dst', '198.51.100.8', '(', 'sport', '=', ':25', 'or', 'sport', '=', ':143', 'or', 'sport', '=', ':587', 'or', 'sport', '=', ':993', ')'],
    ]);
    const d = new WatchService({ ...base, stateFile: join(t.dir, 'state2.json') }, logger, { runner: new RecordingRunner() });
    assert.deepEqual(d.pipeline.opts.ports, [25, 587], 'capture stays on --ports');
    await d.stop();
  } finally {
    t.cleanup();
  }
});

test('services: what the watch wiring does — one LineParser over a followed log, attemptsFor on its service and hit', () => {
  const p = new LineParser('all', new LogClock(0, Date.UTC(2023, 11, 31) / 1000, 2023), 0);
  const services = parseServices('smtp,imap');
  const log = [
    AUTH_MISMATCH,
    POSTFIX_FAIL,
    IMAP_OK,
    IMAP_FAIL,
    AUTH_WORKER,
    POP3_FAIL,
    SSH_FAIL,
    'Feb 13 00:15:16 mail dovecot: master: Dovecot v2.3.19.1 starting up',
  ];
  const got: [string, number][] = [];
  for (const line of log) {
    const v = p.parse(line);
    if (v !== SUCCESS && v !== FAILURE) continue;
    got.push([`${v === SUCCESS ? 'success' : 'failure'} ${p.hit.ip}`, attemptsFor(services, { service: p.service, proto: p.hit.proto, count: p.hit.count })]);
  }
  assert.deepEqual(
    got,
    [
      ['failure 10.217.0.5', 0],
      ['failure 114.44.142.233', 1],
      ['success 37.188.232.65', 1],
      ['failure 192.0.2.241', 3],
      ['failure 1.2.3.4', 0],
      ['failure 1.2.3.4', 0],
      ['failure 192.0.2.113', 0],
    ],
    'the protocol of one line never leaks into the next',
  );
});
