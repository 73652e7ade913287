/**
 * `smtpstrike watch --replay FILE…` (issue 13, item 3): watch's live path driven by capture files,
 * with the dry-run blocker, a state file and a log file in a temp dir. No root.
 *
 * - On every shipped capture whose ground truth lists the strike lines (pcaps/TRUTH-FORMAT.md): the
 *   strike and refusal lines of watch's log are the truth's, its AUTH outcomes per client are the
 *   truth's, and its blocks are `replay`'s (the log's block events, the dry-run blocker's adds, the
 *   state file's running blocks), several files merged by time included.
 * - `--replay -` reads stdin.
 * - Packet time is the clock: hits an hour apart in packet time do not add up, even in a replay
 *   that takes milliseconds; the state file written at the end of one replay is restored at the
 *   next one's first packet, so two captures in a row strike as one.
 * - The log sensor is off in a replay; a live state file is judged as of its own saving time.
 * - `--pace` sleeps by the packets' timestamps: a capture spanning 1.5 s takes at least 1.5 s
 *   (a lower bound only); SIGTERM during a long paced gap stops at once, state saved, exit 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CLI, smtpstrike } from './support/cli.js';
import { FrameList, loginSession, tempDir } from './support/synth.js';
import { truthFiles, type Truth } from './support/truth.js';
import { waitFor } from './support/wait.js';

type LogLine = Record<string, unknown>;

interface Run {
  status: number | string;
  stderr: string;
  log: LogLine[];
  state: { saved_at: number; entries: { key: string; auth: number[]; conn: number[]; block: Record<string, unknown> | null }[] } | null;
  wallMs: number;
}

/** `watch --replay …` in `dir` (its own empty config, state and log files there). */
function startReplay(dir: string, args: string[], opts: { stdin?: string; holdStdin?: boolean } = {}) {
  const config = join(dir, 'config.yaml');
  if (!existsSync(config)) writeFileSync(config, '');
  const stateFile = join(dir, 'state.json');
  const logFile = join(dir, 'watch.log');
  writeFileSync(logFile, '');
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, 'watch', '--config', config, '--state-file', stateFile, '--log-file', logFile, ...args], {
    stdio: [opts.stdin || opts.holdStdin ? 'pipe' : 'ignore', 'ignore', 'pipe'],
  });
  if (opts.stdin) child.stdin!.end(readFileSync(opts.stdin));
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const log = (): LogLine[] =>
    readFileSync(logFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as LogLine);
  const done = new Promise<Run>((resolve) =>
    child.once('close', (code, signal) =>
      resolve({
        status: code ?? signal ?? 'unknown',
        stderr,
        log: log(),
        state: existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as Run['state']) : null,
        wallMs: performance.now() - t0,
      }),
    ),
  );
  return { child, log, done };
}

async function watchReplay(dir: string, args: string[], opts: { stdin?: string } = {}): Promise<Run> {
  const run = startReplay(dir, args, opts);
  const deadline = setTimeout(() => run.child.kill('SIGKILL'), 60_000); // a hung run fails, never hangs the suite
  try {
    return await run.done;
  } finally {
    clearTimeout(deadline);
  }
}

/** The truth's form of a strike or refusal line: its prefix and the client. */
function strikeLines(log: LogLine[]): string[] {
  return log.filter((l) => l.event === 'strike' || l.event === 'reject').map((l) => `${String(l.msg).split(' IN=')[0]} ${String(l.client)}`);
}

/** AUTH outcomes per client from watch's log, in the truth's shape. */
function outcomes(log: LogLine[]): Truth['clients'] {
  const out: Truth['clients'] = {};
  for (const l of log) {
    const kind = l.event === 'auth_failure' ? 'failures' : l.event === 'auth_success' ? 'successes' : l.event === 'auth_tempfail' ? 'tempfails' : null;
    if (!kind || l.inferred) continue;
    const c = (out[String(l.client)] ??= { failures: 0, successes: 0, tempfails: 0, users: [] });
    c[kind]++;
    if (typeof l.user === 'string' && !c.users.includes(l.user)) c.users.push(l.user);
  }
  for (const c of Object.values(out)) c.users.sort();
  return out;
}

/** The keys a truth's strike lines block: a hitcount-th strike, or a first brute-force refusal. */
function blockedByTruth(truth: Truth, hitcount: number): string[] {
  const keys = new Set<string>();
  for (const s of truth.strikes ?? []) {
    const client = s.slice(s.lastIndexOf(' ') + 1);
    if (s.startsWith(`SMTP_AUTH_FAIL: Strike ${hitcount}:`) || s.startsWith('SMTP Brute Force Attempt:')) keys.add(client);
  }
  return [...keys].sort();
}

