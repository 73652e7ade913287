/**
 * The account parsers against real third-party logs (MANIFEST.md §2–3 of ../shared/corpus). The
 * MIT and ISC samples (CrowdSec hub, SSHGuard) are copied in test/fixtures/third-party; fail2ban's
 * are GPL, so they are never copied and are read from the shared corpus, each test skipping
 * loudly when it is absent. Each file: exact counts of successes and failures (derived below from
 * the manifest's tables and our documented failure kinds), every failure/success address checked
 * against the file's own ground truth (fail2ban's `failJSON` `host`, CrowdSec's `.assert`
 * `source_ip`, SSHGuard's expected attacker), and no line of any file may throw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LogScanner, parseLine } from '../src/accounts/parse-logs.js';
import type { AuthLogEvent } from '../src/accounts/types.js';
import { IN_REPO_CORPUS, readCorpusText, requireCorpus, SHARED_CORPUS, skipMissing } from './support/corpus.js';

async function scan(
  file: string,
): Promise<{ events: AuthLogEvent[]; counts: { successes: number; failures: number; tempfails: number; lines: number; unparseable: number } }> {
  const events: AuthLogEvent[] = [];
  const c = await new LogScanner({ mode: 'all', tz: 'UTC', year: 2005 }).scanFile(file, (e) => events.push(e));
  assert.equal(c.error, undefined, c.error);
  return { events, counts: c };
}

/** [successes, failures] per file, with how the numbers follow from the manifest. */
const EXPECTED: Record<string, [number, number, string, number?]> = {
  // Manifest: 4 × Accepted (password ×3, publickey ×1). Failures by our kinds: 30 `Failed <method>`
  // (13 Failed password + publickey/keyboard-interactive/hostbased/unknown variants; `Failed none`
  // is a probe, not counted), 4 Invalid user with an address, 4 `User … not allowed`, 3 ROOT LOGIN
  // REFUSED, 15 PAM (pam_unix and `error: PAM:`). Lines whose address is a host name
  // (example.com) or not an address (192.030.0.6) are unparseable, not failures.
  'fail2ban/sshd': [4, 56, 'sshd'],
  // The same samples without timestamps (journal messages): 4 Accepted; 6 fewer failures
  // (the samples this file leaves out).
  'fail2ban/sshd-journal': [4, 50, 'sshd-journal'],
  // Manifest: 20 auth failed, 6 Password mismatch, 6 unknown user, 4 pam = 36; plus 5 passdb
  // lines the manifest's words miss: 2 "(password mismatch?)" in lower case, 1 "Permission
  // denied", 1 "User not known to the underlying authentication module", 1 LDAP "invalid credentials".
  'fail2ban/dovecot': [0, 41, 'dovecot'],
  'fail2ban/exim': [0, 12, 'exim: 12 × authenticator failed'],
  // One of the 14 `SASL … authentication failed` lines (in both files) is `Connection lost to
  // authentication server`: Postfix answered it 454, a temporary failure, not a failure. The
  // `disconnect … auth=0/1` lines carry no login (and their failures are the warning lines').
  'fail2ban/postfix': [0, 13, 'postfix: 14 × SASL authentication failed, 1 of them a 454', 1],
  'fail2ban/postfix-sasl.legacy': [0, 8, 'postfix-sasl: 9 × SASL failed, 1 of them a 454', 1],
  'fail2ban/openwebmail': [0, 2, 'openwebmail: 2 × login error (userinfo error is the same attempt)'],
  // sshd samples of fail2ban's unit tests: one Failed password whose address is an address.
  'fail2ban/testcase-usedns.log': [0, 1, 'testcase-usedns'],
  'crowdsec-hub/dovecot-logs--dovecot-logs.log': [1, 13, '5 auth failed + 2 Password mismatch + 5 unknown user + 1 pam_authenticate() failed; 1 Login'],
  'crowdsec-hub/dovecot-slow-bf--dovecot-slow-bf.log': [0, 4, '4 auth failed'],
  'crowdsec-hub/dovecot-time-based-bf--dovecot-time-based-bf.log': [0, 4, '4 auth failed'],
  'crowdsec-hub/postfix-logs--postfix-logs.log': [0, 1, '1 SASL failed'],
  'crowdsec-hub/postfix-sasl-bf--postfix-sasl-bf.log': [0, 3, '3 SASL LOGIN failed'],
  'crowdsec-hub/exim-bf--exim-bf.log': [0, 5, '5 authenticator failed'],
  'crowdsec-hub/exim-logs--exim-logs.log': [0, 6, '6 authenticator failed'],
  'crowdsec-hub/exim-syslog-logs--exim-logs.log': [0, 5, '5 authenticator failed, syslog-prefixed'],
  // Manifest: 1 Failed password, 7 lines saying invalid user, 2 pam. Of the 7, 4 are `Invalid user
  // X from IP` attempts; the others are disconnect notices (and the Failed password line); plus 1
  // `User root … not allowed`.
  'crowdsec-hub/sshd-logs--sshd-logs.log': [0, 8, 'sshd-logs'],
  'crowdsec-hub/sshd-success-logs--sshd-success-logs.log': [4, 0, '4 Accepted (publickey ×3, password ×1)'],
  'crowdsec-hub/sshd-impossible-travel--sshd-success-logs.log': [2, 0, '2 Accepted publickey'],
  'crowdsec-hub/ssh-bf--ssh-bf.log': [0, 6, '6 Invalid user'],
  'crowdsec-hub/ssh-slow-bf--ssh-slow-bf.log': [0, 22, '22 Invalid user'],
  'crowdsec-hub/sshd-invalid-bf--sshd-invalid-bf.log': [0, 0, 'preauth disconnects only'],
  'crowdsec-hub/apache2-logs--apache2-logs.log': [0, 0, 'no authenticated user; the error_log line is not an access log'],
  'crowdsec-hub/exchange-smtp-bf--exchange-smtp-bf.log': [0, 0, 'Exchange protocol log: not a supported format'],
};

