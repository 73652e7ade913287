/**
 * watch's hot log lines (an AUTH outcome, a strike, a reject, a block) are written without pino
 * (logger.ts RawLines, watch-log-fields.ts *LogProps; issue 15 item 7, the live path's CPU). These
 * tests prove the bytes are pino's own for the same fields and message: the string escaping over
 * hostile usernames and reply texts (quotes, backslashes, control characters, lone surrogates,
 * U+2028, strings past pino's 100-character fast path), numbers that are not finite, nulls, the
 * level threshold, and the whole WatchService path against a service logging through plain pino.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { AuthEvent, BlockEvent, PipelineEvent, RejectEvent, StrikeEvent } from '../src/events.js';
import type { CommandRunner, RunResult } from '../src/blocker/runner.js';
import { strikeLogLine } from '../src/strikes/iptables-log.js';
import { makeLogger, pinoNumber, pinoString, rawLines, type LogSetup, type TurnBatcher } from '../src/watch/logger.js';
import {
  authLogLine,
  authLogProps,
  blockLogFields,
  blockLogMsg,
  blockLogProps,
  rejectLogFields,
  rejectLogProps,
  strikeLogFields,
  strikeLogProps,
} from '../src/watch/watch-log-fields.js';
import { WatchService, type WatchSettings } from '../src/watch/watch-service.js';
import { watchTestSettings } from './support/watch-settings.js';
import { wire } from './support/strike-events.js';

/** Texts an attacker chooses (usernames) or a server sends (reply texts), and edge lengths. */
const HOSTILE = [
  '',
  'x',
  'user@example.com',
  'a"b',
  'back\\slash',
  '"\\"\\\\',
  'tab\there',
  'nl\nand\rcr',
  '\u0000nul',
  'end\u001f',
  'del\u007f',
  '\u2028line\u2029sep',
  'é ü ß 日本 🙂',
  'lone \ud800 high',
  'lone \udc00 low',
  '\ud83d',
  '"'.repeat(50),
  'q"'.repeat(60), // 120 characters: JSON.stringify's path in pino
  'a'.repeat(100),
  'a'.repeat(101),
  'b'.repeat(99) + '"',
  'b'.repeat(100) + '\u0001',
  '535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6',
  '%s %d %o %j %%',
  '{"level":60}',
  '</script><script>alert(1)</script>',
];

function reference(level: string, time: string): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const log = pino({ level, base: { name: 'smtpstrike' }, timestamp: () => time }, { write: (s: string) => void lines.push(s) });
  return { log, lines };
}

/** Until the log file is open (sonic-boom opens it asynchronously; a flush before that cannot write). */
async function opened(setup: LogSetup): Promise<void> {
  const out = (setup.logger as unknown as Record<symbol, TurnBatcher>)[pino.symbols.streamSym]!;
  while ((out.dest as unknown as { fd: number }).fd < 0) await new Promise((r) => setTimeout(r, 5));
}

let port = 40000;
function auth(user: string | null, text: string, mech: string | null = 'LOGIN', type: AuthEvent['type'] = 'auth_failure'): AuthEvent {
  return {
    type,
    ts: 1764925200.123456,
    flow: 1,
    client: '198.51.100.7',
    clientPort: port++,
    server: '2001:db8::25',
    serverPort: 587,
    code: 535,
    mech,
    user,
    text,
    matched: false,
    inferred: null,
    wire: wire('2001:db8::25', '198.51.100.7'),
  };
}

test('pinoString and pinoNumber write what pino writes for a field', () => {
  const { log, lines } = reference('info', ',"time":"T"');
  for (const s of HOSTILE) {
    log.info({ v: s }, s);
    assert.equal(lines.pop(), `{"level":30,"time":"T","name":"smtpstrike","v":${pinoString(s)},"msg":${pinoString(s)}}\n`, JSON.stringify(s));
  }
  for (const n of [0, -0, 1, -1.5, 1764925200.123456, 1e21, 5e-7, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER]) {
    log.info({ v: n }, 'n');
    assert.equal(lines.pop(), `{"level":30,"time":"T","name":"smtpstrike","v":${pinoNumber(n)},"msg":"n"}\n`, String(n));
  }
});