const withStrikes = truthFiles('pcaps').filter((tf) => {
  const t = JSON.parse(readFileSync(tf, 'utf8')) as Truth;
  return t.strikes !== undefined && !t.expect_error;
});

test('the shipped captures with strike truths exist (pcaps/TRUTH-FORMAT.md)', () => {
  assert.ok(withStrikes.length >= 3, `truths with strikes: ${withStrikes.join(', ')}`);
  assert.ok(
    withStrikes.some((tf) => Array.isArray((JSON.parse(readFileSync(tf, 'utf8')) as Truth).capture)),
    'one names several files (merged by time)',
  );
});

for (const tf of withStrikes) {
  test(`watch --replay ${tf}: the truth's strikes and outcomes, replay's blocks (log, dry-run blocker, state file)`, async (t) => {
    const truth = JSON.parse(readFileSync(tf, 'utf8')) as Truth;
    const caps = (Array.isArray(truth.capture) ? truth.capture : [truth.capture]).map((c) => join(dirname(tf), c));
    const extra = [...(truth.ports ? ['--ports', truth.ports.join(',')] : []), ...(truth.args ?? [])];
    const d = tempDir();
    t.after(d.cleanup);
    const w = await watchReplay(d.dir, ['--replay', ...caps, '--dry-run', ...extra]);
    assert.equal(w.status, 0, `exit 0 at the end of the files (stderr: ${w.stderr})`);

    assert.deepEqual(strikeLines(w.log), truth.strikes, 'strike and refusal lines');
    assert.deepEqual(outcomes(w.log), truth.clients, 'AUTH outcomes per client');

    const r = smtpstrike(['replay', '--json', ...extra, ...caps]);
    assert.equal(r.status, 0, r.stderr);
    const blocks = w.log.filter((l) => l.event === 'block');
    assert.deepEqual(
      blocks.map((l) => [l.key, l.rule]),
      r.summary.blocks.map((b) => [b.key, b.rule]),
      "the log's blocks are replay's",
    );
    assert.deepEqual([...new Set(blocks.map((l) => String(l.key)))].sort(), blockedByTruth(truth, 3), "the blocks the truth's strikes imply");
    const adds = w.log.filter((l) => l.backend === 'dry-run' && l.op === 'add').map((l) => String(l.addr));
    assert.deepEqual(adds.sort(), [...new Set(blocks.map((l) => String(l.key)))].sort(), 'every block reaches the (dry-run) blocker, once per batch');

    // The state file is at packet time: the blocks still running at the last packet, as replay ended them.
    assert.ok(w.state, 'state file written');
    const lastTs = w.log.find((l) => l.event === 'replay_end')?.last_ts;
    assert.equal(w.state.saved_at, lastTs, 'saved at the time of the last packet');
    type Interval = { key: string; client: string; rule: string; from: number; until: number; rejects: number; level: number };
    const running = (r.summary.blocks as Interval[]).filter((b) => b.until >= w.state!.saved_at);
    assert.deepEqual(
      w.state.entries
        .filter((e) => e.block)
        .map((e) => e.block)
        .sort((a, b) => String(a!.key).localeCompare(String(b!.key))),
      running
        .map(({ key, client, rule, from, until, rejects, level }) => ({ key, client, rule, from, until, rejects, level }))
        .sort((a, b) => a.key.localeCompare(b.key)),
      "the state's blocks are replay's blocks still running at the end",
    );
    const end = w.log.find((l) => l.event === 'replay_end');
    assert.equal(end?.interrupted, false);
    assert.equal(end?.packets, r.summary.coverage.packets, 'every packet read');
    assert.ok(
      w.log.some((l) => l.event === 'stats' && l.when === 'exit'),
      'exit stats',
    );
    assert.ok(
      w.log.some((l) => l.event === 'stop'),
      'stopped as watch stops',
    );
  });
}

test('watch --replay - reads the capture from stdin', async (t) => {
  const d = tempDir();
  t.after(d.cleanup);
  const truth = JSON.parse(readFileSync('pcaps/crafted/bruteforce.truth.json', 'utf8')) as Truth;
  const w = await watchReplay(d.dir, ['--replay', '-', '--dry-run'], { stdin: 'pcaps/crafted/bruteforce.pcap' });
  assert.equal(w.status, 0, w.stderr);
  assert.deepEqual(strikeLines(w.log), truth.strikes);
});

