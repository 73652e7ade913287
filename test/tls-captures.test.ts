/**
 * The TLS-only test-bed captures (pcaps/tls, made by scripts/testbed/make-tls-captures.sh) against their
 * ground truth: every AUTH happened inside STARTTLS, so a replay must see exactly the truth's flows and
 * opaque flows and no AUTH outcome in clear text; and the truth itself must be consistent (per-client
 * counts = the sum of that client's sessions). No root needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { smtpstrike } from './support/cli.js';

const DIR = 'pcaps/tls';

interface TlsSession {
  port: number;
  client_port: number;
  tls_version: string;
  cipher: string;
  outcomes: number[];
  users: (string | null)[];
  mail: boolean;
  mail_after_auth: boolean;
  encrypt_then_mac?: boolean;
  pipelined?: boolean;
}
interface TlsClient {
  failures: number;
  successes: number;
  tempfails: number;
  sessions: TlsSession[];
}
interface TlsTruth {
  capture: string;
  clients: Record<string, unknown>;
  flows: number;
  opaque_flows: number;
  tls: { versions: string[]; ciphers: string[] };
  inside_tls: Record<string, TlsClient>;
}

const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.truth.json'))
  .sort();
const load = (f: string): TlsTruth => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as TlsTruth;

/** Problems of a truth file on its own (empty when consistent). */
function truthProblems(t: TlsTruth): string[] {
  const out: string[] = [];
  let sessions = 0;
  for (const [ip, c] of Object.entries(t.inside_tls)) {
    const all = c.sessions.flatMap((s) => s.outcomes);
    const n = (code: number): number => all.filter((o) => o === code).length;
    if (c.failures !== n(535)) out.push(`${ip}: failures ${c.failures} != ${n(535)} 535s in its sessions`);
    if (c.successes !== n(235)) out.push(`${ip}: successes ${c.successes} != ${n(235)} 235s in its sessions`);
    if (c.tempfails !== n(454)) out.push(`${ip}: tempfails ${c.tempfails} != ${n(454)} 454s in its sessions`);
    if (all.some((o) => o !== 535 && o !== 235 && o !== 454)) out.push(`${ip}: an outcome other than 535/235/454`);
    for (const s of c.sessions) {
      if (s.users.length !== s.outcomes.length) out.push(`${ip}:${s.client_port}: ${s.users.length} users for ${s.outcomes.length} outcomes`);
      if (!t.tls.versions.includes(s.tls_version) || !t.tls.ciphers.includes(s.cipher)) out.push(`${ip}:${s.client_port}: version/cipher not in "tls"`);
      if (s.mail_after_auth !== (s.mail && s.outcomes.includes(235))) out.push(`${ip}:${s.client_port}: mail_after_auth disagrees with mail and outcomes`);
    }
    sessions += c.sessions.length;
  }
  if (sessions !== t.opaque_flows) out.push(`opaque_flows ${t.opaque_flows} != ${sessions} sessions`);
  if (Object.keys(t.clients).length !== 0) out.push('clients must be empty: nothing is readable in clear text');
  return out;
}

/** Problems of the replay of a capture against its truth (empty when it matches). */
function replayProblems(t: TlsTruth): string[] {
  const r = smtpstrike(['replay', '--json', '--summary-only', join(DIR, t.capture)]);
  if (r.status !== 0 || !r.summary) return [`replay failed (status ${String(r.status)}): ${r.stderr}`];
  const out: string[] = [];
  const cov = { flows: Number(r.summary.coverage.flows), opaque_flows: r.summary.coverage.opaque_flows };
  const tot = r.summary.totals as { failures: number; successes: number; tempfails: number };
  if (cov.flows !== t.flows) out.push(`flows ${cov.flows} != truth ${t.flows}`);
  if (cov.opaque_flows !== t.opaque_flows) out.push(`opaque flows ${cov.opaque_flows} != truth ${t.opaque_flows}`);
  if (tot.failures + tot.successes + tot.tempfails !== 0) out.push(`clear-text AUTH outcomes counted: ${JSON.stringify(tot)}`);
  for (const [ip, c] of Object.entries(r.summary.clients)) {
    if (c.failures + c.successes + c.tempfails !== 0) out.push(`${ip}: clear-text outcomes ${JSON.stringify(c)}`);
  }
  return out;
}

