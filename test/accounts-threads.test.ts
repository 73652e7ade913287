/**
 * `accounts --threads`: a plain log cut into shares read on worker threads gives exactly the
 * one-thread report and counts (native-notes/accounts.md "Threads"), on the generated mixed log
 * with any number of shares, and when a Postfix login session spans a share boundary — within the
 * warm-up (the shares stand) or beyond it (the first share's reader reads on alone).
 */
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateMixedLog } from '../bench/logs.js';
import { scanSplit, type ShareSpec, type SplitOptions } from '../src/accounts/parallel-scan.js';
import { LogScanner } from '../src/accounts/parse-logs.js';
import { AccountGroups } from '../src/accounts/account-groups.js';
import type { FileCounters } from '../src/accounts/types.js';
import { emptyWhitelist, Whitelist } from '../src/accounts/whitelist.js';
import { accountsJson } from './support/accounts-json.js';

const SPEC: ShareSpec = {
  mode: 'all',
  zone: 0,
  year: 2023,
  limit: 0,
  nodate: false,
  nouser: false,
  users: [],
  userRegex: null,
  whitelist: emptyWhitelist(),
};

function newReport(): AccountGroups {
  return new AccountGroups({ limit: 0, nodate: false, nouser: false, zone: 0, users: [], userRegex: null }, new Whitelist(emptyWhitelist()));
}

interface Outcome {
  groups: string;
  counters: Omit<FileCounters, 'file'>;
  failures: number;
  tempfails: number;
  successes: number;
}

async function oneThread(file: string): Promise<Outcome> {
  const report = newReport();
  let failures = 0;
  let tempfails = 0;
  const c = await new LogScanner({ mode: 'all', tz: 0, year: 2023, intern: false }).scanFile(
    file,
    (ev) => {
      if (ev.outcome === 'success') report.add(ev);
      else if (ev.outcome === 'failure') failures += ev.count ?? 1;
      else tempfails++;
    },
    true,
  );
  const { file: _f, ...counters } = c;
  return { groups: JSON.stringify(report.result(() => null)), counters, failures, tempfails, successes: report.successes };
}

async function split(file: string, opts: SplitOptions): Promise<{ out: Outcome; exact: number; threads: number }> {
  const r = await scanSplit(file, SPEC, opts);
  assert.ok(r, 'the file was split');
  const report = newReport();
  for (const st of r.reports) report.absorb(st);
  const { file: _f, ...counters } = r.counters;
  return {
    out: { groups: JSON.stringify(report.result(() => null)), counters, failures: r.failures, tempfails: r.tempfails, successes: report.successes },
    exact: r.exact,
    threads: r.threads,
  };
}