test('watch --replay: a file that cannot be read to its end is reported, the others are read; exit 2', async (t) => {
  const d = tempDir();
  t.after(d.cleanup);
  const w = await watchReplay(d.dir, ['--replay', join(d.dir, 'missing.pcap'), 'pcaps/crafted/bruteforce.pcap', '--dry-run']);
  assert.equal(w.status, 2, w.stderr);
  assert.match(w.stderr, /missing\.pcap.*cannot open/);
  assert.ok(w.log.some((l) => l.event === 'replay_file_error' && String(l.file).endsWith('missing.pcap')));
  assert.equal(w.log.filter((l) => l.event === 'block').length, 2, 'the readable file was watched');
  assert.ok(w.state?.entries.length, 'state written');
});

test('watch --pace without --replay is refused (exit 1)', async (t) => {
  const d = tempDir();
  t.after(d.cleanup);
  const w = await watchReplay(d.dir, ['--pace', '--dry-run', '-i', 'nonexistent0']);
  assert.equal(w.status, 1);
  assert.match(w.stderr, /--pace paces a replay/);
});

/** Failed LOGIN sessions from one client, starting at these packet times (seconds after 2020-01-01). */
async function failures(path: string, client: string, startsSec: number[]): Promise<string> {
  const f = new FrameList();
  const base = 1577836800e6; // 2020-01-01T00:00:00Z, in µs: far from wall time, as yesterday's capture is
  let port = 41000;
  for (const s of startsSec)
    loginSession(f.conversation('en10mb', client, port++, '192.0.2.25', 587), base + s * 1e6, 'alice', '535 5.7.8 Error: authentication failed\r\n');
  return f.write(path);
}

test('watch --replay: packet time is the clock (hits an hour apart do not add up, however fast the replay)', async (t) => {
  const d = tempDir();
  t.after(d.cleanup);
  const pcap = await failures(join(d.dir, 'hour.pcap'), '198.51.100.31', [0, 10, 3600]);
  const w = await watchReplay(d.dir, ['--replay', pcap, '--dry-run']);
  assert.equal(w.status, 0, w.stderr);
  assert.deepEqual(strikeLines(w.log), [
    'SMTP_AUTH_FAIL: Strike 1: 198.51.100.31',
    'SMTP_AUTH_FAIL: Strike 2: 198.51.100.31',
    'SMTP_AUTH_FAIL: Strike 1: 198.51.100.31',
  ]);
  assert.equal(w.log.filter((l) => l.event === 'block').length, 0);
  assert.ok(w.state && w.state.saved_at > 1577836800 + 3600 && w.state.saved_at < 1577836800 + 3700, `state saved at packet time (${w.state?.saved_at})`);
  assert.deepEqual(
    w.state.entries.map((e) => e.key),
    ['198.51.100.31'],
  );
});

test("watch --replay: the state file of one replay is restored at the next one's first packet (two captures in a row strike as one)", async (t) => {
  const d = tempDir();
  t.after(d.cleanup);
  const day1 = await failures(join(d.dir, 'a.pcap'), '198.51.100.32', [0, 10]);
  const day2 = await failures(join(d.dir, 'b.pcap'), '198.51.100.32', [60]);
  const a = await watchReplay(d.dir, ['--replay', day1, '--dry-run']);
  assert.equal(a.status, 0, a.stderr);
  assert.deepEqual(
    a.state?.entries.map((e) => [e.key, e.auth.length]),
    [['198.51.100.32', 2]],
  );
  const b = await watchReplay(d.dir, ['--replay', day2, '--dry-run']);
  assert.equal(b.status, 0, b.stderr);
  assert.ok(
    b.log.some((l) => l.event === 'state_restored' && l.entries === 1),
    'restored (its hits are years older than wall time, not than the packets)',
  );
  assert.deepEqual(strikeLines(b.log), ['SMTP_AUTH_FAIL: Strike 3: 198.51.100.32']);
  assert.deepEqual(
    b.log.filter((l) => l.event === 'block').map((l) => l.key),
    ['198.51.100.32'],
  );
  assert.ok(!b.log.some((l) => l.event === 'state_after_capture'), 'saved before the second capture began: no warning');
});

