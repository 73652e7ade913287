/**
 * Per-server TLS reply sizes (issue 10 item 3): `--tls-reply` and `tls_replies:` parsing, the
 * calibration file, the banner's built-in profile, the precedence option > file > log > banner >
 * default, and that the sizes are really used (a wrong 535 size infers no failure).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseConfig } from '../src/config/config-file.js';
import { defaultPipelineOptions } from '../src/pipeline.js';
import type { PipelineFlags } from '../src/commands/options.js';
import { pipelineOptionsFrom } from '../src/commands/pipeline-flags.js';
import { POSTFIX_DOVECOT } from '../src/tls/record-size.js';
import { DOVECOT_TIMING } from '../src/tls/auth-exchange.js';
import {
  bannerProfile,
  eximTexts,
  parseCalibrationFile,
  parseReplyArg,
  replyLength,
  ReplyResolver,
  replyTextsFromArgs,
  type ReplySource,
} from '../src/tls/reply-profiles.js';
import { smtpstrike } from './support/cli.js';
import { replayFrames } from './support/replay.js';
import type { FrameList } from './support/synth.js';
import { recordBytes } from './support/tls-wire.js';
import { inferCapture, truthCounts, type InferredCounts } from './support/tls-infer.js';

const PF535 = '535 5.7.8 Error: authentication failed: (reason unavailable)';
const EXIM_BANNER = '220 mx1.example.org ESMTP Exim 4.96 Sat, 05 Dec 2026 02:00:00 +0000';
const POSTFIX_BANNER = '220 mail.example.test ESMTP Postfix (Debian/GNU)';

test('--tls-reply: CODE=TEXT parsed; bad code, empty text, missing code, no "=" are clear errors', () => {
  assert.deepEqual(parseReplyArg(`535=${PF535}`), [535, PF535]);
  assert.deepEqual(parseReplyArg('221=221 2.0.0 Bye'), [221, '221 2.0.0 Bye']);
  // A multi-line reply: "\n" (backslash n, as a shell passes it) separates lines; each has its CRLF.
  const [, multi] = parseReplyArg('535=535-5.7.8 first\\n535 5.7.8 second');
  assert.equal(multi, '535-5.7.8 first\n535 5.7.8 second');
  assert.equal(replyLength(multi), '535-5.7.8 first\r\n535 5.7.8 second\r\n'.length);
  assert.throws(() => parseReplyArg('550=550 no'), /reply code 550 is not one the model uses \(535, 235, 454, 334, 221\)/);
  assert.throws(() => parseReplyArg('535='), /535: empty reply text/);
  assert.throws(() => parseReplyArg('535=   '), /535: empty reply text/);
  assert.throws(() => parseReplyArg('535=Incorrect authentication data'), /must start with "535 "/);
  assert.throws(() => parseReplyArg('535=535-only a continuation'), /must start with "535 "/);
  assert.throws(() => parseReplyArg(PF535), /expected CODE=TEXT/);
  // The last one given for a code wins.
  assert.deepEqual(replyTextsFromArgs(['535=535 a', '535=535 bb']), { 535: '535 bb' });
});

test('--tls-reply on the command line: refused with the reason and exit status 1', () => {
  const bad = smtpstrike(['replay', '--tls-reply', '999=999 x', 'pcaps/tls/tls13-mixed.pcap']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--tls-reply.*reply code 999 is not one the model uses/);
  const empty = smtpstrike(['replay', '--tls-reply', '535=', 'pcaps/tls/tls13-mixed.pcap']);
  assert.equal(empty.status, 1);
  assert.match(empty.stderr, /535: empty reply text/);
  const nofile = smtpstrike(['replay', '--tls-replies-file', '/nonexistent/x.json', 'pcaps/tls/tls13-mixed.pcap']);
  assert.equal(nofile.status, 1);
  assert.match(nofile.stderr, /tls replies file \/nonexistent\/x.json: cannot read: ENOENT/);
});

test('config tls_replies: a mapping code -> text, kept as --tls-reply strings; bad ones refused with their line', () => {
  const ok = parseConfig(
    `hitcount: 5\ntls_replies:\n  535: "535 Incorrect authentication data"\n  221: 221 mx1.example.org closing connection\ntls_replies_file: /etc/smtpstrike/replies.json\n`,
  );
  assert.deepEqual(ok.get('tlsReply'), ['535=535 Incorrect authentication data', '221=221 mx1.example.org closing connection']);
  assert.equal(ok.get('tlsRepliesFile'), '/etc/smtpstrike/replies.json');
  const bad = (text: string, line: number, re: RegExp): void => {
    assert.throws(
      () => parseConfig(text, 'c.yaml'),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e));
        assert.equal(e.line, line, e.message);
        assert.match(e.message, re);
        return true;
      },
    );
  };
  bad('tls_replies:\n  535: "535 ok"\n  550: "550 no"\n', 3, /tls_replies: "550" is not a reply code the model uses/);
  bad('tls_replies:\n  535: ""\n', 2, /tls_replies\.535: empty reply text/);
  bad('tls_replies:\n  535:\n', 2, /tls_replies\.535: expected the reply text/);
  bad('tls_replies:\n  235: "Authentication succeeded"\n', 2, /tls_replies\.235: line 1 .* must start with "235 "/);
  bad('tls_replies: [535, 235]\n', 1, /tls_replies: expected a mapping of reply code to text/);
  bad('tls_replys:\n  535: x\n', 1, /unknown key "tls_replys".*tls_replies/);
});

test('the calibration file: its replies are read; anything else is refused with the reason', () => {
  const doc = {
    smtpstrike_calibration: 1,
    server: '10.0.0.1:587',
    banner: POSTFIX_BANNER,
    replies: { 535: PF535, 334: '334 VXNlcm5hbWU6', 221: '221 2.0.0 Bye' },
    lengths: {},
    tls: { protocol: null, cipher: null, record_lengths: null },
  };
  assert.deepEqual(parseCalibrationFile(JSON.stringify(doc)), { 535: PF535, 334: '334 VXNlcm5hbWU6', 221: '221 2.0.0 Bye' });
  assert.throws(() => parseCalibrationFile('{'), /not JSON/);
  assert.throws(() => parseCalibrationFile('{"replies":{}}'), /not a file saved by `smtpstrike calibrate`/);
  assert.throws(() => parseCalibrationFile(JSON.stringify({ ...doc, replies: { 221: '221 Bye' } })), /no 535 text/);
  assert.throws(() => parseCalibrationFile(JSON.stringify({ ...doc, replies: { 535: 'oops' } })), /must start with "535 "/);
});

test('banner -> built-in profile: Postfix, Exim (its host name in the 221), unknown and none -> default, known: false', () => {
  const r = new ReplyResolver();
  const pf = r.forSession(POSTFIX_BANNER);
  assert.deepEqual(pf, { sizes: POSTFIX_DOVECOT, known: true, source: 'banner', timing: DOVECOT_TIMING });
  const ex = r.forSession(EXIM_BANNER);
  assert.equal(ex.known, true);
  assert.equal(ex.timing, null, 'Exim answers a 535 as fast as a 235: no timing model');
  assert.equal(ex.source, 'banner');
  assert.deepEqual(ex.sizes, {
    failure: '535 Incorrect authentication data\r\n'.length, // 35
    success: '235 Authentication succeeded\r\n'.length,
    tempfail: null, // Exim answers 435, never 454: not guessed
    challenge: '334 VXNlcm5hbWU6\r\n'.length,
    quit: '221 mx1.example.org closing connection\r\n'.length,
  });
  assert.equal(ex.sizes.failure, 35);
  // Another Exim host name: another 221 size; the same host name: the same object (cached).
  assert.equal(r.forSession('220 a.b ESMTP Exim 4.94.2 Mon, 1 Jan').sizes.quit, '221 a.b closing connection\r\n'.length);
  assert.equal(r.forSession(EXIM_BANNER), ex);
  assert.equal(bannerProfile('220 mail.example.com Microsoft ESMTP MAIL Service ready'), null);
  for (const b of ['220 mail.example.com Microsoft ESMTP MAIL Service ready', null]) {
    const d = r.forSession(b);
    assert.deepEqual(d, { sizes: POSTFIX_DOVECOT, known: false, source: 'default', timing: DOVECOT_TIMING }, String(b));
  }
});

test('precedence per code: option over file over log over banner over default; source = where the 535 came from', () => {
  const opt = { 535: '535 from option' };
  const file = { 535: '535 from the calibration file', 221: '221 file bye' };
  const log = { 535: '535 from the log, longer than the others' };
  const len = replyLength;
  const all = new ReplyResolver({ option: opt, file, log });
  let s: ReplySource = all.forSession(EXIM_BANNER);
  assert.equal(s.source, 'option');
  assert.equal(s.known, true);
  assert.equal(s.sizes.failure, len(opt[535]));
  assert.equal(s.sizes.quit, len(file[221])); // the file's 221 over the banner's
  assert.equal(s.sizes.success, len('235 Authentication succeeded')); // the banner's 235 where nothing else gave one
  s = new ReplyResolver({ file, log }).forSession(EXIM_BANNER);
  assert.deepEqual([s.source, s.sizes.failure], ['file', len(file[535])]);
  s = new ReplyResolver({ log }).forSession(EXIM_BANNER);
  assert.deepEqual([s.source, s.sizes.failure, s.sizes.quit], ['log', len(log[535]), len('221 mx1.example.org closing connection')]);
  s = new ReplyResolver({ log }).forSession(null);
  assert.deepEqual([s.source, s.known, s.sizes.failure, s.sizes.success], ['log', true, len(log[535]), POSTFIX_DOVECOT.success]);
  // Only a 221 given: the 535 is still the banner's (or the default's, unknown).
  s = new ReplyResolver({ option: { 221: '221 x' } }).forSession(null);
  assert.deepEqual([s.source, s.known, s.sizes.quit], ['default', false, len('221 x')]);
  // Every code given: the banner cannot change anything, so sessions do not keep it.
  assert.equal(new ReplyResolver({ option: { 535: '535 a', 235: '235 b', 454: '454 c', 334: '334 d', 221: '221 e' } }).needsBanner, false);
  assert.equal(new ReplyResolver({ option: opt }).needsBanner, true);
});

test('pipelineOptionsFrom: --tls-reply over --tls-replies-file, both over the banner', () => {
  const dir = mkdtempSync(join(tmpdir(), 'smtpstrike-replies-'));
  try {
    const f = join(dir, 'r.json');
    writeFileSync(
      f,
      JSON.stringify({
        smtpstrike_calibration: 1,
        server: 'x',
        banner: null,
        replies: { 535: '535 file', 221: '221 file' },
        lengths: {},
        tls: { protocol: null, cipher: null, record_lengths: null },
      }),
    );
    const base = { ...defaultFlags(), tlsRepliesFile: f };
    const r1 = pipelineOptionsFrom(base).tlsReplies.forSession(POSTFIX_BANNER);
    assert.deepEqual([r1.source, r1.sizes.failure, r1.sizes.quit], ['file', replyLength('535 file'), replyLength('221 file')]);
    const r2 = pipelineOptionsFrom({ ...base, tlsReply: ['535=535 from the option'] }).tlsReplies.forSession(POSTFIX_BANNER);
    assert.deepEqual([r2.source, r2.sizes.failure], ['option', replyLength('535 from the option')]);
    const r3 = pipelineOptionsFrom(base, { 535: '535 log' }).tlsReplies.forSession(null);
    assert.equal(r3.source, 'file');
    writeFileSync(f, 'not json');
    assert.throws(() => pipelineOptionsFrom(base), /tls replies file .*r\.json: not JSON/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function defaultFlags(): PipelineFlags {
  const d = defaultPipelineOptions();
  return {
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
  };
}

interface Truth {
  inside_tls: Record<string, InferredCounts>;
}
const TLS13 = 'pcaps/tls/tls13-mixed.pcap';
const truth13 = (): Map<string, InferredCounts> => truthCounts((JSON.parse(readFileSync('pcaps/tls/tls13-mixed.truth.json', 'utf8')) as Truth).inside_tls);

test('the sessions hand their cleartext banner to the resolver; the Postfix captures resolve to the Postfix profile', async () => {
  const banners: (string | null)[] = [];
  const seen: ReplySource[] = [];
  class Spy extends ReplyResolver {
    override forSession(banner: string | null): ReplySource {
      banners.push(banner);
      const s = super.forSession(banner);
      seen.push(s);
      return s;
    }
  }
  const o = defaultPipelineOptions();
  o.tlsReplies = new Spy();
  const { clients, stats } = await inferCapture(TLS13, o);
  assert.equal(banners.length, stats.opaqueFlows);
  assert.ok(banners.length > 0);
  for (const b of banners) assert.equal(b, POSTFIX_BANNER);
  for (const s of seen) assert.deepEqual([s.source, s.known], ['banner', true]);
  assert.deepEqual(clients, truth13());

  // Every code given: the banner cannot matter, so no session keeps it.
  banners.length = 0;
  const all = defaultPipelineOptions();
  all.tlsReplies = new Spy({
    option: replyTextsFromArgs([`535=${PF535}`, '235=235 2.7.0 Authentication successful', '454=454 4.7.0 x', '334=334 VXNlcm5hbWU6', '221=221 2.0.0 Bye']),
  });
  await inferCapture(TLS13, all);
  assert.ok(banners.length > 0);
  for (const b of banners) assert.equal(b, null);
});

test('the sizes are really used: a wrong explicit 535 size infers no failure by size on a shipped capture; the right one all', async () => {
  const t = truth13();
  const failures = [...t.values()].reduce((n, c) => n + c.failures, 0);
  assert.ok(failures > 0);
  const wrong = defaultPipelineOptions();
  wrong.tlsReplies = new ReplyResolver({ option: replyTextsFromArgs(['535=535 Incorrect authentication data']) });
  const w = await inferCapture(TLS13, wrong);
  assert.equal(w.failuresBySize, 0);
  // What is left is timing alone: the slow end of a LOGIN exchange (after its 334s) whose size is
  // now unknown; the AUTH PLAIN failures (no 334 before them) are not read at all.
  assert.ok(w.stats.tlsInferredFailures < failures, `${w.stats.tlsInferredFailures} of ${failures}`);
  const right = defaultPipelineOptions();
  right.tlsReplies = new ReplyResolver({ option: replyTextsFromArgs([`535=${PF535}`]) });
  const r = await inferCapture(TLS13, right);
  assert.equal(r.stats.tlsInferredFailures, failures);
  assert.equal(r.failuresBySize, failures);
  assert.deepEqual(r.clients, t);
});

/** STARTTLS after `banner`, TLS 1.3, AUTH PLAIN with an initial response answered by a record of `replyLen`, 0.3 s later. */
function bannerSession(f: FrameList, port: number, banner: string, replyLen: number): void {
  const T0 = 1_768_039_200_000_000; // µs
  const recs = (...r: [number, number][]): Buffer => Buffer.concat(r.map(([type, len]) => recordBytes(type, len)));
  const c = f.conversation('en10mb', '198.51.100.30', port, '192.0.2.25', 587);
  let t = T0;
  c.open(t);
  c.fromServer(`${banner}\r\n`, (t += 1000));
  c.fromClient('EHLO bot\r\n', (t += 1000));
  c.fromServer('250-mx1.example.org\r\n250 STARTTLS\r\n', (t += 1000));
  c.fromClient('STARTTLS\r\n', (t += 1000));
  c.fromServer('220 TLS go ahead\r\n', (t += 1000));
  c.fromClient(recs([22, 512]), (t += 1000));
  c.fromServer(recs([22, 122], [20, 1], [23, 2100], [23, 286], [23, 69]), (t += 1000));
  c.fromClient(recs([20, 1], [23, 69]), (t += 1000));
  c.fromServer(recs([23, 218]), (t += 1000)); // ticket
  c.fromClient(recs([23, 25]), (t += 1000)); // EHLO
  c.fromServer(recs([23, 150]), (t += 1000)); // EHLO reply
  c.fromClient(recs([23, 60]), (t += 1000)); // AUTH PLAIN …
  c.fromServer(recs([23, replyLen]), (t += 300_000)); // the outcome
  c.close(t + 1000);
}

