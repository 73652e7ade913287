/**
 * Many capture files (issue 15 must-have 2): the bench capture cut by time into N files (720:
 * a month of hourly rotations; made once in bench/out/), replayed as N files and as the one file:
 * packets/s and peak RSS of each (best of R), and the two summaries compared (they must be equal,
 * the per-file list aside). Run by `npm run bench` (`--no-many-files` skips it, `--many-files N`);
 * alone: node dist/bench/many-files.js --file bench/out/synth-50mb.pcap [--files 720] [--repeat 3]
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CaptureFileReader } from '../src/source/capture-file.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ManyFilesRun {
  files: number;
  seconds: number;
  packets_per_s: number;
  rss_mb: number | null;
}

export interface ManyFilesResult {
  capture: string;
  packets: number;
  one: ManyFilesRun;
  many: ManyFilesRun;
  /** The N-file summary equals the one-file summary (files and run aside). */
  same_summary: boolean;
}

/** Cuts `file` into `n` files by time (equal slices of its span), each a pcap with the same header. */
async function splitByTime(file: string, n: number, dir: string): Promise<string[]> {
  // Pass 1: the span.
  let first = Infinity;
  let last = -Infinity;
  let r = await CaptureFileReader.open(file);
  for (;;) {
    while (r.next()) {
      const t = r.rec.tsSec + r.rec.tsNsec / 1e9;
      if (t < first) first = t;
      if (t > last) last = t;
    }
    if (!(await r.refill())) break;
  }
  await r.close();
  if (r.format !== 'pcap') throw new Error(`${file}: the split writes classic pcap records; give a pcap`);
  const head = Buffer.alloc(24);
  const fd0 = openSync(file, 'r');
  const bytesRead = readSync(fd0, head, 0, 24, 0);
  closeSync(fd0);
  if (bytesRead !== 24) throw new Error(`${file}: short header`);
  const nsec = head.readUInt32LE(0) === 0xa1b23c4d;
  mkdirSync(dir, { recursive: true });
  const names: string[] = [];
  const fds: number[] = [];
  const bufs: Buffer[] = [];
  const used: number[] = [];
  for (let i = 0; i < n; i++) {
    const name = join(dir, `part-${String(i).padStart(4, '0')}.pcap`);
    names.push(name);
    fds.push(-1);
    bufs.push(Buffer.alloc(0));
    used.push(0);
  }
  const flush = (i: number): void => {
    if (fds[i] === -1) {
      fds[i] = openSync(names[i]!, 'w');
      writeSync(fds[i], head);
    }
    writeSync(fds[i]!, bufs[i]!, 0, used[i]);
    used[i] = 0;
  };
  const span = last - first || 1;
  r = await CaptureFileReader.open(file);
  for (;;) {
    while (r.next()) {
      const rec = r.rec;
      const t = rec.tsSec + rec.tsNsec / 1e9;
      const i = Math.min(n - 1, Math.floor(((t - first) / span) * n));
      if (bufs[i]!.length === 0) bufs[i] = Buffer.allocUnsafe(1 << 20);
      if (used[i]! + 16 + rec.caplen > bufs[i]!.length) flush(i);
      const b = bufs[i]!;
      let o = used[i]!;
      b.writeUInt32LE(rec.tsSec, o);
      b.writeUInt32LE(nsec ? rec.tsNsec : Math.floor(rec.tsNsec / 1000), o + 4);
      b.writeUInt32LE(rec.caplen, o + 8);
      b.writeUInt32LE(rec.origlen, o + 12);
      o += 16;
      rec.buf.copy(b, o, rec.off, rec.off + rec.caplen);
      used[i] = o + rec.caplen;
    }
    if (!(await r.refill())) break;
  }
  await r.close();
  for (let i = 0; i < n; i++) {
    flush(i);
    closeSync(fds[i]!);
    bufs[i] = Buffer.alloc(0);
  }
  return names;
}

interface Timed {
  seconds: number;
  rssKb: number | null;
  stdout: string;
}