test('watch --replay --pace: a capture spanning 1.5 s takes at least 1.5 s of wall time, with the same strikes', async (t) => {
  const d = tempDir();
  t.after(d.cleanup);
  const pcap = await failures(join(d.dir, 'paced.pcap'), '198.51.100.33', [0, 0.75, 1.5]);
  const w = await watchReplay(d.dir, ['--replay', pcap, '--pace', '--dry-run']);
  assert.equal(w.status, 0, w.stderr);
  assert.ok(w.wallMs >= 1500, `took ${w.wallMs} ms`);
  const end = w.log.find((l) => l.event === 'replay_end');
  assert.ok(typeof end?.wall_s === 'number' && end.wall_s >= 1.5 - 0.002, `replay_end wall_s ${String(end?.wall_s)} (timers may round by a millisecond)`);
  assert.deepEqual(
    strikeLines(w.log),
    [1, 2, 3].map((n) => `SMTP_AUTH_FAIL: Strike ${n}: 198.51.100.33`),
  );
  assert.deepEqual(
    w.log.filter((l) => l.backend === 'dry-run' && l.op === 'add').map((l) => l.addr),
    ['198.51.100.33'],
  );
});

test('watch --replay --pace: SIGTERM during an hour-long gap stops at once (state saved, exit 0)', async (t) => {
  const d = tempDir();
  t.after(d.cleanup);
  const pcap = await failures(join(d.dir, 'gap.pcap'), '198.51.100.34', [0, 0.1, 3600]);
  const run = startReplay(d.dir, ['--replay', pcap, '--pace', '--dry-run']);
  const deadline = setTimeout(() => run.child.kill('SIGKILL'), 60_000);
  t.after(() => clearTimeout(deadline));
  await waitFor(() => run.log().filter((l) => l.event === 'strike').length === 2, 'the first two strikes', 20_000, 20);
  run.child.kill('SIGTERM');
  const w = await run.done;
  assert.equal(w.status, 0, w.stderr);
  assert.equal(w.log.filter((l) => l.event === 'strike').length, 2, 'the packets of the hour after were not handed over');
  const end = w.log.find((l) => l.event === 'replay_end');
  assert.equal(end?.interrupted, true);
  assert.deepEqual(
    w.state?.entries.map((e) => [e.key, e.auth.length]),
    [['198.51.100.34', 2]],
    'state saved',
  );
});

test('watch --replay -: SIGTERM while stdin is open and has sent nothing yet (not even the header) stops it, exit 0', async (t) => {
  const d = tempDir();
  t.after(d.cleanup);
  const run = startReplay(d.dir, ['--replay', '-', '--dry-run'], { holdStdin: true });
  const deadline = setTimeout(() => run.child.kill('SIGKILL'), 60_000);
  t.after(() => clearTimeout(deadline));
  await waitFor(() => run.log().some((l) => l.event === 'start'), 'the start line', 20_000, 20);
  run.child.kill('SIGTERM');
  const w = await run.done;
  assert.equal(w.status, 0, `a SIGKILL after 60 s means SIGTERM did not stop it: ${w.stderr}`);
  assert.equal(w.log.find((l) => l.event === 'replay_end')?.interrupted, true);
  assert.ok(w.log.some((l) => l.event === 'stop'));
});

test('watch --replay: the log sensor is off (warned), and a state file saved after the capture began is warned about', async (t) => {
  const d = tempDir();
  t.after(d.cleanup);
  const pcap = await failures(join(d.dir, 'old.pcap'), '198.51.100.35', [0, 10, 20]);
  // A live watch's state: saved now (wall time), years after the capture's packets.
  const now = Math.floor(Date.now() / 1000);
  const live = { version: 1, saved_at: now, entries: [{ key: '203.0.113.9', last_seen: now, auth: [now], conn: [], block: null }] };
  writeFileSync(join(d.dir, 'state.json'), JSON.stringify(live));
  const w = await watchReplay(d.dir, ['--replay', pcap, '--dry-run', '--log', join(d.dir, 'mail.log')]);
  assert.equal(w.status, 0, w.stderr);
  assert.ok(
    w.log.some((l) => l.event === 'log_sensor_off' && l.level === 40),
    'log sensor off, warned',
  );
  assert.ok(!w.log.some((l) => l.event === 'logs_followed'), 'no log followed');
  const warn = w.log.find((l) => l.event === 'state_after_capture');
  assert.equal(warn?.saved_at, now);
  assert.ok(
    w.log.some((l) => l.event === 'state_restored' && l.entries === 1),
    'restored as of its own saving time, not as of the old packets',
  );
  assert.deepEqual(
    w.log.filter((l) => l.event === 'block').map((l) => l.key),
    ['198.51.100.35'],
  );
});