test('pcaps/tls covers the scenarios of issue 10 item 6', () => {
  assert.ok(files.length >= 4, `${files.length} truth files in ${DIR}`);
  const sessions = files.flatMap((f) => Object.values(load(f).inside_tls).flatMap((c) => c.sessions));
  const has = (p: (s: TlsSession) => boolean, what: string): void => assert.ok(sessions.some(p), what);
  has((s) => s.tls_version === '1.3', 'TLS 1.3');
  has((s) => s.tls_version === '1.2' && s.cipher.includes('GCM'), 'TLS 1.2 AES-GCM');
  has((s) => s.tls_version === '1.2' && s.encrypt_then_mac === true, 'TLS 1.2 CBC with encrypt-then-MAC');
  has((s) => s.encrypt_then_mac === false, 'TLS 1.2 CBC without encrypt-then-MAC');
  has((s) => s.outcomes.length >= 3, 'several AUTHs in one session');
  has((s) => s.pipelined === true, 'pipelined AUTHs');
  has((s) => s.mail_after_auth, 'a mail after the 235');
  has((s) => s.outcomes.length === 0 && s.mail, 'a mail with no AUTH (354/250 the size of a 235, no outcome)');
  has((s) => s.outcomes.length === 0 && !s.mail, 'a session with no AUTH and no mail');
  has((s) => s.outcomes.includes(454) && s.tls_version === '1.2', 'a 454 inside TLS 1.2');
  has((s) => s.outcomes.includes(454), 'a 454 under the Dovecot penalty');
  has((s) => s.users.some((u) => u !== null && u.length === 1), 'a 1-character username');
  has((s) => s.users.some((u) => u !== null && u.length === 64), 'a 64-character username');
  has((s) => s.port === 25, 'port 25');
  has((s) => s.port === 587, 'port 587');
});

for (const f of files) {
  test(`TLS truth is consistent: ${f}`, () => assert.deepEqual(truthProblems(load(f)), []));
  test(`TLS capture replays as its truth says (all opaque, nothing in clear): ${f}`, () => assert.deepEqual(replayProblems(load(f)), []));
}

test('the checks fail on a wrong truth', () => {
  const t = load(files[0]!);
  const ip = Object.keys(t.inside_tls)[0]!;
  const c = t.inside_tls[ip]!;
  assert.notDeepEqual(truthProblems({ ...t, inside_tls: { ...t.inside_tls, [ip]: { ...c, failures: c.failures + 1 } } }), []);
  assert.notDeepEqual(truthProblems({ ...t, inside_tls: { ...t.inside_tls, [ip]: { ...c, successes: c.successes + 1 } } }), []);
  assert.notDeepEqual(truthProblems({ ...t, opaque_flows: t.opaque_flows - 1 }), []);
  assert.notDeepEqual(truthProblems({ ...t, clients: { [ip]: { failures: 1 } } }), []);
  assert.notDeepEqual(replayProblems({ ...t, flows: t.flows + 1 }), []);
  assert.notDeepEqual(replayProblems({ ...t, opaque_flows: t.opaque_flows + 1 }), []);
  // a capture with a clear-text 535 (pcaps/testbed/starttls.pcap) is caught by the same replay check
  const clear = replayProblems({ ...t, capture: '../testbed/starttls.pcap', flows: 3, opaque_flows: 2 });
  assert.ok(
    clear.some((p) => p.startsWith('clear-text')),
    JSON.stringify(clear),
  );
});
