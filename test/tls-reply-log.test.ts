/**
 * The 535 text learned from a mail log (`report`, issue 10 item 3): Postfix and Exim lines, the
 * Postfix temporary failure skipped, several texts → none (and said so), and report's precedence:
 * --tls-reply / --tls-replies-file over the log, the log over the banner.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPipelineOptions } from '../src/pipeline.js';
import { failureTextOf, learnFailureText } from '../src/report/reply-texts.js';
import { logReplies, type ReportOptions } from '../src/report/make-report.js';
import { ReplyResolver, replyLength } from '../src/tls/reply-profiles.js';

const PF_FAIL =
  'Dec  5 02:32:51 mail postfix/submission/smtpd[17833]: warning: unknown[10.200.0.2]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=x';
const PF_TEMP =
  'Dec  5 02:33:01 mail postfix/submission/smtpd[17833]: warning: unknown[10.200.0.2]: SASL LOGIN authentication failed: Connection lost to authentication server';
const PF_CYRUS = 'Feb 17 12:36:16 mx postfix/smtpd[1]: warning: unknown[192.0.2.7]: SASL PLAIN authentication failed: generic failure';
const EXIM_FAIL =
  '2023-02-14 11:00:03 fixed_login authenticator failed for (User) [192.0.2.9]:53648 I=[192.0.2.1]:587: 535 Incorrect authentication data (set_id=donna)';
const EXIM_NOID = '2023-02-14 11:00:04 plain_server authenticator failed for ([192.0.2.33]) [192.0.2.10]: 535 Incorrect authentication data';

test('the 535 text of a log line: Postfix (its reason), Exim (up to " (set_id"); temporary failures and others: none', () => {
  assert.equal(failureTextOf(PF_FAIL), '535 5.7.8 Error: authentication failed: (reason unavailable)');
  assert.equal(failureTextOf(PF_CYRUS), '535 5.7.8 Error: authentication failed: generic failure');
  assert.equal(failureTextOf(PF_TEMP), null); // answered 454, not 535
  assert.equal(failureTextOf(EXIM_FAIL), '535 Incorrect authentication data');
  assert.equal(failureTextOf(EXIM_NOID), '535 Incorrect authentication data');
  assert.equal(failureTextOf('2023-02-14 11:00:05 x authenticator failed for [192.0.2.9]: 435 Unable to authenticate at present'), null);
  assert.equal(failureTextOf('Dec  5 02:32:51 mail dovecot: auth: passwd-file(x,10.0.0.1): unknown user'), null);
});

function withLogs(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'smtpstrike-replylog-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('learnFailureText: one text over the logs → it; two different texts → none, both listed', () =>
  withLogs(async (dir) => {
    writeFileSync(join(dir, 'a.log'), `${PF_FAIL}\n${PF_TEMP}\n${PF_FAIL}\n`);
    writeFileSync(join(dir, 'b.log'), `${EXIM_FAIL}\n`);
    const one = await learnFailureText([join(dir, 'a.log'), '-']);
    assert.deepEqual([one.text, one.lines, one.skipped], ['535 5.7.8 Error: authentication failed: (reason unavailable)', 2, ['-']]);
    const two = await learnFailureText([join(dir, 'a.log'), join(dir, 'b.log')]);
    assert.equal(two.text, null);
    assert.deepEqual(two.texts, ['535 5.7.8 Error: authentication failed: (reason unavailable)', '535 Incorrect authentication data']);
  }));

const reportOptions = (tlsReplies: ReplyResolver): ReportOptions => {
  const pipeline = defaultPipelineOptions();
  pipeline.tlsReplies = tlsReplies;
  return {
    pipeline,
    mode: 'all',
    zone: 0,
    tolerance: 2,
    gap: 3600,
    minFailures: 1,
    distributedMin: 4,
    distributedWindow: 86400,
    limit: 2,
    whitelist: null,
    geoLevel: 0,
    geoDb: [],
    warn: () => {},
  };
};

test("report: the log's 535 over the banner, below --tls-reply and --tls-replies-file; ambiguous: none, with a warning", () =>
  withLogs(async (dir) => {
    const exim = join(dir, 'exim.log');
    writeFileSync(exim, `${EXIM_FAIL}\n`);
    const inputs = { captures: ['pcaps/tls/tls13-mixed.pcap'], state: null, logs: [exim] };
    const fromLog = await logReplies(inputs, reportOptions(new ReplyResolver()), () => {});
    assert.deepEqual(fromLog.doc, {
      failure_source: 'log',
      log_failure_text: '535 Incorrect authentication data',
      log_failure_texts: ['535 Incorrect authentication data'],
    });
    const s = fromLog.pipeline.tlsReplies.forSession('220 mail.example.test ESMTP Postfix (Debian/GNU)');
    assert.deepEqual([s.source, s.known, s.sizes.failure], ['log', true, 35]);

    const given = await logReplies(inputs, reportOptions(new ReplyResolver({ option: { 535: '535 given' } })), () => {});
    assert.equal(given.doc.failure_source, 'option');
    assert.equal(given.pipeline.tlsReplies.forSession(null).sizes.failure, replyLength('535 given'));
    const file = await logReplies(inputs, reportOptions(new ReplyResolver({ file: { 535: '535 calibrated' } })), () => {});
    assert.equal(file.doc.failure_source, 'file');

    const both = join(dir, 'both.log');
    writeFileSync(both, `${EXIM_FAIL}\n${PF_FAIL}\n`);
    const warnings: string[] = [];
    const amb = await logReplies({ ...inputs, logs: [both] }, reportOptions(new ReplyResolver()), (m) => warnings.push(m));
    assert.equal(amb.doc.failure_source, 'banner');
    assert.equal(amb.doc.log_failure_texts.length, 2);
    assert.equal(amb.pipeline.tlsReplies.forSession(null).source, 'default');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /the logs show 2 different 535 texts .* none is used/);

    // Without a capture there is nothing to infer: the logs are not read for it.
    const noCap = await logReplies({ ...inputs, captures: [] }, reportOptions(new ReplyResolver()), () => {});
    assert.deepEqual(noCap.doc.log_failure_texts, []);
  }));

test('report --json: tls_replies in the document; the ambiguous case is said on stderr', () =>
  withLogs(async (dir) => {
    const both = join(dir, 'both.log');
    writeFileSync(both, `${EXIM_FAIL}\n${PF_FAIL}\n`);
    const r = spawnSync(
      process.execPath,
      ['dist/src/cli.js', 'report', '-c', '/dev/null', '--json', '-g', '0', '--capture', 'pcaps/tls/tls13-mixed.pcap', '--logs', both],
      { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } },
    );
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { tls_replies: { failure_source: string; log_failure_texts: string[] }; warnings: string[] };
    assert.equal(doc.tls_replies.failure_source, 'banner');
    assert.equal(doc.tls_replies.log_failure_texts.length, 2);
    assert.ok(
      doc.warnings.some((w) => /different 535 texts/.test(w)),
      doc.warnings.join('\n'),
    );
    assert.match(r.stderr, /different 535 texts/);
  }));
