/**
 * `report` at scale (issue 15 item 3): peak RSS and lines/s of `smtpstrike report` over a generated
 * Exim main log (bench/logs.ts's generator: 30 % of lines carry an AUTH outcome, 20,000 attackers,
 * 3,000 accounts, 3 days) plus, when present, the benchmark capture.
 *
 *   node dist/bench/report-mem.js [--lines 10000000,2000000] [--capture bench/out/synth.pcap | --no-capture]
 *                                 [--repeat 1] [--out bench/out/report-mem.json] [--timeout-s 3600]
 *   (env REPORT_MEM_LINES=1000000,2000000 does the same as --lines)
 *
 * Each size: the log is generated into a fresh temporary directory (10 M lines ≈ 1.3 GB), then
 * `node dist/src/cli.js report -q -g 0 --no-state [CAPTURE] LOG > /dev/null` runs under GNU time
 * (`/usr/bin/time -f '%e %M'`: seconds, peak RSS), and the directory is deleted. Several sizes show
 * whether the peak grows with the log; `--repeat N` runs each size N times on the same log (the
 * peak moves by tens of MB with the collector's timing: one run says little). lines/s = log lines
 * / wall seconds (the capture's replay is inside those seconds: it is also run alone, with no log,
 * for the part it takes).
 * Target (printed, not fatal): ≤ 500 MB peak RSS at 10,000,000 lines with the 1 GB capture.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { generateEximLog } from './logs.js';

const here = dirname(fileURLToPath(import.meta.url)); // <root>/dist/bench
const root = resolve(here, '..', '..');

export const REPORT_RSS_TARGET_MB = 500;

export interface ReportMemCase {
  lines: number;
  capture: string | null;
  log_bytes: number;
  gen_s: number;
  status: 'ok' | 'failed';
  seconds: number | null;
  rss_mb: number | null;
  lines_s: number | null;
  stdout_bytes: number;
  note?: string;
}

export interface ReportMemResult {
  cases: ReportMemCase[];
  capture_alone: ReportMemCase | null;
  target_mb: number;
}

export interface ReportMemOptions {
  lines: number[];
  capture: string | null;
  cli?: string;
  timeoutS?: number;
  /** Runs per size, on the same generated log (default 1). */
  repeat?: number;
  log?: (s: string) => void;
}

function timedReport(
  cli: string,
  args: string[],
  timeoutS: number,
): Promise<{ code: number | null; seconds: number; rssKb: number | null; stdoutBytes: number; stderrTail: string }> {
  return new Promise((res, rej) => {
    const timeFile = join(tmpdir(), `smtpstrike-report-mem-${process.pid}-${Date.now()}.txt`);
    const gnu = existsSync('/usr/bin/time');
    const argv = [cli, 'report', ...args];
    const child = gnu
      ? spawn('/usr/bin/time', ['-f', '%e %M', '-o', timeFile, process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const t0 = process.hrtime.bigint();
    let stdoutBytes = 0;
    let stderrTail = '';
    let hwm: number | null = null;
    child.stdout.on('data', (c: Buffer) => (stdoutBytes += c.length));
    child.stderr.on('data', (c: Buffer) => (stderrTail = (stderrTail + c.toString('utf8')).slice(-4000)));
    const poll = setInterval(() => {
      if (gnu || child.pid === undefined) return;
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) hwm = Number(m[1]);
      } catch {
        /* gone */
      }
    }, 50);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000);
    child.on('error', rej);
    child.on('close', (code) => {
      clearInterval(poll);
      clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      let rssKb = hwm;
      if (gnu && existsSync(timeFile)) {
        const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
        const m = /^([\d.]+) (\d+)$/.exec(last);
        if (m) rssKb = Number(m[2]);
        rmSync(timeFile, { force: true });
      }
      res({ code, seconds, rssKb, stdoutBytes, stderrTail });
    });
  });
}

const fmt = (n: number | null, d = 0): string =>
  n === null || !Number.isFinite(n) ? '-' : n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