/** `node CLI replay --json --summary-only --no-progress FILES`, timed, peak RSS by GNU time. */
function runReplay(cli: string, files: string[]): Promise<Timed> {
  const gnuTime = existsSync('/usr/bin/time');
  const timeFile = join(tmpdir(), `smtpstrike-bench-many-${process.pid}-${Date.now()}.txt`);
  const args = [cli, 'replay', '--json', '--summary-only', '--no-progress', ...files];
  const child = gnuTime
    ? spawn('/usr/bin/time', ['-f', '%e %M', '-o', timeFile, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const t0 = process.hrtime.bigint();
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  return new Promise((ok, fail) => {
    child.on('error', fail);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      let rssKb: number | null = null;
      if (gnuTime && existsSync(timeFile)) {
        const m = /(\d+)\s*$/.exec(readFileSync(timeFile, 'utf8').trim());
        if (m) rssKb = Number(m[1]);
        rmSync(timeFile, { force: true });
      }
      if (code !== 0) fail(new Error(`replay exited ${code}`));
      else ok({ seconds, rssKb, stdout });
    });
  });
}

/** The summary line without its per-file list and run figures. */
function comparable(stdout: string): { text: string; packets: number } {
  const line = stdout.trim().split('\n').pop() ?? '{}';
  const o = JSON.parse(line) as { files?: unknown; run?: unknown; coverage?: { packets?: number } };
  const packets = o.coverage?.packets ?? 0;
  delete o.files;
  delete o.run;
  return { text: JSON.stringify(o), packets };
}

export async function runManyFilesBench(opts: {
  log: (s: string) => void;
  cli: string;
  file: string;
  files?: number;
  repeat?: number;
}): Promise<ManyFilesResult> {
  const n = opts.files ?? 720;
  const reps = Math.max(1, opts.repeat ?? 3);
  const dir = join(root, 'bench', 'out', `many-files-${basename(opts.file, '.pcap')}-${n}`);
  let names = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.pcap')) : [];
  if (names.length !== n) {
    opts.log(`cutting ${opts.file} into ${n} files by time (${dir}, made once)`);
    rmSync(dir, { recursive: true, force: true });
    names = (await splitByTime(opts.file, n, dir)).map((p) => basename(p));
  }
  const parts = names.sort().map((f) => join(dir, f));
  const best = async (files: string[]): Promise<{ t: Timed; rss: number | null }> => {
    let b: Timed | null = null;
    let rss: number | null = null;
    for (let i = 0; i < reps; i++) {
      const t = await runReplay(opts.cli, files);
      if (!b || t.seconds < b.seconds) b = t;
      if (t.rssKb !== null) rss = rss === null ? t.rssKb : Math.min(rss, t.rssKb);
    }
    return { t: b!, rss };
  };
  const one = await best([opts.file]);
  const many = await best(parts);
  const a = comparable(one.t.stdout);
  const b = comparable(many.t.stdout);
  const run = (files: number, x: { t: Timed; rss: number | null }): ManyFilesRun => ({
    files,
    seconds: Math.round(x.t.seconds * 1000) / 1000,
    packets_per_s: Math.round(a.packets / x.t.seconds),
    rss_mb: x.rss === null ? null : Math.round(x.rss / 1024),
  });
  const result: ManyFilesResult = { capture: opts.file, packets: a.packets, one: run(1, one), many: run(n, many), same_summary: a.text === b.text };
  for (const r of [result.one, result.many]) {
    opts.log(
      `  ${String(r.files).padStart(4)} file(s): ${r.seconds.toFixed(2)} s (best of ${reps}), ${(r.packets_per_s / 1e6).toFixed(2)} M packets/s, peak RSS ${r.rss_mb ?? '?'} MB`,
    );
  }
  opts.log(`  summaries equal: ${result.same_summary ? 'yes' : 'NO'}`);
  return result;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      file: { type: 'string' },
      files: { type: 'string', default: '720' },
      repeat: { type: 'string', default: '3' },
      cli: { type: 'string', default: join(root, 'dist', 'src', 'cli.js') },
    },
  });
  if (!values.file) {
    process.stderr.write('usage: node dist/bench/many-files.js --file CAPTURE.pcap [--files 720] [--repeat 3] [--cli dist/src/cli.js]\n');
    process.exit(2);
  }
  const r = await runManyFilesBench({
    log: (s) => process.stdout.write(s + '\n'),
    cli: resolve(values.cli),
    file: resolve(values.file),
    files: Number(values.files),
    repeat: Number(values.repeat),
  });
  process.exit(r.same_summary ? 0 : 1);
}
