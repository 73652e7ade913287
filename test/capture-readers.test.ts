import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { EventEmitter } from 'node:events';
import { CaptureFileReader } from '../src/source/capture-file.js';
import { readCaptureFiles } from '../src/source/capture-files.js';
import { PCAP_MAGIC_USEC } from '../src/source/record-parsers.js';
import { IN_REPO_CORPUS, SHARED_CORPUS } from './support/corpus.js';
import { tempDir } from './support/synth.js';

const require = createRequire(import.meta.url);
const pcapParser = require('pcap-parser') as { parse(input: string): EventEmitter };

interface Pkt {
  sec: number;
  usec: number;
  caplen: number;
  origlen: number;
  sha: string;
}

/** pcap-parser, the user's chosen library, as an independent reading of classic µs pcap files. */
function oracle(file: string): Promise<Pkt[]> {
  return new Promise((resolve, reject) => {
    const out: Pkt[] = [];
    const p = pcapParser.parse(file);
    p.on(
      'packet',
      (pk: { header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number }; data: Buffer }) => {
        out.push({
          sec: pk.header.timestampSeconds,
          usec: pk.header.timestampMicroseconds,
          caplen: pk.header.capturedLength,
          origlen: pk.header.originalLength,
          sha: createHash('sha1').update(pk.data).digest('hex'),
        });
      },
    );
    p.on('end', () => resolve(out));
    p.on('error', reject);
  });
}

async function ours(file: string): Promise<{ pkts: Pkt[]; error?: string | undefined; offset?: number | undefined }> {
  const pkts: Pkt[] = [];
  const [r] = await readCaptureFiles([file], (rec) => {
    pkts.push({
      sec: rec.tsSec,
      usec: Math.floor(rec.tsNsec / 1000),
      caplen: rec.caplen,
      origlen: rec.origlen,
      sha: createHash('sha1')
        .update(rec.buf.subarray(rec.off, rec.off + rec.caplen))
        .digest('hex'),
    });
  });
  return { pkts, error: r!.error?.reason, offset: r!.error?.offset };
}

/**
 * Every classic little-endian µs capture we have: shipped ones and the third-party corpus (the
 * in-repo copies, plus the shared corpus's GPL/unlicensed ones when it is present).
 */
function classicFiles(): string[] {
  const roots = ['pcaps', IN_REPO_CORPUS, SHARED_CORPUS].filter((r) => existsSync(r));
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.startsWith(SHARED_CORPUS) && existsSync(join(IN_REPO_CORPUS, relative(SHARED_CORPUS, p))))
        continue; // read once
      else if (/\.pcap$/.test(e.name) && !/broken|truncated/.test(e.name)) {
        const head = readFileSync(p).subarray(0, 4);
        if (head.length === 4 && head.readUInt32LE(0) === PCAP_MAGIC_USEC) out.push(p);
      }
    }
  };
  roots.forEach(walk);
  return out;
}

test('classic pcap: same packets, timestamps and bytes as pcap-parser', async () => {
  const files = classicFiles();
  assert.ok(files.length >= 5, `found ${files.length} classic captures`);
  for (const f of files) {
    const want = await oracle(f);
    const got = await ours(f);
    assert.equal(got.error, undefined, f);
    assert.equal(got.pkts.length, want.length, f);
    assert.deepEqual(got.pkts, want, f);
  }
});

test('gzip input reads the same packets; a cut gzip stream is an error after the packets before it', async () => {
  const t = tempDir();
  try {
    const src = classicFiles().find((f) => f.endsWith('evidence02.pcap')) ?? classicFiles()[0]!;
    const raw = readFileSync(src);
    writeFileSync(join(t.dir, 'a.pcap.gz'), gzipSync(raw));
    const plain = await ours(src);
    const gz = await ours(join(t.dir, 'a.pcap.gz'));
    assert.deepEqual(gz.pkts, plain.pkts);
    const z = gzipSync(raw);
    writeFileSync(join(t.dir, 'cut.pcap.gz'), z.subarray(0, Math.floor(z.length / 2)));
    const cut = await ours(join(t.dir, 'cut.pcap.gz'));
    assert.match(cut.error ?? '', /compressed stream is corrupt or truncated|ends inside a record/);
    assert.ok(cut.pkts.length > 0 && cut.pkts.length < plain.pkts.length);
    assert.deepEqual(cut.pkts, plain.pkts.slice(0, cut.pkts.length));
  } finally {
    t.cleanup();
  }
});