export async function runReportMemBench(o: ReportMemOptions): Promise<ReportMemResult> {
  const log = o.log ?? ((s: string) => process.stdout.write(s + '\n'));
  const cli = o.cli ?? join(root, 'dist', 'src', 'cli.js');
  const timeoutS = o.timeoutS ?? 3600;
  const base = ['-q', '-g', '0', '--no-state'];
  const result: ReportMemResult = { cases: [], capture_alone: null, target_mb: REPORT_RSS_TARGET_MB };
  if (o.capture !== null) {
    log(`$ node dist/src/cli.js report ${base.join(' ')} ${o.capture}   (the capture alone)`);
    const r = await timedReport(cli, [...base, '--capture', o.capture], timeoutS);
    result.capture_alone = {
      lines: 0,
      capture: o.capture,
      log_bytes: 0,
      gen_s: 0,
      status: r.code === 0 ? 'ok' : 'failed',
      seconds: r.seconds,
      rss_mb: r.rssKb === null ? null : r.rssKb / 1024,
      lines_s: null,
      stdout_bytes: r.stdoutBytes,
      ...(r.code === 0 ? {} : { note: `exit ${r.code}: ${r.stderrTail.trim().split('\n').slice(-3).join(' | ')}` }),
    };
    log(`   capture alone: ${fmt(r.seconds, 1)} s, peak ${fmt(result.capture_alone.rss_mb)} MB`);
  }
  for (const lines of o.lines) {
    const dir = mkdtempSync(join(tmpdir(), 'smtpstrike-report-mem-'));
    try {
      const file = join(dir, `exim-${lines}.log`);
      const g0 = process.hrtime.bigint();
      generateEximLog(file, lines, 1);
      const genS = Number(process.hrtime.bigint() - g0) / 1e9;
      const logBytes = statSync(file).size;
      const args = [...base, ...(o.capture !== null ? ['--capture', o.capture] : []), '--logs', file];
      log(
        `$ node dist/src/cli.js report ${args.join(' ').replace(dir, '$TMP')} > /dev/null   (${fmt(lines)} lines, ${fmt(logBytes / 1048576)} MiB, made in ${fmt(genS, 1)} s)`,
      );
      for (let run = 0; run < (o.repeat ?? 1); run++) {
        const r = await timedReport(cli, args, timeoutS);
        const c: ReportMemCase = {
          lines,
          capture: o.capture,
          log_bytes: logBytes,
          gen_s: genS,
          status: r.code === 0 ? 'ok' : 'failed',
          seconds: r.seconds,
          rss_mb: r.rssKb === null ? null : r.rssKb / 1024,
          lines_s: r.code === 0 ? lines / r.seconds : null,
          stdout_bytes: r.stdoutBytes,
          ...(r.code === 0 ? {} : { note: `exit ${r.code}: ${r.stderrTail.trim().split('\n').slice(-3).join(' | ')}` }),
        };
        result.cases.push(c);
        log(
          `   ${c.status}: ${fmt(c.seconds, 1)} s, ${fmt(c.lines_s)} lines/s, peak RSS ${fmt(c.rss_mb)} MB` +
            `${lines >= 10_000_000 && o.capture !== null ? `  (target <= ${REPORT_RSS_TARGET_MB} MB: ${c.rss_mb !== null && c.rss_mb <= REPORT_RSS_TARGET_MB ? 'PASS' : 'FAIL'})` : ''}` +
            `${c.note ? `  ${c.note}` : ''}`,
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return result;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      lines: { type: 'string' },
      capture: { type: 'string' },
      'no-capture': { type: 'boolean', default: false },
      out: { type: 'string' },
      'timeout-s': { type: 'string', default: '3600' },
      'product-cli': { type: 'string' },
      repeat: { type: 'string', default: '1' },
    },
  });
  const linesArg = values.lines ?? process.env['REPORT_MEM_LINES'] ?? '10000000,2000000';
  const lines = linesArg.split(',').map(Number);
  if (lines.some((n) => !Number.isInteger(n) || n <= 0)) {
    process.stderr.write('report-mem: --lines N[,N...] (positive integers)\n');
    return 2;
  }
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) {
    process.stderr.write('report-mem: --repeat N (a positive integer)\n');
    return 2;
  }
  const cap = values['no-capture'] ? null : resolve(values.capture ?? join(root, 'bench', 'out', 'synth.pcap'));
  if (cap !== null && !existsSync(cap)) {
    process.stderr.write(`report-mem: ${cap} missing (npm run bench makes it; or --capture FILE / --no-capture)\n`);
    return 2;
  }
  const r = await runReportMemBench({
    lines,
    capture: cap,
    timeoutS: Number(values['timeout-s']),
    repeat,
    ...(values['product-cli'] ? { cli: resolve(values['product-cli']) } : {}),
  });
  const out = resolve(values.out ?? join(root, 'bench', 'out', 'report-mem.json'));
  writeFileSync(out, JSON.stringify(r, null, 2) + '\n');
  process.stdout.write(`results written to ${out}\n`);
  return r.cases.every((c) => c.status === 'ok') ? 0 : 3;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (c) => (process.exitCode = c),
    (e: unknown) => {
      process.stderr.write(`report-mem: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 2;
    },
  );
}
