/**
 * Hundreds of capture files (issue 15): 720 small files cut from one synthetic capture, named in
 * shuffled order, some overlapping in time, a few gzip-compressed, one with no packet. Replay and
 * dump of the 720 files print exactly what the one file does; the files are opened lazily (at most
 * those that overlap are open at once: counted by readCaptureFiles and seen in /proc/self/fd) and
 * their read buffers stay within the budget.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BUFFER_BUDGET, fileBufferSize, newCaptureReadStats, readCaptureFiles } from '../src/source/capture-files.js';
import { CLI } from './support/cli.js';
import { FrameList, loginSession, tempDir, type Frame } from './support/synth.js';

const FILES = 720;

/** Sessions of 40 clients, interleaved in time; timestamps made strictly increasing. */
function synthFrames(): Frame[] {
  const fl = new FrameList();
  const t0 = 1_768_039_200_000_000;
  for (let s = 0; s < 400; s++) {
    const client = `198.51.100.${1 + (s % 40)}`;
    const c = fl.conversation('en10mb', client, 40000 + s, '192.0.2.25', s % 3 === 0 ? 587 : 25);
    const reply = s % 5 === 0 ? '235 2.7.0 Authentication successful\r\n' : '535 5.7.8 Error: authentication failed\r\n';
    loginSession(c, t0 + s * 7013, `user${s % 17}`, reply);
  }
  const frames = [...fl.frames].sort((a, b) => a.tsUsec - b.tsUsec);
  let last = 0;
  for (const f of frames) {
    if (f.tsUsec <= last) f.tsUsec = last + 1;
    last = f.tsUsec;
  }
  return frames;
}

/** A classic pcap (Ethernet, microseconds) of these frames. */
function pcapBytes(frames: readonly Frame[]): Buffer {
  const parts: Buffer[] = [];
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(262144, 16);
  h.writeUInt32LE(1, 20);
  parts.push(h);
  for (const f of frames) {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(Math.floor(f.tsUsec / 1e6), 0);
    r.writeUInt32LE(f.tsUsec % 1e6, 4);
    r.writeUInt32LE(f.frame.length, 8);
    r.writeUInt32LE(f.frame.length, 12);
    parts.push(r, f.frame);
  }
  return Buffer.concat(parts);
}