test('a file cut inside a record: error names the byte offset of that record, earlier packets kept', async () => {
  const t = tempDir();
  try {
    const src = classicFiles()[0]!;
    const raw = readFileSync(src);
    // offset of record 5
    let off = 24;
    for (let i = 0; i < 4; i++) off += 16 + raw.readUInt32LE(off + 8);
    writeFileSync(join(t.dir, 'cut.pcap'), raw.subarray(0, off + 20));
    const r = await ours(join(t.dir, 'cut.pcap'));
    assert.equal(r.pkts.length, 4);
    assert.equal(r.offset, off);
    assert.match(r.error ?? '', /ends inside a record/);
    writeFileSync(join(t.dir, 'garbage.pcap'), Buffer.from('this is not a capture at all'));
    const g = await ours(join(t.dir, 'garbage.pcap'));
    assert.equal(g.offset, 0);
    assert.match(g.error ?? '', /not a pcap or pcapng/);
    const missing = await ours(join(t.dir, 'nope.pcap'));
    assert.match(missing.error ?? '', /cannot open: ENOENT/);
  } finally {
    t.cleanup();
  }
});

test('a reader given its buffers (replay --threads): the same packets, and a buffer it has left is never written again', async () => {
  const files = classicFiles().slice(0, 8);
  assert.ok(files.length > 0);
  for (const f of files) {
    const want = await ours(f);
    const given: Buffer[] = [];
    // Small buffers: many refills, and records larger than the buffer (it must ask for a larger one).
    const r = await CaptureFileReader.open(f, undefined, 256, (size) => {
      const b = Buffer.alloc(size);
      given.push(b);
      return b;
    });
    const got: Pkt[] = [];
    const kept: { buf: Buffer; off: number; len: number; sha: string }[] = [];
    for (;;) {
      while (r.next()) {
        const rec = r.rec;
        const sha = createHash('sha1')
          .update(rec.buf.subarray(rec.off, rec.off + rec.caplen))
          .digest('hex');
        got.push({ sec: rec.tsSec, usec: Math.floor(rec.tsNsec / 1000), caplen: rec.caplen, origlen: rec.origlen, sha });
        kept.push({ buf: rec.buf, off: rec.off, len: rec.caplen, sha });
      }
      if (!(await r.refill())) break;
    }
    await r.close();
    assert.deepEqual(got, want.pkts, f);
    assert.ok(given.length > 2, `${f}: refilled into new buffers`);
    for (const k of kept)
      assert.equal(
        createHash('sha1')
          .update(k.buf.subarray(k.off, k.off + k.len))
          .digest('hex'),
        k.sha,
        `${f}: a packet's bytes stay put`,
      );
  }
});

test('a file larger than the read buffer (read ahead into a second buffer): same packets as pcap-parser; a cut or a bad record past the first buffers is named at its offset', async () => {
  const t = tempDir();
  try {
    // The records of the shipped captures, repeated until the file spans several 4 MiB buffers, so
    // that records straddle each swap of the two buffers.
    const header = readFileSync(classicFiles()[0]!).subarray(0, 24);
    const records: Buffer[] = [];
    for (const f of classicFiles().slice(0, 20)) {
      const raw = readFileSync(f);
      if (raw.readUInt32LE(20) !== header.readUInt32LE(20)) continue; // one link type in the file
      for (let off = 24; off + 16 <= raw.length;) {
        const len = 16 + raw.readUInt32LE(off + 8);
        if (off + len > raw.length) break;
        records.push(raw.subarray(off, off + len));
        off += len;
      }
    }
    assert.ok(records.length > 0);
    const parts: Buffer[] = [header];
    let size = header.length;
    const starts: number[] = [];
    for (let i = 0; size < 13 * 1024 * 1024; i++) {
      const r = records[i % records.length]!;
      starts.push(size);
      parts.push(r);
      size += r.length;
    }
    const whole = Buffer.concat(parts);
    const big = join(t.dir, 'big.pcap');
    writeFileSync(big, whole);
    const r = await ours(big);
    assert.equal(r.error, undefined);
    assert.equal(r.pkts.length, starts.length);
    assert.deepEqual(r.pkts, await oracle(big));

    // Cut inside a record after 9 MiB: the packets before it, and its offset.
    const k = starts.findIndex((s) => s > 9 * 1024 * 1024);
    writeFileSync(join(t.dir, 'cut.pcap'), whole.subarray(0, starts[k]! + 10));
    const cut = await ours(join(t.dir, 'cut.pcap'));
    assert.equal(cut.pkts.length, k);
    assert.equal(cut.offset, starts[k]);
    assert.match(cut.error ?? '', /ends inside a record/);

    // A record claiming more than the largest frame, after 6 MiB.
    const j = starts.findIndex((s) => s > 6 * 1024 * 1024);
    const bad = Buffer.from(whole);
    bad.writeUInt32LE(0x0fffffff, starts[j]! + 8);
    writeFileSync(join(t.dir, 'bad.pcap'), bad);
    const b = await ours(join(t.dir, 'bad.pcap'));
    assert.equal(b.pkts.length, j);
    assert.equal(b.offset, starts[j]);
    assert.match(b.error ?? '', /more than 262144/);
  } finally {
    t.cleanup();
  }
});
