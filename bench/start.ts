/**
 * Start-up time (issue 15 item 5): `node -e 0`, `smtpstrike --help` and `smtpstrike replay` of a
 * 1 kB capture, each run `--runs` times (default 20), interleaved round by round so that a change
 * in the machine's load touches all three alike. Prints per case the median and the minimum of the
 * wall time and the median CPU time (user + system, from GNU time when installed), and the
 * differences to `node -e 0` against the targets (≤ 60 ms and ≤ 120 ms above it, median wall).
 *
 *   node dist/bench/start.js [--runs 20] [--cli dist/src/cli.js] [--capture pcaps/crafted/link-ipv4.pcap] [--json FILE]
 *
 * `npm run bench` runs it as its "start" section (bench/run.ts; `--no-start` skips it, `--only-start`
 * runs nothing else).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url)); // <root>/dist/bench
const root = resolve(here, '..', '..');

export const START_TARGETS_MS = { help: 60, replay: 120 } as const;

export interface StartCase {
  name: string;
  args: string[];
  wall_ms: number[];
  cpu_ms: number[];
  median_ms: number;
  min_ms: number;
  cpu_median_ms: number | null;
}

export interface StartResult {
  runs: number;
  cli: string;
  capture: string;
  capture_bytes: number;
  loadavg_before: number[];
  loadavg_after: number[];
  cases: StartCase[];
  /** Median wall time above `node -e 0`, and whether it meets the target. */
  help_over_node_ms: number;
  replay_over_node_ms: number;
  help_cpu_over_node_ms: number | null;
  replay_cpu_over_node_ms: number | null;
  help_pass: boolean;
  replay_pass: boolean;
}

const gnuTime = ((): boolean => {
  if (!existsSync('/usr/bin/time')) return false;
  const r = spawnSync('/usr/bin/time', ['--version'], { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.includes('GNU');
})();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/** One run: wall ms (hrtime around the spawn) and CPU ms (GNU time's user + system, or NaN). */
function once(args: string[], timeFile: string): { wall: number; cpu: number; status: number | null; stderr: string } {
  const argv = gnuTime ? ['-f', '%U %S', '-o', timeFile, process.execPath, ...args] : args;
  const exe = gnuTime ? '/usr/bin/time' : process.execPath;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(exe, argv, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  let cpu = NaN;
  if (gnuTime && existsSync(timeFile)) {
    const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
    const m = /^([\d.]+) ([\d.]+)$/.exec(last);
    if (m) cpu = (Number(m[1]) + Number(m[2])) * 1000;
    rmSync(timeFile, { force: true });
  }
  return { wall, cpu, status: r.status, stderr: r.stderr };
}

export function runStartBench(opts: { runs?: number; cli?: string; capture?: string; log?: (s: string) => void } = {}): StartResult {
  const log = opts.log ?? ((s: string) => process.stdout.write(s + '\n'));
  const runs = Math.max(1, opts.runs ?? 20);
  const cli = resolve(opts.cli ?? join(root, 'dist', 'src', 'cli.js'));
  const capture = resolve(opts.capture ?? join(root, 'pcaps', 'crafted', 'link-ipv4.pcap'));
  const timeFile = join(tmpdir(), `smtpstrike-bench-start-${process.pid}.txt`);
  const cases: StartCase[] = [
    { name: 'node -e 0', args: ['-e', '0'] },
    { name: 'smtpstrike --help', args: [cli, '--help'] },
    { name: `smtpstrike replay ${capture.replace(root + '/', '')}`, args: [cli, 'replay', capture] },
  ].map((c) => ({ ...c, wall_ms: [], cpu_ms: [], median_ms: NaN, min_ms: NaN, cpu_median_ms: null }));
  const loadBefore = loadavg().map((x) => Math.round(x * 100) / 100);
  // one untimed round first: the files into the page cache
  for (const c of cases) {
    const r = once(c.args, timeFile);
    if (r.status !== 0) throw new Error(`${c.name} exited ${r.status}: ${r.stderr.trim().slice(0, 300)}`);
  }
  for (let i = 0; i < runs; i++) {
    for (const c of cases) {
      const r = once(c.args, timeFile);
      if (r.status !== 0) throw new Error(`${c.name} exited ${r.status}: ${r.stderr.trim().slice(0, 300)}`);
      c.wall_ms.push(Math.round(r.wall * 10) / 10);
      if (Number.isFinite(r.cpu)) c.cpu_ms.push(r.cpu);
    }
  }
  const loadAfter = loadavg().map((x) => Math.round(x * 100) / 100);
  for (const c of cases) {
    c.median_ms = median(c.wall_ms);
    c.min_ms = Math.min(...c.wall_ms);
    c.cpu_median_ms = c.cpu_ms.length === runs ? median(c.cpu_ms) : null;
  }
  const [node, help, replay] = cases as [StartCase, StartCase, StartCase];
  const cpuOver = (c: StartCase): number | null => (c.cpu_median_ms === null || node.cpu_median_ms === null ? null : c.cpu_median_ms - node.cpu_median_ms);
  const res: StartResult = {
    runs,
    cli,
    capture,
    capture_bytes: statSync(capture).size,
    loadavg_before: loadBefore,
    loadavg_after: loadAfter,
    cases,
    help_over_node_ms: help.median_ms - node.median_ms,
    replay_over_node_ms: replay.median_ms - node.median_ms,
    help_cpu_over_node_ms: cpuOver(help),
    replay_cpu_over_node_ms: cpuOver(replay),
    help_pass: help.median_ms - node.median_ms <= START_TARGETS_MS.help,
    replay_pass: replay.median_ms - node.median_ms <= START_TARGETS_MS.replay,
  };
  const f = (n: number | null): string => (n === null || !Number.isFinite(n) ? '-' : n.toFixed(0));
  log(`${runs} runs each, interleaved; load average ${loadBefore.join(' ')} before, ${loadAfter.join(' ')} after (${res.capture_bytes} B capture)`);
  log(`${'case'.padEnd(52)} ${'median ms'.padStart(10)} ${'min ms'.padStart(8)} ${'CPU ms'.padStart(8)} ${'over node'.padStart(10)}`);
  for (const c of cases)
    log(
      `${c.name.padEnd(52)} ${f(c.median_ms).padStart(10)} ${f(c.min_ms).padStart(8)} ${f(c.cpu_median_ms).padStart(8)} ${(c === node ? '' : f(c.median_ms - node.median_ms)).padStart(10)}`,
    );
  const mark = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');
  log(
    `--help: ${f(res.help_over_node_ms)} ms above node -e 0 (CPU ${f(res.help_cpu_over_node_ms)} ms)   target <= ${START_TARGETS_MS.help} ms  ${mark(res.help_pass)}`,
  );
  log(
    `replay of ${res.capture_bytes} B: ${f(res.replay_over_node_ms)} ms above node -e 0 (CPU ${f(res.replay_cpu_over_node_ms)} ms)   target <= ${START_TARGETS_MS.replay} ms  ${mark(res.replay_pass)}`,
  );
  if (!gnuTime) log('(no GNU time: CPU times not measured; apt-get install time)');
  return res;
}

function main(): number {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '20' }, cli: { type: 'string' }, capture: { type: 'string' }, json: { type: 'string' } },
    strict: true,
  });
  const res = runStartBench({ runs: Number(values.runs), cli: values.cli, capture: values.capture });
  if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(res, null, 2) + '\n');
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main();