test('end to end: an Exim banner makes a 52-byte TLS 1.3 reply a 535 (35 + 17); the same record under a Postfix banner is none', async () => {
  const EXIM_535 = 35 + 17;
  const seen: ReplySource[] = [];
  class Spy extends ReplyResolver {
    override forSession(banner: string | null): ReplySource {
      const s = super.forSession(banner);
      seen.push(s);
      return s;
    }
  }
  const exim = await replayFrames(
    (f) => bannerSession(f, 40200, EXIM_BANNER, EXIM_535),
    (o) => (o.tlsReplies = new Spy()),
  );
  assert.equal(exim.pipeline.smtpStats.tlsInferredFailures, 1);
  assert.deepEqual([seen[0]!.source, seen[0]!.sizes.failure], ['banner', 35]);
  const postfix = await replayFrames((f) => bannerSession(f, 40201, '220 mx1.example.org ESMTP Postfix', EXIM_535));
  assert.equal(postfix.pipeline.smtpStats.tlsInferredFailures, 0);
  const postfix79 = await replayFrames((f) => bannerSession(f, 40202, '220 mx1.example.org ESMTP Postfix', 79));
  assert.equal(postfix79.pipeline.smtpStats.tlsInferredFailures, 1);
  // Explicit sizes win over the banner: Exim banner, Postfix's 535 given.
  const given = await replayFrames(
    (f) => bannerSession(f, 40203, EXIM_BANNER, 79),
    (o) => (o.tlsReplies = new ReplyResolver({ option: { 535: PF535 } })),
  );
  assert.equal(given.pipeline.smtpStats.tlsInferredFailures, 1);
});

test("the built-in Exim texts are the ones the Exim 4.96 test-bed captures read in clear (their truths' replies)", () => {
  const truths = ['exim-tls13', 'exim-tls12-gcm', 'exim-tls12-cbc'].map(
    (n) => JSON.parse(readFileSync(`pcaps/tls/${n}.truth.json`, 'utf8')) as { replies: Record<string, string | string[]> },
  );
  const builtin = eximTexts('mail.example.test');
  for (const t of truths) {
    assert.equal(builtin[535], t.replies['535']);
    assert.equal(builtin[235], t.replies['235']);
    assert.equal(builtin[221], t.replies['221']);
    const prompts = ([] as string[]).concat(t.replies['334'] ?? []);
    assert.ok(prompts.length > 0 && prompts.every((p) => replyLength(p) === replyLength(builtin[334]!)), `334 prompts ${prompts.join(', ')}`);
    assert.equal(t.replies['454'], undefined, 'no 454 seen: the built-in leaves it unknown');
  }
  assert.equal(builtin[454], undefined);
});
