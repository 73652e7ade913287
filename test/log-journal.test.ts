/**
 * JournalFollower: parsing, cursor and restart against a fake journalctl on PATH that replays
 * recorded `journalctl -o json` lines; and, where journald can be read, against the real thing
 * (SKIPPED loudly where it cannot).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { journalProblem, JournalFollower, parseJournalLine, type JournalEntry } from '../src/logfollow/journal-follower.js';
import { fakeJournalctl, RECORDED_JOURNAL } from './support/fake-journalctl.js';
import { tempDir } from './support/synth.js';
import { waitFor } from './support/wait.js';

const recorded = RECORDED_JOURNAL;

test('journal lines: ts from __REALTIME_TIMESTAMP (µs), unit, message (also as bytes), cursor; non-entries refused', () => {
  assert.deepEqual(parseJournalLine(JSON.stringify(recorded[0])), {
    ts: 1764907740.123456,
    unit: 'postfix@-.service',
    message: recorded[0]!.MESSAGE,
    cursor: 's=abc;i=1',
  });
  assert.equal(parseJournalLine(JSON.stringify(recorded[2]))?.message, 'login authenticator failed');
  assert.equal(parseJournalLine(JSON.stringify(recorded[2]))?.unit, 'exim');
  assert.equal(parseJournalLine('not json'), null);
  assert.equal(parseJournalLine('{"MESSAGE":"no cursor"}'), null);
});

test('JournalFollower with a fake journalctl: first start from now, cursor kept, restart after the cursor', async () => {
  const t = tempDir();
  const prog = fakeJournalctl(t.dir);
  const got: JournalEntry[] = [];
  let j = new JournalFollower({
    journalctl: prog,
    noDaemonCheck: true,
    onEntries: (es) => {
      got.push(...es);
    },
  });
  try {
    assert.ok(j.args().includes('--lines=0'), 'a first start takes only new entries');
    assert.ok(j.args().includes('--unit=postfix*') && j.args().includes('--unit=dovecot*') && j.args().includes('--unit=exim4*'));
    await j.start();
    await waitFor(() => got.length >= 3, '3 entries');
    await waitFor(() => j.stats.badLines === 1, 'the bad line counted');
    assert.equal(j.cursor(), 's=abc;i=3');
    await j.stop();
    // Restart from the second entry's cursor: only the third comes again.
    got.length = 0;
    j = new JournalFollower({
      journalctl: prog,
      noDaemonCheck: true,
      cursor: 's=abc;i=2',
      onEntries: (es) => {
        got.push(...es);
      },
    });
    await j.start();
    await waitFor(() => got.length >= 1, 'the entry after the cursor');
    assert.deepEqual(
      got.map((e) => e.cursor),
      ['s=abc;i=3'],
    );
    const args = readFileSync(join(t.dir, 'args.last'), 'utf8').split('\n');
    assert.ok(args.includes('--after-cursor=s=abc;i=2') && !args.includes('--lines=0'), args.join(' '));
    assert.ok(args.includes('--follow') && args.includes('--output=json'));
  } finally {
    await j.stop();
    t.cleanup();
  }
});

test('journald not running (no socket) is a clear error before anything is spawned', async () => {
  const t = tempDir();
  assert.match(journalProblem(t.dir) ?? '', /journald is not running on this host .*--log FILE/);
  writeFileSync(join(t.dir, 'socket'), '');
  assert.equal(journalProblem(t.dir), null);
  t.cleanup();
  if (journalProblem() !== null) {
    await assert.rejects(new JournalFollower({ journalctl: '/nonexistent/journalctl', onEntries: () => undefined }).start(), /journald is not running/);
  }
});

test('JournalFollower: a missing journalctl is a clear error; journalctl ending is reported', async () => {
  await assert.rejects(
    new JournalFollower({ journalctl: '/nonexistent/journalctl', noDaemonCheck: true, onEntries: () => undefined }).start(),
    /not found: --journal needs journalctl/,
  );
  const t = tempDir();
  const prog = join(t.dir, 'journalctl');
  writeFileSync(prog, '#!/bin/sh\necho "No journal files were found." >&2\nexit 1\n');
  chmodSync(prog, 0o755);
  let err: Error | null = null;
  const j = new JournalFollower({
    journalctl: prog,
    noDaemonCheck: true,
    onEntries: () => undefined,
    onError: (e) => {
      err = e;
    },
  });
  await j.start();
  await waitFor(() => err !== null, 'the exit reported');
  assert.match(String(err), /exit 1.*No journal files were found/);
  await j.stop();
  t.cleanup();
});

test('journalctl that ends is started again after the last cursor handed out', async () => {
  const t = tempDir();
  const prog = fakeJournalctl(t.dir, { exitAfter: true });
  const got: JournalEntry[] = [];
  const errors: Error[] = [];
  const j = new JournalFollower({
    journalctl: prog,
    noDaemonCheck: true,
    restartMs: 20,
    onEntries: (es) => {
      got.push(...es);
    },
    onError: (e) => errors.push(e),
  });
  try {
    await j.start();
    await waitFor(() => j.restarts >= 2, 'two restarts');
    await waitFor(() => readFileSync(join(t.dir, 'args.last'), 'utf8').includes('--after-cursor=s=abc;i=3'), 'restarted after the cursor');
    assert.deepEqual(
      got.map((e) => e.cursor),
      ['s=abc;i=1', 's=abc;i=2', 's=abc;i=3'],
      'nothing twice',
    );
    assert.match(errors[0]!.message, /journalctl ended \(exit 0\); started again in 20 ms/);
  } finally {
    await j.stop();
    t.cleanup();
  }
});

const JOURNAL_REMOTE = ['/lib/systemd/systemd-journal-remote', '/usr/lib/systemd/systemd-journal-remote'].find((p) => existsSync(p));

/** A real journal file with `n` entries, written by systemd-journal-remote from export format. */
function writeJournal(file: string, from: number, n: number): void {
  let exp = '';
  for (let i = from; i < from + n; i++) {
    exp +=
      `__REALTIME_TIMESTAMP=${1764907740000000 + i * 1000000}\n__MONOTONIC_TIMESTAMP=${100 + i}\n_BOOT_ID=0123456789abcdef0123456789abcdef\n` +
      `_SYSTEMD_UNIT=${i % 2 ? 'dovecot.service' : 'postfix@-.service'}\nMESSAGE=entry ${i}\n\n`;
  }
  execFileSync(JOURNAL_REMOTE!, ['-o', file, '-'], { input: exp, stdio: ['pipe', 'ignore', 'ignore'] });
}

