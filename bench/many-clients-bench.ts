/**
 * The many-clients case of `npm run bench` (issue 9, item 4): 1,000,000 distinct IPv4 clients and
 * 1,000,000 IPv6 /64s, each failing once, through `replay --json --summary-only` (counts checked
 * client by client) and `replay --summary-only` (text). Target: peak RSS ≤ 512 MB for each.
 * Captures are made once by bench/many-clients.ts and kept in bench/out (~0.7 and ~0.9 GB).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectedClient, generateManyClients, MANY_CLIENTS_VERSION } from './many-clients.js';

export const MANY_CLIENTS_RSS_TARGET_MB = 512;

export interface ManyClientsRun {
  family: 4 | 6;
  mode: 'json' | 'text';
  seconds: number;
  rss_mb: number | null;
  exit_code: number | null;
  /** JSON runs: clients whose counts or users differ from the truth (absent ones included). */
  wrong_clients?: number;
  clients_listed?: number;
  clients_dropped?: unknown;
  pass: boolean;
}

interface Options {
  log: (s: string) => void;
  cli: string;
  outDir: string;
  clients: number;
}

/** Runs `node cli args`, keeping stdout only when asked; GNU time gives seconds and peak RSS. */
function timed(cli: string, args: string[], keep: boolean): Promise<{ code: number | null; seconds: number; rssKb: number | null; stdout: Buffer }> {
  return new Promise((resolve, reject) => {
    const gnuTime = existsSync('/usr/bin/time');
    const timeFile = join(tmpdir(), `smtpstrike-many-${process.pid}-${Date.now()}.txt`);
    const argv = [cli, ...args];
    const child = gnuTime
      ? spawn('/usr/bin/time', ['-f', '%e %M', '-o', timeFile, process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] })
      : spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    const t0 = process.hrtime.bigint();
    child.stdout.on('data', (c: Buffer) => {
      if (keep) chunks.push(c);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      let rssKb: number | null = null;
      if (gnuTime && existsSync(timeFile)) {
        const m = /([\d.]+) (\d+)\s*$/.exec(readFileSync(timeFile, 'utf8'));
        if (m) rssKb = Number(m[2]);
        rmSync(timeFile, { force: true });
      }
      resolve({ code, seconds, rssKb, stdout: Buffer.concat(chunks) });
    });
  });
}

function ensureCapture(o: Options, family: 4 | 6): string {
  const file = join(o.outDir, `clients-${o.clients}-v${family}.pcap`);
  const stamp = `${file}.version`;
  const want = String(MANY_CLIENTS_VERSION);
  if (!existsSync(file) || !existsSync(stamp) || readFileSync(stamp, 'utf8') !== want) {
    const t0 = Date.now();
    const r = generateManyClients({ clients: o.clients, family, spanS: 10_800, out: file });
    writeFileSync(stamp, want);
    o.log(`generated ${file}: ${r.packets} packets, ${(r.bytes / 1e6).toFixed(0)} MB in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  return file;
}

/** Compares the summary with the generator's truth; returns the number of wrong or missing clients. */
function check(summaryLine: string, n: number, family: 4 | 6): { wrong: number; listed: number; dropped: unknown } {
  const s = JSON.parse(summaryLine) as {
    clients: Record<string, { failures: number; successes: number; tempfails: number; users: string[] }>;
    clients_dropped?: unknown;
  };
  let wrong = 0;
  for (let i = 0; i < n; i++) {
    const e = expectedClient(i, family);
    const c = s.clients[e.ip];
    if (!c || c.failures !== 1 || c.successes !== 0 || c.tempfails !== 0 || c.users.length !== 1 || c.users[0] !== e.users[0]) wrong++;
  }
  const listed = Object.keys(s.clients).length;
  return { wrong: wrong + Math.max(0, listed - n), listed, dropped: s.clients_dropped ?? null };
}

export async function runManyClientsBench(o: Options): Promise<ManyClientsRun[]> {
  const runs: ManyClientsRun[] = [];
  for (const family of [4, 6] as const) {
    const file = ensureCapture(o, family);
    for (const mode of ['json', 'text'] as const) {
      const args = ['replay', ...(mode === 'json' ? ['--json'] : []), '--summary-only', '--no-progress', file];
      const r = await timed(o.cli, args, mode === 'json');
      const run: ManyClientsRun = { family, mode, seconds: r.seconds, rss_mb: r.rssKb === null ? null : r.rssKb / 1024, exit_code: r.code, pass: false };
      if (mode === 'json') {
        const text = r.stdout.toString('utf8').trimEnd();
        const c = check(text.slice(text.lastIndexOf('\n') + 1), o.clients, family);
        run.wrong_clients = c.wrong;
        run.clients_listed = c.listed;
        run.clients_dropped = c.dropped;
      }
      runs.push(run);
      run.pass = r.code === 0 && (run.wrong_clients ?? 0) === 0 && run.rss_mb !== null && run.rss_mb <= MANY_CLIENTS_RSS_TARGET_MB;
      o.log(
        `IPv${family} ${mode.padEnd(4)} ${run.seconds.toFixed(1).padStart(6)} s  peak RSS ${run.rss_mb === null ? '-' : run.rss_mb.toFixed(0).padStart(5)} MB` +
          (mode === 'json' ? `  clients ${run.clients_listed}, wrong ${run.wrong_clients}` : '') +
          `  target <= ${MANY_CLIENTS_RSS_TARGET_MB} MB ${run.pass ? 'PASS' : 'FAIL'}`,
      );
    }
  }
  return runs;
}
