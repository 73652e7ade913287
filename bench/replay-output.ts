/**
 * replay's outputs side by side (issue 15 item 6): the same capture through
 *
 *   replay --summary-only            (text, counts only)
 *   replay --json --summary-only     (the summary line only)
 *   replay --json                    (every event as a JSON line)
 *   replay                           (the text report: detail lines per client, strike log)
 *
 * each best of N (wall seconds, with user+sys CPU) and its peak RSS, its stdout written to a file in
 * memory (bytes counted afterwards: a reader that keeps up and costs no CPU beside the run). Targets:
 * `--json` within 15 % of `--json --summary-only`'s time and ≤ 300 MB peak RSS.
 *
 *   node dist/bench/replay-output.js [--file bench/out/synth.pcap] [--repeat 3] [--cli dist/src/cli.js]
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const OUTPUT_TARGET = { jsonOverSummary: 1.15, rssMb: 300 };

export interface OutputCase {
  name: string;
  args: string[];
  /** Best wall time and that run's CPU seconds (user + system). */
  seconds: number;
  cpu_s: number;
  runs_s: number[];
  /** Highest peak RSS of the runs. */
  rss_mb: number;
  stdout_bytes: number;
  /** `--json`: in how many runs the summary's run.formatter_thread was true (the lines written on a second core). */
  formatter_thread_runs?: number;
}

export interface OutputBench {
  file: string;
  load_before: number[];
  cases: OutputCase[];
  json_over_summary: number | null;
  json_rss_mb: number | null;
  pass: { time: boolean | null; rss: boolean | null };
}

const CASES: { name: string; args: string[] }[] = [
  { name: 'text --summary-only', args: ['--summary-only'] },
  { name: '--json --summary-only', args: ['--json', '--summary-only'] },
  { name: '--json (every event)', args: ['--json'] },
  { name: 'text report', args: [] },
];

/**
 * Where a run's stdout goes: a file in memory (/dev/shm when there is one), read afterwards for its
 * size and its summary's end. The first version read it through a pipe in this process, which cost
 * ~0.26 CPU s for `--json`'s 195 MB (a `| wc -c` costs 0.04 s) on the same two cores as the run
 * it measured: native-notes/replay-output.md, "Sixth round".
 */
function stdoutFile(): string {
  const dir = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  return join(dir, `smtpstrike-bench-stdout-${process.pid}-${Date.now()}.json`);
}

function once(
  cli: string,
  file: string,
  args: string[],
): Promise<{ seconds: number; cpu: number; rssKb: number; bytes: number; code: number | null; formatterThread: boolean }> {
  return new Promise((done, fail) => {
    const timeFile = join(tmpdir(), `smtpstrike-bench-out-${process.pid}-${Date.now()}.txt`);
    const outFile = stdoutFile();
    const out = openSync(outFile, 'w');
    const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', timeFile, process.execPath, cli, 'replay', '--no-progress', ...args, file], {
      stdio: ['ignore', out, 'ignore'],
      env: { ...process.env, TZ: 'UTC' },
    });
    closeSync(out);
    child.on('error', fail);
    child.on('close', (code) => {
      const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
      rmSync(timeFile, { force: true });
      const bytes = statSync(outFile).size;
      const fd = openSync(outFile, 'r');
      const tail = Buffer.alloc(Math.min(512, bytes));
      readSync(fd, tail, 0, tail.length, bytes - tail.length);
      closeSync(fd);
      rmSync(outFile, { force: true });
      const m = /^([\d.]+) ([\d.]+) ([\d.]+) (\d+)$/.exec(last);
      if (!m) return fail(new Error(`GNU time said: ${last}`));
      done({
        seconds: Number(m[1]),
        cpu: Number(m[2]) + Number(m[3]),
        rssKb: Number(m[4]),
        bytes,
        code,
        formatterThread: tail.toString('latin1').includes('"formatter_thread":true'),
      });
    });
  });
}