for (const [rel, [successes, failures, why, tempfails = 0]] of Object.entries(EXPECTED)) {
  test(`corpus: ${rel}: ${successes} successes, ${failures} failures${tempfails ? `, ${tempfails} tempfails` : ''} (${why})`, async (t) => {
    const path = requireCorpus(t, rel);
    if (path === null) return;
    const { events, counts } = await scan(path);
    assert.equal(counts.successes, successes);
    assert.equal(counts.failures, failures);
    assert.equal(counts.tempfails, tempfails);
    assert.equal(events.length, successes + failures + tempfails);
  });
}

/** Every file of a corpus source folder: the in-repo copies, or else the shared corpus's. */
function sourceFiles(dir: string): string[] {
  for (const root of [IN_REPO_CORPUS, SHARED_CORPUS]) {
    const d = join(root, dir);
    if (existsSync(d))
      return readdirSync(d)
        .filter((f) => !/^LICENSE/.test(f))
        .map((f) => join(d, f));
  }
  return [];
}

for (const [dir, atLeast] of [
  ['crowdsec-hub', 20],
  ['sshguard', 1],
  ['fail2ban', 25],
] as const) {
  test(`corpus: every ${dir} file parses without throwing, in every mode; counts add up`, async (t) => {
    const files = sourceFiles(dir);
    if (files.length === 0) {
      skipMissing(t, `${dir}/`);
      return;
    }
    assert.ok(files.length >= atLeast, `only ${files.length} files`);
    for (const f of files) {
      const { counts } = await scan(f);
      const text = readCorpusText(f);
      const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
      assert.equal(counts.lines, lines, f);
      // Line by line too, every line on its own, in every mode.
      for (const line of text.split('\n')) {
        for (const mode of ['all', 'exim', 'postfix', 'dovecot', 'ssh', 'apache', 'openwebmail'] as const) parseLine(line, { mode, tz: 'UTC', year: 2005 });
      }
    }
  });
}