test('the generated mixed log on 2, 3 and 5 threads: the one-thread report, counts and counters', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'acc-threads-'));
  try {
    const file = join(dir, 'mixed.log');
    generateMixedLog(file, 40_000, 11);
    const want = await oneThread(file);
    assert.ok(want.successes > 5_000 && want.failures > 5_000, 'the log has logins and failures');
    for (const threads of [2, 3, 5]) {
      const got = await split(file, { threads, minShareBytes: 64 * 1024, warmupBytes: 256 * 1024 });
      assert.equal(got.threads, threads);
      assert.equal(got.exact, threads, `${threads} threads: every share stood (the generator closes its Postfix sessions)`);
      assert.deepEqual(got.out, want, `${threads} threads`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Filler lines (ignored), with one Postfix login at line `open` whose disconnect is at line `close`. */
function sessionAcrossLog(lines: number, open: number, close: number): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const t = `Feb 13 10:${String(Math.floor(i / 600) % 60).padStart(2, '0')}:${String(Math.floor(i / 10) % 60).padStart(2, '0')} mx`;
    if (i === open) out.push(`${t} postfix/submission/smtpd[4242]: 4F1A2B3C: client=unknown[203.0.113.7], sasl_method=PLAIN, sasl_username=alice`);
    else if (i === close)
      out.push(`${t} postfix/submission/smtpd[4242]: disconnect from unknown[203.0.113.7] ehlo=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=6`);
    else out.push(`${t} postfix/qmgr[99]: 4F1A${i.toString(16)}: from=<bob@example.com>, size=${1000 + i}, nrcpt=1 (queue active)`);
  }
  return out.join('\n') + '\n';
}

test('a Postfix session across the share boundary: counted once, whether the warm-up sees its login or not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'acc-threads-'));
  try {
    const file = join(dir, 'session.log');
    // ~120 bytes a line: 20,000 lines ≈ 2.4 MB; the boundary of 2 shares is near line 10,000.
    writeFileSync(file, sessionAcrossLog(20_000, 9_000, 11_000));
    const want = await oneThread(file);
    assert.equal(want.successes, 1, 'one login: the disconnect line of a named session adds none');
    // Warm-up of 512 KiB (~4,300 lines) reaches back past line 9,000: the shares stand.
    const near = await split(file, { threads: 2, minShareBytes: 64 * 1024, warmupBytes: 512 * 1024 });
    assert.equal(near.exact, 2);
    assert.deepEqual(near.out, want);
    // Warm-up of 16 KiB does not: the second share's sessions differ, the first reader reads on.
    const far = await split(file, { threads: 2, minShareBytes: 64 * 1024, warmupBytes: 16 * 1024 });
    assert.equal(far.exact, 1, 'the second share was not used');
    assert.deepEqual(far.out, want);
    // The check matters: without the warm-up, the second share alone would count the disconnect.
    const alone = await split(file, { threads: 2, minShareBytes: 64 * 1024, warmupBytes: 0 });
    assert.equal(alone.exact, 1);
    assert.deepEqual(alone.out, want);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('over 10,000 Postfix sessions left open (sessions forgotten over the cap): still the one-thread result', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'acc-threads-'));
  try {
    const file = join(dir, 'open.log');
    const out: string[] = [];
    for (let i = 0; i < 24_000; i++) {
      const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      const s = String(i % 60).padStart(2, '0');
      out.push(
        `Feb 13 11:${String(Math.floor(i / 400) % 60).padStart(2, '0')}:${s} mx postfix/submission/smtpd[${1000 + i}]: 4F${i.toString(16)}: client=unknown[${ip}], sasl_method=PLAIN, sasl_username=u${i % 50}`,
      );
      // A disconnect for an old session: named (ignored) or forgotten (a second, unnamed login).
      if (i % 3 === 0 && i >= 11_000) {
        const j = i - 11_000;
        out.push(
          `Feb 13 11:${String(Math.floor(i / 400) % 60).padStart(2, '0')}:${s} mx postfix/submission/smtpd[${1000 + j}]: disconnect from unknown[10.${(j >> 16) & 255}.${(j >> 8) & 255}.${j & 255}] ehlo=1 auth=1 quit=1 commands=3`,
        );
      }
    }
    writeFileSync(file, out.join('\n') + '\n');
    const want = await oneThread(file);
    assert.ok(want.counters.sessionsDropped > 0, 'the cap was reached');
    const got = await split(file, { threads: 2, minShareBytes: 64 * 1024, warmupBytes: 256 * 1024 });
    assert.equal(got.exact, 1, 'a share that had to forget sessions is not used');
    assert.deepEqual(got.out, want);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('accounts --threads 2 on a 20 MB log prints what --threads 1 prints; a gzip log is read on one thread', () => {
  const dir = mkdtempSync(join(tmpdir(), 'acc-threads-'));
  try {
    const file = join(dir, 'mixed.log');
    generateMixedLog(file, 150_000, 5); // ≈ 21 MB: over the 16 MiB below which one thread reads
    writeFileSync(join(dir, 'mixed.log.gz'), gzipSync(readFileSync(file)));
    const run = (threads: number, name: string): { body: string; summary: Record<string, unknown>; threads: number } => {
      const r = accountsJson(dir, name, ['-l', '0', '--threads', String(threads)]);
      return { body: r.body.join('\n'), summary: r.summary, threads: r.run.threads };
    };
    const one = run(1, 'mixed.log');
    const two = run(2, 'mixed.log');
    assert.equal(one.threads, 1);
    assert.equal(two.threads, 2);
    assert.ok(one.body.split('\n').length > 100, 'groups listed');
    assert.equal(two.body, one.body);
    assert.deepEqual(two.summary, one.summary);
    const gz = run(2, 'mixed.log.gz');
    assert.equal(gz.threads, 1, 'a compressed log is one stream');
    assert.equal(gz.body, one.body);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
