/**
 * watch's logger (src/watch/logger.ts): the lines of one event-loop turn reach sonic-boom as one
 * write, and the time is formatted once per millisecond (issue 15 item 7, the live path's CPU).
 * What lands in the log is byte for byte what pino with its own isoTime wrote before, in order,
 * across turns, bursts longer than one batch, reopen, flush and an abrupt process.exit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { cachedIsoTime, FLOOD_WRITE_MS, makeLogger, TurnBatcher } from '../src/watch/logger.js';

const loggerJs = fileURLToPath(new URL('../src/watch/logger.js', import.meta.url));

/** pino as it was set up before: its own isoTime, lines collected as written. */
function reference(level: string): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const log = pino({ level, base: { name: 'smtpstrike' }, timestamp: pino.stdTimeFunctions.isoTime }, { write: (s: string) => void lines.push(s) });
  return { log, lines };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

test('cachedIsoTime gives pino isoTime text for every millisecond, across changes', (t) => {
  let now = Date.UTC(2026, 11, 5, 8, 59, 59, 998);
  t.mock.method(Date, 'now', () => now);
  const f = cachedIsoTime();
  for (let i = 0; i < 5; i++) {
    assert.equal(f(), pino.stdTimeFunctions.isoTime());
    assert.equal(f(), pino.stdTimeFunctions.isoTime()); // the cached one, same millisecond
    now += 1;
  }
  now -= 1000; // the clock stepped back: still the text of that millisecond
  assert.equal(f(), pino.stdTimeFunctions.isoTime());
});

test('makeLogger writes the same bytes as plain pino, in order, over turns, bursts and a reopen', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'watch-logger-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  let now = Date.UTC(2026, 11, 5, 9, 0, 0, 0);
  t.mock.method(Date, 'now', () => now);
  const file = join(dir, 'sub', 'watch.log');
  const setup = makeLogger(file, 'info');
  const ref = reference('info');
  const both = (f: (l: pino.Logger) => void): void => {
    f(setup.logger);
    f(ref.log);
  };
  // One line, then a turn; a burst of 1,000 (several batches) with the clock moving; text that
  // needs escaping; a level below the threshold (dropped by both); undefined fields (omitted).
  both((l) => l.info({ event: 'start', iface: 'eth0' }, 'smtpstrike watching'));
  await turn();
  for (let i = 0; i < 1000; i++) {
    if (i % 7 === 0) now++;
    both((l) =>
      l.info({ event: 'auth_failure', client: `10.0.${i >> 8}.${i & 255}`, user: i % 3 ? `u${i}` : null, mech: undefined }, `535 5.7.8 "bad" \\ ${i}`),
    );
  }
  both((l) => l.debug({ event: 'starttls' }, 'not logged'));
  both((l) => l.warn({ event: 'strike', n: 3, text: 'é\u0001\n' }, 'Strike 3'));
  await turn();
  // logrotate: the file moves, SIGHUP reopens; what was logged before goes to the old file.
  both((l) => l.info({ event: 'before_rotate' }, 'x'));
  // sonic-boom makes the directory and opens the file asynchronously: on a busy machine that can
  // take longer than the turns above, and a rotation can only move a file that exists.
  for (let waited = 0; !existsSync(file) && waited < 30_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
  setup.flush();
  renameSync(file, `${file}.1`);
  setup.reopen();
  await new Promise((r) => setTimeout(r, 50));
  for (let i = 0; i < 300; i++) both((l) => l.error({ event: 'after_rotate', i }, 'y'));
  setup.flush();
  const got = readFileSync(`${file}.1`, 'utf8') + readFileSync(file, 'utf8');
  assert.equal(got, ref.lines.join(''));
  assert.equal(ref.lines.length, 1 + 1000 + 1 + 1 + 300);
  setup.close();
});

test('lines logged in the very turn of process.exit are written (the exit flush)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'watch-logger-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'w.log');
  const code = `
    const { makeLogger } = await import(${JSON.stringify(loggerJs)});
    const { logger } = makeLogger(${JSON.stringify(file)}, 'info');
    await new Promise((r) => setTimeout(r, 100)); // the file is open
    for (let i = 0; i < 500; i++) logger.info({ event: 'n', i }, 'line');
    process.exit(3);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  assert.equal(r.status, 3, r.stderr);
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  assert.equal(lines.length, 500);
  assert.deepEqual(
    lines.map((l) => (JSON.parse(l) as { i: number }).i),
    Array.from({ length: 500 }, (_, i) => i),
  );
});

test('under a flood one write per FLOOD_WRITE_MS: lines right after a write wait for the window, an isolated line goes next turn', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setImmediate'] });
  let now = 1000;
  const writes: string[] = [];
  const dest = { write: (s: string) => void writes.push(s), flushSync: () => undefined } as unknown as ConstructorParameters<typeof TurnBatcher>[0];
  const b = new TurnBatcher(dest, () => now);
  b.write('a\n'); // nothing written for FLOOD_WRITE_MS: the next turn
  assert.deepEqual(writes, []);
  t.mock.timers.tick(0);
  assert.deepEqual(writes, ['a\n']);
  now += 1; // 1 ms after that write: these wait until FLOOD_WRITE_MS after it, then go as one
  b.write('b\n');
  b.write('c\n');
  t.mock.timers.tick(0);
  assert.deepEqual(writes, ['a\n']);
  t.mock.timers.tick(FLOOD_WRITE_MS - 2);
  assert.deepEqual(writes, ['a\n']);
  now += FLOOD_WRITE_MS - 1;
  t.mock.timers.tick(1);
  assert.deepEqual(writes, ['a\n', 'b\nc\n']);
  now += FLOOD_WRITE_MS; // quiet for a window: the next line goes in the next turn again
  b.write('d\n');
  t.mock.timers.tick(0);
  assert.deepEqual(writes, ['a\n', 'b\nc\n', 'd\n']);
  now += 1; // a burst of 128 lines is written at once, without waiting
  for (let i = 0; i < 128; i++) b.write(`${i}\n`);
  assert.equal(writes.length, 4);
  assert.equal(writes[3], Array.from({ length: 128 }, (_, i) => `${i}\n`).join(''));
  b.write('e\n'); // and flushSync writes what waits at once
  b.flushSync();
  assert.equal(writes[4], 'e\n');
});
