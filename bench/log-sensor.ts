/**
 * Live log-sensor benchmark (issue 11 item 7): a writer appends Postfix/Dovecot lines to a file at a
 * fixed rate while a consumer process follows it as watch will — the real LogFollower (tail -F),
 * the accounts LineParser, and SensorMerge (`logSensor: true`, wall clock) in front of a
 * StrikeEngine — and reports the lag from write to parse+strike, the consumer's CPU, the rate kept
 * up with, and whether every line and outcome was seen.
 *
 *   node dist/bench/log-sensor.js [--rates 50000,100000,200000,400000] [--seconds 5] [--quick]
 *                                 [--dir bench/out] [--results bench/out/log-sensor.json]
 *
 * From bench/run.ts: `runLogSensorBench({ rates, seconds })`. Tests: `runLogSensorCase` at a low
 * rate (test/bench-log-sensor.test.ts).
 *
 * Lag: the writer writes every ~2 ms what is due at the target rate (one O_APPEND write) and notes
 * (monotonic time after the write, lines written so far); the consumer notes (monotonic time after
 * a batch went through parser and merge, lines seen so far). CLOCK_MONOTONIC (process.hrtime) is
 * one clock for both processes. A write's lag = the first consumer note covering its last line −
 * the write's note: write → read → parse → SensorMerge/StrikeEngine. Percentiles are over writes.
 *
 * Exactness: the writer's lines go, in the harness, through a LineParser of their own (same
 * options): the consumer must see the same number of lines, failures, successes and tempfails.
 */
import { fork } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { LogClock } from '../src/accounts/clock.js';
import { FAILURE, LineParser, SUCCESS, TEMPFAIL } from '../src/accounts/line-parser.js';
import type { PipelineEvent } from '../src/events.js';
import { LogFollower } from '../src/logfollow/log-follower.js';
import { SensorMerge } from '../src/strikes/sensor-merge.js';
import { defaultStrikeOptions, StrikeEngine } from '../src/strikes/strike-engine.js';
import { Rng } from './rng.js';

const here = dirname(fileURLToPath(import.meta.url)); // <root>/dist/bench
const root = resolve(here, '..', '..');

export const LOG_SENSOR_TARGET = 50_000;
/** Services watch reads by default (smtp: Postfix, Exim, and Dovecot's auth for Postfix's SASL). */
const MODE = ['postfix', 'dovecot', 'exim'] as const;

const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => (n < 10 ? `0${n}` : String(n));
function syslogPrefix(ms: number): string {
  const d = new Date(ms);
  const day = d.getDate();
  return `${MON[d.getMonth()]} ${day < 10 ? ' ' : ''}${day} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} mail `;
}

/**
 * Message bodies (after `Mon DD HH:MM:SS mail `), whole Postfix sessions in order (connect,
 * SASL failures, 454s, logins by `sasl_username=` or by the `auth=N/M` of the disconnect line),
 * Dovecot logins and failures, and noise (qmgr, cleanup, `Logged out`).
 */
export function sensorLinePool(n: number, seed = 1): string[] {
  const rng = new Rng(seed);
  const out: string[] = [];
  const ip = (): string =>
    `${1 + Math.floor(rng.next() * 222)}.${Math.floor(rng.next() * 256)}.${Math.floor(rng.next() * 256)}.${1 + Math.floor(rng.next() * 254)}`;
  const attackers = Array.from({ length: 2000 }, ip);
  let pid = 10_000;
  let q = 0x4f1a2b3c4d;
  while (out.length < n) {
    const r = rng.next();
    const user = `user${Math.floor(rng.next() * 500)}`;
    if (r < 0.45) {
      pid++;
      const prog = rng.next() < 0.5 ? 'postfix/submission/smtpd' : 'postfix/smtpd';
      const c = rng.next() < 0.8 ? attackers[Math.floor(rng.next() * attackers.length)]! : ip();
      out.push(`${prog}[${pid}]: connect from unknown[${c}]`);
      const fails = Math.floor(rng.next() * 4);
      for (let i = 0; i < fails; i++)
        out.push(
          `${prog}[${pid}]: warning: unknown[${c}]: SASL ${i % 2 ? 'PLAIN' : 'LOGIN'} authentication failed: ${rng.next() < 0.1 ? 'Connection lost to authentication server' : '(reason unavailable)'}, sasl_username=${user}`,
        );
      const ok = rng.next() < 0.3 ? 1 : 0;
      if (ok && rng.next() < 0.5)
        out.push(`${prog}[${pid}]: ${(q++).toString(16).toUpperCase()}: client=unknown[${c}], sasl_method=PLAIN, sasl_username=${user}`);
      out.push(`${prog}[${pid}]: disconnect from unknown[${c}] ehlo=1 auth=${ok}/${ok + fails} quit=1 commands=${2 + ok}/${3 + fails}`);
    } else if (r < 0.6) {
      out.push(
        `dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<${user}>, method=PLAIN, rip=${attackers[Math.floor(rng.next() * attackers.length)]}, lip=192.0.2.25, TLS, session=<6wzJvinOOLisEQAB>`,
      );
    } else if (r < 0.7) {
      out.push(`dovecot: imap-login: Login: user=<${user}>, method=PLAIN, rip=${ip()}, lip=192.0.2.25, mpid=${pid}, TLS, session=<sF+SszFtrD5Q8TzB>`);
    } else if (r < 0.8) {
      out.push(`dovecot: imap(${user})<${pid}><wGrb4J+GCc16C4kE>: Logged out in=166 out=10854 deleted=0 expunged=0 trashed=0`);
    } else if (r < 0.9) {
      out.push(`postfix/qmgr[99]: ${(q++).toString(16).toUpperCase()}: from=<${user}@example.com>, size=${1000 + (out.length % 9000)}, nrcpt=1 (queue active)`);
    } else {
      out.push(`postfix/cleanup[${pid}]: ${(q++).toString(16).toUpperCase()}: message-id=<${out.length}@example.com>`);
    }
  }
  return out;
}