test('the hot lines through makeLogger raw equal pino with the same fields, in order, with the level applied', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'watch-log-lines-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const now = Date.UTC(2026, 11, 5, 9, 0, 0, 7);
  t.mock.method(Date, 'now', () => now);
  const stamp = `,"time":"${new Date(now).toISOString()}"`;
  for (const level of ['info', 'warn', 'error']) {
    const file = join(dir, `${level}.log`);
    const setup = makeLogger(file, level);
    await opened(setup);
    const raw = rawLines(setup.logger);
    assert.ok(raw, 'makeLogger registers a raw writer');
    const ref = reference(level, stamp);
    const events: [AuthEvent | StrikeEvent | RejectEvent | BlockEvent, number][] = [];
    for (const s of HOSTILE) {
      events.push([auth(s, s), 0], [auth(null, s, null, 'auth_success'), 0], [auth(s, 'ok', 'PLAIN', 'auth_tempfail'), 0]);
    }
    const inferred = auth(null, '');
    inferred.inferred = { recordLen: 37, delay: 0.0123, profile: 'x' } as unknown as NonNullable<AuthEvent['inferred']>;
    events.push([inferred, 0], [{ ...inferred, inferred: { ...inferred.inferred, delay: NaN } }, 0]);
    const strike: StrikeEvent = {
      type: 'strike',
      ts: 1764925200.5,
      client: '2001:db8:1::7',
      key: '2001:db8:1::/64',
      n: 3,
      hitcount: 5,
      prefix: 'SMTP_AUTH_FAIL: ',
      inferred: false,
      source: 'wire',
      wire: wire('2001:db8::25', '2001:db8:1::7'),
    };
    events.push([strike, 0], [{ ...strike, inferred: true, source: 'inferred', prefix: 'SMTP_AUTH_FAIL_TLS: ' }, 0], [{ ...strike, source: 'log' }, 0]);
    const reject: RejectEvent = {
      type: 'reject',
      ts: 1764925201,
      client: '203.0.113.9',
      key: '203.0.113.9',
      rule: 'conn',
      prefix: 'SMTP_CONN_REJECT: ',
      wire: wire('203.0.113.9', '192.0.2.25'),
      block: null,
    };
    events.push([reject, 0], [{ ...reject, rule: 'auth', block: { level: 0, until: 5 } }, 0], [{ ...reject, block: { level: 2, until: 9e9 } }, 0]);
    const block: BlockEvent = {
      type: 'block',
      ts: 1764925201,
      client: '203.0.113.9',
      key: '203.0.113.9',
      rule: 'auth',
      from: 1764925201,
      until: 1764926401.25,
      level: 0,
    };
    events.push([block, 1200], [{ ...block, level: 3, rule: 'conn' }, 86400]);
    for (const [ev, timeout] of events) {
      if (ev.type === 'strike') {
        raw.line(40, strikeLogProps(ev), strikeLogLine(ev));
        ref.log.warn(strikeLogFields(ev), strikeLogLine(ev));
      } else if (ev.type === 'reject') {
        raw.line(40, rejectLogProps(ev), strikeLogLine(ev));
        ref.log.warn(rejectLogFields(ev), strikeLogLine(ev));
      } else if (ev.type === 'block') {
        raw.line(40, blockLogProps(ev, timeout), blockLogMsg(ev));
        ref.log.warn(blockLogFields(ev, timeout), blockLogMsg(ev));
      } else {
        const [fields, msg] = authLogLine(ev);
        raw.line(30, authLogProps(ev), msg);
        ref.log.info(fields, msg);
      }
      // A line through pino itself in between: both writers share one destination, in call order.
      setup.logger.warn({ event: 'between' }, 'b');
      ref.log.warn({ event: 'between' }, 'b');
    }
    setup.flush();
    // Bytes: a lone surrogate is written as U+FFFD's UTF-8 by both (pino leaves it in the string).
    const got = readFileSync(file, 'utf8');
    assert.deepEqual(readFileSync(file), Buffer.from(ref.lines.join(''), 'utf8'), level);
    if (level === 'error') assert.equal(got, '');
    else assert.ok(got.split('\n').length > (level === 'info' ? 3 * HOSTILE.length : 10));
    setup.close();
  }
});

class QuietRunner implements CommandRunner {
  readonly netns = 'test-ns';
  run(): Promise<RunResult> {
    return Promise.resolve({ code: 0, stdout: '[]', stderr: '' });
  }
}

test('WatchService writes the same hot lines with makeLogger (raw) as with plain pino', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'watch-log-lines-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const now = Date.UTC(2026, 11, 5, 9, 0, 1, 500);
  t.mock.method(Date, 'now', () => now);
  const settings = (name: string): WatchSettings => watchTestSettings(dir, `${name}.state.json`);

  const file = join(dir, 'raw.log');
  const setup = makeLogger(file, 'info');
  await opened(setup);
  const ref = reference('info', `,"time":"${new Date(now).toISOString()}"`);
  const a = new WatchService(settings('a'), setup.logger, { runner: new QuietRunner() });
  const b = new WatchService(settings('b'), ref.log, { runner: new QuietRunner() });
  const evs: PipelineEvent[] = HOSTILE.map((s) => auth(s, s));
  evs.push(
    {
      type: 'strike',
      ts: 1,
      client: '192.0.2.9',
      key: '192.0.2.9',
      n: 1,
      hitcount: 5,
      prefix: 'P: ',
      inferred: false,
      source: 'wire',
      wire: wire('192.0.2.25', '192.0.2.9'),
    },
    {
      type: 'reject',
      ts: 2,
      client: '192.0.2.9',
      key: '192.0.2.9',
      rule: 'auth',
      prefix: 'R: ',
      wire: wire('192.0.2.9', '192.0.2.25'),
      block: { level: 1, until: 3000 },
    },
    { type: 'block', ts: 2, client: '192.0.2.9', key: '192.0.2.9', rule: 'auth', from: 2, until: 62, level: 0 },
  );
  for (const ev of evs) {
    a.event(ev);
    b.event(ev);
  }
  await a.stop(); // the dry-run blocker's lines come after, through pino
  await b.stop();
  setup.flush();
  const hot = (text: string): string[] => text.split(/(?<=\n)/).filter((l) => /"event":"(auth_|strike|reject|block")/.test(l));
  const got = hot(readFileSync(file, 'utf8'));
  assert.equal(got.length, evs.length);
  assert.deepEqual(got, hot(Buffer.from(ref.lines.join(''), 'utf8').toString('utf8')));
  setup.close();
});