test('JournalFollower on a real journal file (journalctl --file): entries after the cursor, then the cursor goes on', async (t) => {
  if (!JOURNAL_REMOTE || !existsSync('/usr/bin/journalctl')) {
    process.stderr.write('SKIPPED LOUDLY: log-journal real journal needs journalctl and systemd-journal-remote (scripts/install-deps.sh journal)\n');
    t.skip('no systemd-journal-remote');
    return;
  }
  const d = tempDir();
  const file = join(d.dir, 'mail.journal');
  writeJournal(file, 0, 3);
  const first = JSON.parse(execFileSync('journalctl', ['--file', file, '-o', 'json', '--no-pager', '-n', '3']).toString().split('\n')[0]!) as {
    __CURSOR: string;
  };
  const got: JournalEntry[] = [];
  const j = new JournalFollower({
    extraArgs: ['--file', file],
    noDaemonCheck: true,
    cursor: first.__CURSOR,
    onEntries: (es) => {
      got.push(...es);
    },
  });
  try {
    await j.start();
    await waitFor(() => got.length >= 2, 'the two entries after the first one', 20_000);
    assert.deepEqual(
      got.map((e) => [e.message, e.unit, e.ts]),
      [
        ['entry 1', 'dovecot.service', 1764907741],
        ['entry 2', 'postfix@-.service', 1764907742],
      ],
    );
    assert.equal(j.cursor(), got[1]!.cursor);
  } finally {
    await j.stop();
    d.cleanup();
  }
});