export async function runReplayOutputBench(o: { log: (s: string) => void; cli: string; file: string; repeat: number }): Promise<OutputBench | null> {
  if (!existsSync('/usr/bin/time')) {
    o.log('replay outputs: /usr/bin/time (Debian package `time`) is missing: not measured');
    return null;
  }
  const load = loadavg().map((x) => Math.round(x * 100) / 100);
  o.log(`load average before: ${load.join(' ')} (2 cores shared: compare the CPU column when it is high)`);
  const cases: OutputCase[] = [];
  // Interleaved rounds, so that a burst of load elsewhere hits every case alike.
  const runs = CASES.map(() => [] as Awaited<ReturnType<typeof once>>[]);
  for (let r = 0; r < o.repeat; r++) {
    for (let i = 0; i < CASES.length; i++) {
      const x = await once(o.cli, o.file, CASES[i]!.args);
      if (x.code !== 0) throw new Error(`replay ${CASES[i]!.args.join(' ')} exited ${x.code}`);
      runs[i]!.push(x);
    }
  }
  CASES.forEach((c, i) => {
    const rs = runs[i]!;
    const best = rs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    cases.push({
      name: c.name,
      args: c.args,
      seconds: best.seconds,
      cpu_s: Math.round(best.cpu * 100) / 100,
      runs_s: rs.map((x) => x.seconds),
      rss_mb: Math.round(Math.max(...rs.map((x) => x.rssKb)) / 1024),
      stdout_bytes: best.bytes,
      ...(c.args.includes('--json') && !c.args.includes('--summary-only') ? { formatter_thread_runs: rs.filter((x) => x.formatterThread).length } : {}),
    });
  });
  const base = cases[1]!;
  o.log(
    `${'replay'.padEnd(24)} ${'best s'.padStart(7)} ${'CPU s'.padStart(6)} ${'× sum'.padStart(6)} ${'peak RSS'.padStart(9)} ${'stdout MB'.padStart(10)}  runs`,
  );
  for (const c of cases) {
    o.log(
      `${c.name.padEnd(24)} ${c.seconds.toFixed(2).padStart(7)} ${c.cpu_s.toFixed(2).padStart(6)} ${(c.seconds / base.seconds).toFixed(2).padStart(6)} ${`${c.rss_mb} MB`.padStart(9)} ${(c.stdout_bytes / 1e6).toFixed(1).padStart(10)}  ${JSON.stringify(c.runs_s)}`,
    );
  }
  const json = cases[2]!;
  o.log(
    `--json: the lines written on a formatter thread in ${json.formatter_thread_runs ?? 0} of ${json.runs_s.length} runs (replay uses one when a core stood idle at its start: docs/replay.md)`,
  );
  const ratio = json.seconds / base.seconds;
  const pass = { time: ratio <= OUTPUT_TARGET.jsonOverSummary, rss: json.rss_mb <= OUTPUT_TARGET.rssMb };
  o.log(
    `--json vs --json --summary-only: ${ratio.toFixed(2)}× (target ≤ ${OUTPUT_TARGET.jsonOverSummary}×) ${pass.time ? 'PASS' : 'FAIL'}; ` +
      `peak RSS ${json.rss_mb} MB (target ≤ ${OUTPUT_TARGET.rssMb} MB) ${pass.rss ? 'PASS' : 'FAIL'}`,
  );
  o.log(
    `load average after: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  return { file: o.file, load_before: load, cases, json_over_summary: ratio, json_rss_mb: json.rss_mb, pass };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const { values } = parseArgs({
    options: {
      file: { type: 'string', default: join(root, 'bench', 'out', 'synth.pcap') },
      repeat: { type: 'string', default: '3' },
      cli: { type: 'string', default: join(root, 'dist', 'src', 'cli.js') },
    },
  });
  runReplayOutputBench({
    log: (s) => process.stdout.write(`${s}\n`),
    cli: resolve(values.cli),
    file: resolve(values.file),
    repeat: Number(values.repeat),
  }).then(
    (r) => {
      process.exitCode = r ? 0 : 3;
    },
    (e: unknown) => {
      process.stderr.write(`replay-output bench: ${String(e)}\n`);
      process.exitCode = 2;
    },
  );
}
