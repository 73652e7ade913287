/**
 * LogFollower on real files in a temp dir: start at the end, partial lines, rotation by rename and
 * by copytruncate, late and recreated files, compressed rotations, restart from a saved position,
 * long lines, and many lines. No fixed sleeps: every wait polls for its outcome with a deadline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendFileSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  watch,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
  openSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { join } from 'node:path';
import { rotatedSiblings } from '../src/logfollow/log-file.js';
import { LogFollower, type FollowEvent, type LogFollowerOptions } from '../src/logfollow/log-follower.js';
import { MultiFollower } from '../src/logfollow/multi-follower.js';
import { tempDir } from './support/synth.js';
import { waitFor } from './support/wait.js';

interface Rec {
  lines: string[];
  events: FollowEvent[];
  opts: LogFollowerOptions;
}

function rec(extra: Partial<LogFollowerOptions> = {}): Rec {
  const r: Rec = { lines: [], events: [], opts: { onLines: () => undefined } };
  r.opts = {
    pollMs: 20,
    rotateGraceMs: 200,
    ...extra,
    onLines: (ls) => {
      r.lines.push(...ls);
    },
    onEvent: (e) => r.events.push(e),
  };
  return r;
}

const numbered = (from: number, to: number, tag = 'l'): string => {
  let s = '';
  for (let i = from; i < to; i++) s += `${tag}${i}\n`;
  return s;
};
const names = (from: number, to: number, tag = 'l'): string[] => Array.from({ length: to - from }, (_, i) => `${tag}${from + i}`);

test('starts at the end: old lines are not read; appended ones are, in order; a partial line waits for its newline', async () => {
  const t = tempDir();
  const p = join(t.dir, 'mail.log');
  writeFileSync(p, numbered(0, 5, 'old'));
  const r = rec();
  const f = new LogFollower(p, r.opts);
  try {
    await f.start();
    appendFileSync(p, numbered(0, 3));
    await waitFor(() => r.lines.length >= 3, '3 lines');
    appendFileSync(p, 'half a li');
    await f.poll();
    assert.deepEqual(r.lines, names(0, 3), 'no old line, the partial line is held');
    appendFileSync(p, 'ne\r\nnext\n');
    await waitFor(() => r.lines.length >= 5, 'the completed line');
    assert.deepEqual(r.lines, [...names(0, 3), 'half a line', 'next'], 'completed, CR removed');
  } finally {
    await f.stop();
    t.cleanup();
  }
});

test('rename rotation: lines written to the old file after the rename and before the new file appears are read, none lost or repeated', async () => {
  const t = tempDir();
  const p = join(t.dir, 'mail.log');
  writeFileSync(p, '');
  const r = rec({ rotateGraceMs: 1500 }); // long enough for a loaded machine between the new file and the late writes
  const f = new LogFollower(p, r.opts);
  try {
    await f.start();
    const fd = openSync(p, 'a'); // the writer (syslog) keeps its descriptor across the rename
    writeSync(fd, numbered(0, 10));
    await waitFor(() => r.lines.length >= 10, 'first 10');
    renameSync(p, `${p}.1`);
    writeSync(fd, numbered(10, 20)); // into the renamed file, the new one not there yet
    await waitFor(() => r.lines.length >= 20, 'late writes to the renamed file');
    writeFileSync(p, numbered(20, 30)); // the new file
    await waitFor(() => r.lines.length >= 30, 'the new file from offset 0');
    writeSync(fd, numbered(30, 35, 'late')); // after the new file appeared: read during the grace time
    await waitFor(() => r.lines.length >= 35, 'late writes during the grace time');
    writeSync(fd, 'partial at the end of the old file'); // no newline: handed out when the grace time ends
    await waitFor(() => r.lines.length >= 36, "the old file's last partial line");
    closeSync(fd);
    assert.deepEqual(r.lines, [...names(0, 30), ...names(30, 35, 'late'), 'partial at the end of the old file']);
    assert.ok(r.events.some((e) => e.kind === 'log_rotated'));
    assert.equal(f.stats.rotations, 1);
  } finally {
    await f.stop();
    t.cleanup();
  }
});

test('copytruncate: the unread rest is taken from the copy, nothing repeated', async () => {
  const t = tempDir();
  const p = join(t.dir, 'mail.log');
  writeFileSync(p, '');
  const r = rec({ pollMs: 60_000, useWatch: false }); // driven by poll() only, so the copy happens between two reads
  const f = new LogFollower(p, r.opts);
  try {
    await f.start();
    appendFileSync(p, numbered(0, 10));
    await f.poll();
    assert.equal(r.lines.length, 10);
    appendFileSync(p, numbered(10, 15)); // written, not yet read when logrotate copies
    copyFileSync(p, `${p}.1`);
    truncateSync(p, 0);
    appendFileSync(p, numbered(15, 18));
    await f.poll();
    assert.deepEqual(r.lines, names(0, 18), 'the rest from the copy, then the truncated file from 0');
    assert.equal(f.stats.truncations, 1);
    assert.ok(r.events.some((e) => e.kind === 'log_truncated'));
    // A truncation noticed only after the file grew past our offset again: the first line differs.
    copyFileSync(p, `${p}.1`);
    truncateSync(p, 0);
    appendFileSync(p, numbered(100, 120, 'grown'));
    await f.poll();
    assert.deepEqual(r.lines.slice(18), names(100, 120, 'grown'));
    assert.equal(f.stats.truncations, 2);
  } finally {
    await f.stop();
    t.cleanup();
  }
});

test('a file that appears later is read from its beginning; deleted and recreated, the new one is read from 0', async () => {
  const t = tempDir();
  const p = join(t.dir, 'late.log');
  const r = rec();
  const f = new LogFollower(p, r.opts);
  try {
    await f.start();
    writeFileSync(p, numbered(0, 4));
    await waitFor(() => r.lines.length >= 4, 'the late file');
    assert.ok(r.events.some((e) => e.kind === 'log_appeared'));
    rmSync(p);
    await waitFor(() => r.events.some((e) => e.kind === 'log_missing'), 'missing noticed');
    writeFileSync(p, numbered(4, 8));
    await waitFor(() => r.lines.length >= 8, 'the recreated file');
    assert.deepEqual(r.lines, names(0, 8));
  } finally {
    await f.stop();
    t.cleanup();
  }
});

test('a file in a directory that does not exist yet is found by polling when both appear', async () => {
  const t = tempDir();
  const p = join(t.dir, 'later', 'mail.log');
  const r = rec();
  const f = new LogFollower(p, r.opts);
  try {
    await f.start();
    mkdirSync(join(t.dir, 'later'));
    writeFileSync(p, 'first\n');
    await waitFor(() => r.lines.length >= 1, 'the file in the new directory');
    assert.deepEqual(r.lines, ['first']);
  } finally {
    await f.stop();
    t.cleanup();
  }
});

test('a path that cannot be read (here a directory; EACCES for a service user) is said once, and followed once it can be', async () => {
  const t = tempDir();
  const p = join(t.dir, 'mail.log');
  mkdirSync(p);
  const r = rec();
  const f = new LogFollower(p, r.opts);
  try {
    await f.start();
    await f.poll();
    await f.poll();
    assert.deepEqual(
      r.events.filter((e) => e.kind === 'log_error').map((e) => e.detail?.err),
      ['cannot open: not a regular file'],
    );
    rmSync(p, { recursive: true });
    writeFileSync(p, 'now a file\n');
    await waitFor(() => r.lines.length >= 1, 'the file');
    assert.deepEqual(r.lines, ['now a file']);
  } finally {
    await f.stop();
    t.cleanup();
  }
});

test('compressed rotations are never read; plain siblings are found', async () => {
  const t = tempDir();
  const p = join(t.dir, 'mail.log');
  for (const s of ['.1', '.2.gz', '.1.gz', '-20261205', '-20261204.gz', '.3.xz', '.4.zst', '.5.bz2', '.old']) writeFileSync(p + s, 'x\n');
  assert.deepEqual(rotatedSiblings(p).sort(), [`${p}-20261205`, `${p}.1`].sort());
  writeFileSync(p, '');
  const r = rec();
  const f = new LogFollower(p, r.opts);
  try {
    await f.start();
    writeFileSync(`${p}.6.gz`, numbered(0, 3, 'gz'));
    appendFileSync(p, 'only\n');
    await waitFor(() => r.lines.length >= 1, 'the named file');
    await f.poll();
    assert.deepEqual(r.lines, ['only']);
  } finally {
    await f.stop();
    t.cleanup();
  }
});

test('a line over the limit is cut and counted; the next line is whole', async () => {
  const t = tempDir();
  const p = join(t.dir, 'long.log');
  writeFileSync(p, '');
  const r = rec({ maxLineBytes: 1024, chunkBytes: 300 });
  const f = new LogFollower(p, r.opts);
  try {
    await f.start();
    appendFileSync(p, `${'a'.repeat(5000)}\nshort\n${'b'.repeat(1500)}\n`);
    await waitFor(() => r.lines.length >= 3, '3 lines');
    await f.poll();
    assert.deepEqual(r.lines, ['a'.repeat(1024), 'short', 'b'.repeat(1024)]);
    assert.equal(f.stats.linesCut, 2);
  } finally {
    await f.stop();
    t.cleanup();
  }
});

test('restart from a saved position: nothing missed, nothing repeated, also across a rotation while stopped', async () => {
  const t = tempDir();
  const p = join(t.dir, 'mail.log');
  writeFileSync(p, numbered(0, 3, 'old'));
  const r = rec();
  let f = new LogFollower(p, r.opts);
  await f.start();
  appendFileSync(p, numbered(0, 10));
  await waitFor(() => r.lines.length >= 10, 'first run');
  appendFileSync(p, 'held partial');
  await f.poll();
  await f.stop();
  let pos = f.position();
  assert.ok(pos);
  appendFileSync(p, ' line\n' + numbered(10, 15)); // written while we were down
  f = new LogFollower(p, { ...r.opts, position: pos });
  await f.start();
  await waitFor(() => r.lines.length >= 16, 'second run');
  assert.deepEqual(r.lines, [...names(0, 10), 'held partial line', ...names(10, 15)]);
  assert.ok(r.events.some((e) => e.kind === 'log_resumed'));
  await f.stop();
  pos = f.position();
  // Down again: more lines, then a rename rotation, then the new file.
  appendFileSync(p, numbered(15, 20));
  renameSync(p, `${p}-20261205`);
  writeFileSync(p, numbered(20, 25));
  f = new LogFollower(p, { ...r.opts, position: pos, rotateGraceMs: 60_000 });
  await f.start();
  await waitFor(() => r.lines.length >= 26, 'third run');
  assert.deepEqual(r.lines.slice(16), names(15, 25), "the rotated file's rest, then the new one from 0");
  appendFileSync(`${p}-20261205`, 'late in the rotated file\n'); // its writer had not reopened yet
  await waitFor(() => r.lines.length >= 27, 'a late write to the rotated file, during the grace time');
  r.lines.pop();
  assert.ok(r.events.some((e) => e.kind === 'log_rotated_while_down'));
  await f.stop();
  // A position of a file that is gone, with no rotated copy: the new file is read from 0, and said so.
  pos = f.position();
  rmSync(p);
  rmSync(`${p}-20261205`);
  writeFileSync(p, numbered(0, 2, 'fresh'));
  f = new LogFollower(p, { ...r.opts, position: pos });
  await f.start();
  await waitFor(() => r.lines.length >= 28, 'fourth run');
  assert.deepEqual(r.lines.slice(26), names(0, 2, 'fresh'));
  assert.ok(r.events.some((e) => e.kind === 'log_new_file'));
  await f.stop();
  t.cleanup();
});

test('copytruncate while stopped: the unread rest comes from the copy, then the file from 0', async () => {
  const t = tempDir();
  const p = join(t.dir, 'mail.log');
  writeFileSync(p, '');
  const r = rec();
  let f = new LogFollower(p, r.opts);
  await f.start();
  appendFileSync(p, numbered(0, 5));
  await waitFor(() => r.lines.length >= 5, 'first run');
  await f.stop();
  const pos = f.position();
  appendFileSync(p, numbered(5, 8)); // unread when logrotate runs
  copyFileSync(p, `${p}.1`);
  truncateSync(p, 0);
  appendFileSync(p, numbered(8, 40, 'new')); // longer than the saved offset: only the first line tells
  f = new LogFollower(p, { ...r.opts, position: pos });
  await f.start();
  await waitFor(() => r.lines.length >= 40, 'second run');
  assert.deepEqual(r.lines, [...names(0, 8), ...names(8, 40, 'new')]);
  assert.ok(r.events.some((e) => e.kind === 'log_truncated'));
  await f.stop();
  t.cleanup();
});

test('200,000 lines appended quickly are all delivered, in order', async () => {
  const t = tempDir();
  const p = join(t.dir, 'many.log');
  writeFileSync(p, '');
  let n = 0;
  let bad = -1;
  const f = new LogFollower(p, {
    pollMs: 20,
    onLines: (ls) => {
      for (const l of ls) {
        if (bad < 0 && l !== `line ${n} 192.0.2.1 authentication failed`) bad = n;
        n++;
      }
    },
  });
  try {
    await f.start();
    const N = 200_000;
    const t0 = process.hrtime.bigint();
    for (let b = 0; b < N; b += 10_000) {
      let s = '';
      for (let i = b; i < b + 10_000; i++) s += `line ${i} 192.0.2.1 authentication failed\n`;
      appendFileSync(p, s);
    }
    await waitFor(() => n >= N, `${N} lines`, 60_000);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(`log-follow: ${N} lines appended and delivered in ${s.toFixed(2)} s (${Math.round(N / s)} lines/s; not a benchmark)`);
    assert.equal(bad, -1, `line ${bad} out of order`);
    assert.equal(n, N);
  } finally {
    await f.stop();
    t.cleanup();
  }
});

test('backpressure: a slow batch callback is awaited, never called twice at once, and nothing is lost', async () => {
  const t = tempDir();
  const p = join(t.dir, 'slow.log');
  writeFileSync(p, '');
  let inFlight = 0;
  let most = 0;
  const got: string[] = [];
  const f = new LogFollower(p, {
    pollMs: 5,
    chunkBytes: 4096,
    onLines: async (ls) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((res) => setImmediate(res));
      got.push(...ls);
      inFlight--;
    },
  });
  try {
    await f.start();
    for (let i = 0; i < 20; i++) appendFileSync(p, numbered(i * 1000, (i + 1) * 1000));
    await waitFor(() => got.length >= 20_000, '20,000 lines', 30_000);
    assert.equal(most, 1);
    assert.deepEqual(got, names(0, 20_000));
  } finally {
    await f.stop();
    t.cleanup();
  }
});

test('stop() lets go of the timer, the watcher and every file, also the rotated one still in its grace time', async () => {
  const t = tempDir();
  const p = join(t.dir, 'mail.log');
  writeFileSync(p, '');
  const fds = (): number => readdirSync('/proc/self/fd').length;
  watch(t.dir).close(); // libuv keeps one inotify descriptor for the process once any watch was made: not ours to count
  const before = fds();
  const r = rec({ rotateGraceMs: 60_000 });
  const f = new LogFollower(p, r.opts);
  await f.start();
  appendFileSync(p, 'a\n');
  renameSync(p, `${p}.1`);
  writeFileSync(p, 'b\n');
  await waitFor(() => r.lines.length >= 2, 'both files');
  assert.ok(f.active);
  assert.ok(fds() >= before + 2, 'the new file and the rotated one are open');
  await f.stop();
  assert.equal(f.active, false);
  assert.equal(fds(), before, 'every descriptor closed');
  t.cleanup();
});

test('MultiFollower: several files, positions per path, stop closes everything', async () => {
  const t = tempDir();
  const a = join(t.dir, 'a.log');
  const b = join(t.dir, 'b.log');
  writeFileSync(a, '');
  const got: string[] = [];
  const m = new MultiFollower(
    [a, b, a],
    {},
    {
      pollMs: 20,
      onLines: (ls, path) => {
        got.push(...ls.map((l) => `${path === a ? 'a' : 'b'}:${l}`));
      },
    },
  );
  await m.start();
  appendFileSync(a, 'one\n');
  writeFileSync(b, 'two\n');
  await waitFor(() => got.length >= 2, 'both files');
  assert.deepEqual(got.sort(), ['a:one', 'b:two']);
  assert.deepEqual(Object.keys(m.positions()).sort(), [a, b].sort());
  assert.equal(m.positions()[a]!.offset, 4);
  await m.stop();
  t.cleanup();
});
