/**
 * The one k-way merge of capture inputs (src/source/capture-merge.ts) that replay/report
 * (readCaptureFiles) and dump share: time order, and on equal timestamps the file named first
 * goes first — the same for both commands.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readCaptureFiles } from '../src/source/capture-files.js';
import { mergeInTimeOrder } from '../src/source/capture-merge.js';
import { newPacketRecord, type PacketRecord } from '../src/source/packet-record.js';
import { PcapWriter } from '../src/source/pcap-writer.js';
import { CLI } from './support/cli.js';
import { tempDir } from './support/synth.js';

/** An input over a list of [sec, nsec, id] packets; every other step of it is asynchronous. */
class FakeInput {
  readonly reader: { rec: PacketRecord } = { rec: newPacketRecord() };
  /** The id of the current packet. */
  id = '';
  private at = 0;
  constructor(private readonly pkts: [number, number, string][]) {}
  next(): true | Promise<boolean> {
    const p = this.pkts[this.at];
    const sync = this.at++ % 2 === 0;
    if (!p) return Promise.resolve(false);
    this.reader.rec.tsSec = p[0];
    this.reader.rec.tsNsec = p[1];
    this.id = p[2];
    return sync ? true : Promise.resolve(true);
  }
}

test('merge: time order, nanoseconds count, ties go to the input listed first', async () => {
  const a = new FakeInput([
    [1, 0, 'a1'],
    [2, 0, 'a2'],
    [2, 0, 'a2b'],
    [3, 0, 'a3'],
  ]);
  const b = new FakeInput([
    [2, 0, 'b2'],
    [2, 0, 'b2b'],
    [2, 500, 'b2.5'],
  ]);
  const c = new FakeInput([
    [0, 999, 'c0'],
    [2, 0, 'c2'],
  ]);
  const got: string[] = [];
  const ranOut = await mergeInTimeOrder(
    [b, a, c],
    (x) => x.next(),
    (x) => {
      got.push(x.id);
      return undefined;
    },
  );
  assert.equal(ranOut, true);
  assert.deepEqual(got, ['c0', 'a1', 'b2', 'b2b', 'a2', 'a2b', 'c2', 'b2.5', 'a3']);
});

test('merge: a promise from emit is awaited before the next packet; stopped() ends it', async () => {
  const a = new FakeInput([
    [1, 0, 'a1'],
    [3, 0, 'a3'],
    [5, 0, 'a5'],
  ]);
  const b = new FakeInput([
    [2, 0, 'b2'],
    [4, 0, 'b4'],
  ]);
  const got: string[] = [];
  let pending = 0;
  const ranOut = await mergeInTimeOrder(
    [a, b],
    (x) => x.next(),
    (x) => {
      assert.equal(pending, 0);
      got.push(x.id);
      pending++;
      return new Promise<void>((r) =>
        setImmediate(() => {
          pending--;
          r();
        }),
      );
    },
    () => got.length >= 4,
  );
  assert.equal(ranOut, false);
  assert.deepEqual(got, ['a1', 'b2', 'a3', 'b4']);
});

/** Writes a capture of 60-byte frames, each marked by its id byte at offset 59. */
async function capture(path: string, pkts: [number, number, number][]): Promise<void> {
  const w = new PcapWriter(path, 1);
  for (const [sec, usec, id] of pkts) {
    const f = Buffer.alloc(60, 0);
    f[59] = id;
    await w.write(f, sec, usec);
  }
  await w.close();
}

async function ids(files: string[]): Promise<number[]> {
  const out: number[] = [];
  await readCaptureFiles(files, (rec) => {
    out.push(rec.buf[rec.off + rec.caplen - 1]!);
  });
  return out;
}

test('replay and dump merge files alike: equal timestamps keep the order the files are named in', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const a = join(dir, 'a.pcap');
    const b = join(dir, 'b.pcap');
    await capture(a, [
      [10, 0, 1],
      [11, 5, 2],
      [11, 5, 3],
      [12, 0, 4],
    ]);
    await capture(b, [
      [11, 5, 21],
      [11, 5, 22],
      [11, 6, 23],
    ]);
    assert.deepEqual(await ids([a, b]), [1, 2, 3, 21, 22, 23, 4]);
    assert.deepEqual(await ids([b, a]), [1, 21, 22, 2, 3, 23, 4]);
    for (const [order, want] of [
      [
        [a, b],
        [1, 2, 3, 21, 22, 23, 4],
      ],
      [
        [b, a],
        [1, 21, 22, 2, 3, 23, 4],
      ],
    ] as const) {
      const out = join(dir, 'dumped.pcap');
      const r = spawnSync(process.execPath, [CLI, 'dump', '--no-smtp', '-w', out, ...order.flatMap((f) => ['-r', f])], { encoding: 'latin1' });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(await ids([out]), want);
    }
  } finally {
    cleanup();
  }
});