/** fail2ban: the `# failJSON: {...}` comment before a sample line holds its expected host and time. */
for (const name of ['sshd', 'dovecot', 'exim', 'postfix', 'postfix-sasl.legacy', 'openwebmail']) {
  test(`corpus: fail2ban/${name}: every address we report is fail2ban's "host" for that line`, async (t) => {
    const path = requireCorpus(t, `fail2ban/${name}`);
    if (path === null) return;
    const { events } = await scan(path);
    const lines = readCorpusText(path).split('\n');
    let checked = 0;
    for (const e of events) {
      const prev = lines[e.line - 2] ?? '';
      if (!prev.startsWith('# failJSON:')) continue;
      const want = JSON.parse(prev.slice('# failJSON:'.length)) as { match?: boolean; host?: string; time?: string };
      if (want.host !== undefined) {
        assert.equal(e.ip, want.host, `line ${e.line}: ${lines[e.line - 1]}`);
        checked++;
      }
      // fail2ban's times are in its own test zone, so minutes and seconds are compared. (Not for
      // RFC 5424 lines, converted to that zone, nor tai64n labels, which fail2ban reads without
      // daemontools' 10 s TAI offset.)
      const first = lines[e.line - 1]!.charAt(0);
      if (want.time !== undefined && e.outcome === 'failure' && first !== '<' && first !== '@') {
        assert.equal(new Date(e.ts * 1000).toISOString().slice(14, 19), want.time.slice(14, 19), `line ${e.line}`);
      }
    }
    assert.ok(checked > 0, 'no line with a failJSON host was reported');
  });
}

/** CrowdSec: `results["s01-parse"]["<parser>"][i].Evt.Meta["source_ip"] == "..."` for line i+1. */
for (const [log, assertFile] of [
  ['sshd-logs--sshd-logs.log', 'sshd-logs--parser.assert'],
  ['dovecot-logs--dovecot-logs.log', 'dovecot-logs--parser.assert'],
  ['postfix-logs--postfix-logs.log', 'postfix-logs--parser.assert'],
  ['exim-logs--exim-logs.log', 'exim-logs--parser.assert'],
] as const) {
  test(`corpus: crowdsec-hub/${log}: addresses and users agree with CrowdSec's parser.assert`, async (t) => {
    const path = requireCorpus(t, `crowdsec-hub/${log}`);
    const ap = path === null ? null : requireCorpus(t, `crowdsec-hub/${assertFile}`);
    if (path === null || ap === null) return;
    const ips = new Map<number, string>();
    const users = new Map<number, string>();
    for (const m of readCorpusText(ap).matchAll(
      /^results\["s01-parse"\]\["[^"]+"\]\[(\d+)\]\.Evt\.(?:Meta\["source_ip"\]|Parsed\["(dovecot_user)"\]) == "([^"]*)"$/gm,
    )) {
      (m[2] ? users : ips).set(Number(m[1]), m[3]!);
    }
    const { events } = await scan(path);
    assert.ok(events.length > 0);
    for (const e of events) {
      assert.equal(e.ip, ips.get(e.line - 1), `line ${e.line}`);
      const u = users.get(e.line - 1);
      if (u !== undefined) assert.equal(e.user, u, `line ${e.line}`);
    }
  });
}

/**
 * SSHGuard's parser vectors (src/parser/tests.txt: input line, expected `service ip af danger`
 * or `*`, then `M`): every failure we find is an attack SSHGuard sees from the same address,
 * every success is a line SSHGuard calls harmless (`*`).
 */
test('corpus: sshguard/tests.txt: our failures are its attacks, same address; our successes its non-attacks', async (t) => {
  const path = requireCorpus(t, 'sshguard/tests.txt');
  if (path === null) return;
  const lines = readCorpusText(path).split('\n');
  let failures = 0;
  let successes = 0;
  for (let i = 0; i + 2 < lines.length; i++) {
    if (lines[i + 2] !== 'M' || lines[i] === 'M' || lines[i]!.startsWith('#')) continue;
    const r = parseLine(lines[i]!, { mode: 'all', tz: 'UTC', year: 2023 });
    if (!r.event) continue;
    const expect = lines[i + 1]!;
    if (r.event.outcome === 'success') {
      assert.equal(expect, '*', lines[i]);
      successes++;
    } else {
      const ip = expect.split(' ')[1];
      assert.equal(r.event.ip, ip, `${lines[i]} → ${expect}`);
      failures++;
    }
  }
  assert.equal(successes, 1);
  assert.equal(failures, 16);
});