export interface SensorCaseResult {
  rate: number;
  seconds: number;
  lines_written: number;
  lines_seen: number;
  /** Lines seen / seconds from the first write to the last line's parse. */
  lines_per_s: number;
  kept_up: boolean;
  lag_ms: { p50: number; p99: number; max: number };
  consumer_cpu: { user_s: number; system_s: number; percent_of_core: number };
  expected: { failures: number; successes: number; tempfails: number };
  seen: { failures: number; successes: number; tempfails: number; strikes: number; blocks: number };
  exact: boolean;
  problems: string[];
}

interface ConsumerReport {
  notes: number[]; // pairs: monotonic ms, cumulative lines
  lines: number;
  failures: number;
  successes: number;
  tempfails: number;
  strikes: number;
  blocks: number;
  cpu: { user: number; system: number };
  wall_ms: number;
}

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** The consumer (a child process): follow, parse, merge; report when `expect` lines were seen. */
async function consumer(file: string): Promise<void> {
  const engineOut = { strikes: 0, blocks: 0 };
  const sink = {
    event(ev: PipelineEvent): void {
      if (ev.type === 'block') engineOut.blocks++;
      else engineOut.strikes++;
    },
  };
  const engine = new StrikeEngine(defaultStrikeOptions(), sink);
  // As watch will (native-notes/sensor-merge.md, "What watch calls"): log sensor on, wire sensor on
  // (capture running), arrival on the wall clock.
  const merge = new SensorMerge(engine, { logSensor: true, clock: () => Date.now() / 1000 });
  const now = Date.now() / 1000;
  const parser = new LineParser([...MODE], new LogClock('local', now), Math.floor(now));
  const r: ConsumerReport = { notes: [], lines: 0, failures: 0, successes: 0, tempfails: 0, strikes: 0, blocks: 0, cpu: { user: 0, system: 0 }, wall_ms: 0 };
  let expect = Infinity;
  let done: (() => void) | null = null;
  const finished = new Promise<void>((res) => (done = res));
  const follower = new LogFollower(file, {
    fromStart: true,
    pollMs: 50,
    onLines: (lines) => {
      for (const line of lines) {
        const v = parser.parse(line);
        if (v !== SUCCESS && v !== FAILURE && v !== TEMPFAIL) continue;
        const h = parser.hit;
        const outcome = v === SUCCESS ? 'success' : v === FAILURE ? 'failure' : 'tempfail';
        for (let k = 0; k < h.count; k++) merge.log({ source: 'log', ts: h.ts, client: h.ip, outcome, user: h.user, serverPort: null });
        if (v === SUCCESS) r.successes += h.count;
        else if (v === FAILURE) r.failures += h.count;
        else r.tempfails += h.count;
      }
      r.lines += lines.length;
      r.notes.push(nowMs(), r.lines);
      if (r.lines >= expect) done?.();
    },
  });
  const cpu0 = process.cpuUsage();
  const t0 = nowMs();
  const tick = setInterval(() => merge.tick(), 1000);
  process.on('message', (m: { expect: number }) => {
    expect = m.expect;
    if (r.lines >= expect) done?.();
  });
  await follower.start();
  process.send!({ ready: true });
  await Promise.race([finished, new Promise<void>((res) => process.once('message', () => setTimeout(res, 30_000).unref()))]);
  clearInterval(tick);
  await follower.stop();
  const cpu = process.cpuUsage(cpu0);
  r.cpu = { user: cpu.user / 1e6, system: cpu.system / 1e6 };
  r.wall_ms = nowMs() - t0;
  r.strikes = engineOut.strikes;
  r.blocks = engineOut.blocks;
  process.send!({ report: r }, () => process.exit(0));
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** One rate: writer here, consumer in a child process. */
export async function runLogSensorCase(o: { rate: number; seconds: number; dir?: string; pool?: string[] }): Promise<SensorCaseResult> {
  const dir = resolve(root, o.dir ?? 'bench/out');
  mkdirSync(dir, { recursive: true });
  const file = resolve(dir, `log-sensor-${process.pid}.log`);
  rmSync(file, { force: true });
  const pool = o.pool ?? sensorLinePool(50_000);
  const total = Math.max(1, Math.round(o.rate * o.seconds));
  // Expected outcomes: the same lines through a LineParser of the harness's own.
  const now = Date.now() / 1000;
  const ref = new LineParser([...MODE], new LogClock('local', now), Math.floor(now));
  const expected = { failures: 0, successes: 0, tempfails: 0 };
  const prefix0 = syslogPrefix(Date.now());
  for (let i = 0; i < total; i++) {
    const v = ref.parse(prefix0 + pool[i % pool.length]!);
    if (v === SUCCESS) expected.successes += ref.hit.count;
    else if (v === FAILURE) expected.failures += ref.hit.count;
    else if (v === TEMPFAIL) expected.tempfails += ref.hit.count;
  }
  const fd = openSync(file, 'a');
  const child = fork(fileURLToPath(import.meta.url), ['--consumer', file], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const reportP = new Promise<ConsumerReport>((res, rej) => {
    child.on('message', (m: { report?: ConsumerReport }) => {
      if (m.report) res(m.report);
    });
    child.on('exit', (code) => rej(new Error(`consumer exited (${code}) without a report`)));
  });
  await new Promise<void>((res) => child.on('message', (m: { ready?: boolean }) => m.ready && res()));
  // Writer: every ~2 ms, what is due at the rate, in one write.
  const writes: number[] = []; // pairs: monotonic ms after the write, cumulative lines
  let written = 0;
  const t0 = nowMs();
  await new Promise<void>((res) => {
    const step = (): void => {
      const due = Math.min(total, Math.floor(((nowMs() - t0) / 1000) * o.rate) + 1);
      if (due > written) {
        const prefix = syslogPrefix(Date.now());
        let s = '';
        for (let i = written; i < due; i++) s += prefix + pool[i % pool.length]! + '\n';
        writeSync(fd, s);
        written = due;
        writes.push(nowMs(), written);
      }
      if (written >= total) res();
      else setTimeout(step, 2);
    };
    step();
  });
  closeSync(fd);
  child.send({ expect: total });
  const rep = await reportP.catch((e: Error) => e);
  rmSync(file, { force: true });
  const problems: string[] = [];
  if (rep instanceof Error) throw rep;
  // Lag per write: first consumer note whose count covers the write's last line.
  const lags: number[] = [];
  let j = 0;
  for (let i = 0; i < writes.length; i += 2) {
    while (j < rep.notes.length && rep.notes[j + 1]! < writes[i + 1]!) j += 2;
    if (j >= rep.notes.length) break;
    lags.push(Math.max(0, rep.notes[j]! - writes[i]!));
  }
  lags.sort((a, b) => a - b);
  const lastNote = rep.notes.length >= 2 ? rep.notes[rep.notes.length - 2]! : t0;
  const span = (lastNote - t0) / 1000;
  const seen = { failures: rep.failures, successes: rep.successes, tempfails: rep.tempfails, strikes: rep.strikes, blocks: rep.blocks };
  const exact = rep.lines === total && rep.failures === expected.failures && rep.successes === expected.successes && rep.tempfails === expected.tempfails;
  if (!exact) problems.push(`seen ${rep.lines} lines ${JSON.stringify(seen)} vs written ${total} ${JSON.stringify(expected)}`);
  const lag = { p50: round1(pct(lags, 50)), p99: round1(pct(lags, 99)), max: round1(lags[lags.length - 1] ?? NaN) };
  // Kept up: every line seen, at ≥ 95 % of the target rate from the first write to the last parse.
  const keptUp = exact && rep.lines / Math.max(span, 1e-3) >= 0.95 * o.rate;
  const busy = rep.cpu.user + rep.cpu.system;
  return {
    rate: o.rate,
    seconds: o.seconds,
    lines_written: total,
    lines_seen: rep.lines,
    lines_per_s: Math.round(rep.lines / Math.max(span, 1e-3)),
    kept_up: keptUp,
    lag_ms: lag,
    // CPU over the writer's span (start-up of the child excluded: it starts before the first write).
    consumer_cpu: { user_s: round3(rep.cpu.user), system_s: round3(rep.cpu.system), percent_of_core: Math.round((100 * busy) / Math.max(span, 1e-3)) },
    expected,
    seen,
    exact,
    problems,
  };
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
const round3 = (x: number): number => Math.round(x * 1000) / 1000;

export interface LogSensorBenchResult {
  target_lines_per_s: number;
  cases: SensorCaseResult[];
  /** Highest rate kept up with (every line seen, at ≥ 95 % of the rate over the run). */
  limit_lines_per_s: number | null;
  target_met: boolean;
}

export async function runLogSensorBench(o: {
  rates?: number[];
  seconds?: number;
  quick?: boolean;
  dir?: string;
  log?: (s: string) => void;
  results?: string;
}): Promise<LogSensorBenchResult> {
  const log = o.log ?? ((s: string) => process.stdout.write(s + '\n'));
  const rates = o.rates ?? (o.quick ? [LOG_SENSOR_TARGET] : [50_000, 100_000, 200_000, 400_000]);
  const seconds = o.seconds ?? (o.quick ? 2 : 5);
  const pool = sensorLinePool(50_000);
  const cases: SensorCaseResult[] = [];
  log(
    `\nlog sensor: writer appends Postfix/Dovecot lines at a fixed rate for ${seconds} s; consumer = LogFollower + LineParser + SensorMerge/StrikeEngine (child process)`,
  );
  log(`${'rate'.padStart(9)} ${'written'.padStart(9)} ${'seen'.padStart(9)} ${'lines/s'.padStart(9)}  lag p50 / p99 / max ms     CPU   exact  kept up`);
  for (const rate of rates) {
    const c = await runLogSensorCase({ rate, seconds, dir: o.dir, pool });
    cases.push(c);
    log(
      `${String(rate).padStart(9)} ${String(c.lines_written).padStart(9)} ${String(c.lines_seen).padStart(9)} ${String(c.lines_per_s).padStart(9)}  ${`${c.lag_ms.p50} / ${c.lag_ms.p99} / ${c.lag_ms.max}`.padEnd(24)} ${`${c.consumer_cpu.percent_of_core}%`.padStart(5)}   ${c.exact ? 'yes' : 'NO '}    ${c.kept_up ? 'yes' : 'no'}`,
    );
    for (const p of c.problems) log(`  problem: ${p}`);
    if (!c.kept_up) break;
  }
  const kept = cases.filter((c) => c.kept_up).map((c) => c.rate);
  const res: LogSensorBenchResult = {
    target_lines_per_s: LOG_SENSOR_TARGET,
    cases,
    limit_lines_per_s: kept.length > 0 ? Math.max(...kept) : null,
    target_met: cases.some((c) => c.kept_up && c.rate >= LOG_SENSOR_TARGET),
  };
  log(
    `target: keeps up with ≥ ${LOG_SENSOR_TARGET.toLocaleString('en-US')} lines/s: ${res.target_met ? 'PASS' : 'FAIL'} (highest rate kept up with: ${res.limit_lines_per_s ?? 'none'}${res.limit_lines_per_s === rates[rates.length - 1] ? ', the highest tried' : ''})`,
  );
  if (o.results) {
    mkdirSync(dirname(resolve(root, o.results)), { recursive: true });
    writeFileSync(resolve(root, o.results), JSON.stringify(res, null, 2) + '\n');
  }
  return res;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv[2] === '--consumer') {
    await consumer(process.argv[3]!);
  } else {
    const { values } = parseArgs({
      options: {
        rates: { type: 'string' },
        seconds: { type: 'string' },
        quick: { type: 'boolean' },
        dir: { type: 'string' },
        results: { type: 'string' },
      },
    });
    const r = await runLogSensorBench({
      rates: values.rates ? values.rates.split(',').map(Number) : undefined,
      seconds: values.seconds ? Number(values.seconds) : undefined,
      quick: values.quick,
      dir: values.dir,
      results: values.results ?? 'bench/out/log-sensor.json',
    });
    process.exitCode = r.cases.every((c) => c.exact) ? 0 : 1;
  }
}