/** A fixed shuffle of 0..n-1 (an LCG: the same every run). */
function shuffled(n: number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  let x = 12345;
  for (let i = n - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const j = x % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

interface Split {
  one: string;
  /** The files in the order they are named on the command line (shuffled against time). */
  many: string[];
  /** Most files open at once if each is opened at its first packet and closed after its last. */
  overlap: number;
  packets: number;
}

/**
 * Cuts the frames into FILES consecutive chunks; chunks 12k and 12k+1 are dealt out alternately
 * (two files overlapping in time), chunks 100k+50..52 round-robin (three); every 60th file is
 * gzip; one more file holds no packet.
 */
function split(dir: string, frames: readonly Frame[]): Split {
  const one = join(dir, 'one.pcap');
  writeFileSync(one, pcapBytes(frames));
  const chunks: Frame[][] = [];
  for (let c = 0; c < FILES; c++) chunks.push(frames.slice(Math.floor((c * frames.length) / FILES), Math.floor(((c + 1) * frames.length) / FILES)));
  const deal = (from: number, k: number): void => {
    const all = chunks.slice(from, from + k).flat();
    for (let j = 0; j < k; j++) chunks[from + j] = all.filter((_, i) => i % k === j);
  };
  for (let c = 0; c + 1 < FILES; c += 12) deal(c, 2);
  for (let c = 50; c + 2 < FILES; c += 100) deal(c, 3);
  const names = shuffled(FILES + 1);
  const many: string[] = [];
  chunks.forEach((chunk, c) => {
    const gz = c % 60 === 7;
    const name = join(dir, `cap-${String(names[c]).padStart(4, '0')}.pcap${gz ? '.gz' : ''}`);
    const bytes = pcapBytes(chunk);
    writeFileSync(name, gz ? gzipSync(bytes) : bytes);
    many.push(name);
  });
  const empty = join(dir, `cap-${String(names[FILES]).padStart(4, '0')}.pcap`);
  writeFileSync(empty, pcapBytes([]));
  many.push(empty);
  many.sort();
  // Intervals [first, last] of the chunks: the most that contain one instant.
  const marks: [number, number][] = [];
  for (const ch of chunks) if (ch.length) marks.push([ch[0]!.tsUsec, 1], [ch[ch.length - 1]!.tsUsec + 0.5, -1]);
  marks.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  let open = 0;
  let overlap = 0;
  for (const [, d] of marks) overlap = Math.max(overlap, (open += d));
  return { one, many, overlap, packets: frames.length };
}

/** The packets' bytes with their times, in the order read. */
async function readAll(files: string[], budget?: number): Promise<{ seq: string[]; stats: ReturnType<typeof newCaptureReadStats>; fdPeak: number }> {
  const stats = newCaptureReadStats();
  const seq: string[] = [];
  const fdBase = readdirSync('/proc/self/fd').length;
  let fdPeak = 0;
  await readCaptureFiles(
    files,
    (rec) => {
      seq.push(`${rec.tsSec}.${rec.tsNsec} ${rec.buf.toString('hex', rec.off, rec.off + rec.caplen)}`);
      fdPeak = Math.max(fdPeak, readdirSync('/proc/self/fd').length - fdBase);
    },
    undefined,
    { stats, bufferBudget: budget },
  );
  return { seq, stats, fdPeak };
}

test('720 files: the packets of the one file in the same order, opened lazily, buffers within the budget', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const s = split(dir, synthFrames());
    assert.equal(s.many.length, FILES + 1);
    assert.ok(s.overlap >= 3, `overlap ${s.overlap}`);
    const one = await readAll([s.one]);
    const many = await readAll(s.many);
    assert.equal(many.seq.length, s.packets);
    assert.deepEqual(many.seq, one.seq);
    // At most the files that overlap in time are open at once (each is closed after its last packet).
    assert.ok(many.stats.peakOpenFiles <= s.overlap, `peak open files ${many.stats.peakOpenFiles}`);
    assert.ok(many.fdPeak <= s.overlap, `peak descriptors ${many.fdPeak}`);
    assert.equal(many.stats.openFiles, 0);
    assert.equal(many.stats.bufferBytes, 0);
    assert.ok(many.stats.peakBufferBytes <= s.overlap * fileBufferSize(s.many.length));
    assert.ok(many.stats.peakBufferBytes <= BUFFER_BUDGET);
    // One file keeps its 4 MiB buffer.
    assert.equal(one.stats.peakBufferBytes, 4 * 1024 * 1024);
  } finally {
    cleanup();
  }
});

test('40 files all overlapping in time: all open together, and their buffers within a small budget', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const frames = synthFrames();
    const one = join(dir, 'one.pcap');
    writeFileSync(one, pcapBytes(frames));
    const files: string[] = [];
    for (let j = 0; j < 40; j++) {
      const name = join(dir, `rr-${j}.pcap`);
      writeFileSync(name, pcapBytes(frames.filter((_, i) => i % 40 === j)));
      files.push(name);
    }
    const budget = 4 * 1024 * 1024;
    const many = await readAll(files.reverse(), budget);
    assert.deepEqual(many.seq, (await readAll([one])).seq);
    assert.equal(many.stats.peakOpenFiles, 40);
    assert.ok(many.stats.peakBufferBytes <= budget, `peak buffers ${many.stats.peakBufferBytes}`);
  } finally {
    cleanup();
  }
});

/** Runs the CLI; stdout, with the per-file list and the run's timing taken out of a JSON summary. */
function cli(args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, maxBuffer: 256 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .split('\n')
    .map((l) => {
      if (!l.startsWith('{"type":"summary"')) return l;
      const o = JSON.parse(l) as Record<string, unknown>;
      delete o.files;
      delete o.run;
      return JSON.stringify(o);
    })
    .filter((l) => !/^ {2}file |^files:|^ {2}\S+\.pcap/.test(l))
    .join('\n');
}

test('720 files: replay (JSON and text) and dump print what the one file does', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const s = split(dir, synthFrames());
    const json = cli(['replay', '--no-progress', '--json', s.one]);
    assert.match(json, /"failures":/);
    assert.equal(cli(['replay', '--no-progress', '--json', ...s.many]), json);
    assert.equal(cli(['replay', '--no-progress', ...s.many]), cli(['replay', '--no-progress', s.one]));
    const dump = cli(['dump', '-r', s.one]);
    assert.equal(dump.split('\n').length >= s.packets, true);
    assert.equal(cli(['dump', ...s.many.flatMap((f) => ['-r', f])]), dump);
  } finally {
    cleanup();
  }
});
