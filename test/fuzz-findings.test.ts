/**
 * Regression tests for what the fuzzer found (native-notes/fuzz.md), one per finding, each with
 * the shrunk counterexample fast-check reported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { LineSplitter } from '../src/smtp/line-splitter.js';
import { CaptureFileReader } from '../src/source/capture-file.js';
import { readCaptureFiles } from '../src/source/capture-files.js';
import { CaptureFormatError } from '../src/source/packet-record.js';
import { tempDir } from './support/synth.js';

/** Every line `s` yields from the segments, as text. */
function lines(s: LineSplitter, segments: string[]): string[] {
  const out: string[] = [];
  for (const seg of segments) {
    const b = Buffer.from(seg, 'latin1');
    for (let p = 0; (p = s.next(b, p, b.length)) >= 0;) out.push(`${s.lineBuf.toString('latin1', s.lineStart, s.lineEnd)}${s.truncated ? ' [cut]' : ''}`);
  }
  return out;
}

test('finding 1: a line one byte over maxLine is cut to maxLine whether or not a segment boundary splits it', () => {
  // fuzz smtp-lines, seed 1: "aa\n" in segments "a" + "a\n" with maxLine 1 came out whole ("aa").
  assert.deepEqual(lines(new LineSplitter(1), ['aa\n']), ['a [cut]']);
  assert.deepEqual(lines(new LineSplitter(1), ['a', 'a\n']), ['a [cut]']);
  // The same at the real reply limit (2048), and a longer line carried over several segments.
  const long = 'x'.repeat(2049);
  assert.deepEqual(lines(new LineSplitter(2048), [`${long.slice(0, 1000)}`, `${long.slice(1000)}\r\n`]), [`${'x'.repeat(2048)} [cut]`]);
  assert.deepEqual(lines(new LineSplitter(4), ['abc', 'defgh', 'ij\r\n', 'ok\r\n']), ['abcd [cut]', 'ok']);
  // A line of exactly maxLine bytes plus its CR is not cut, split or not.
  assert.deepEqual(lines(new LineSplitter(2), ['ab\r\n']), ['ab']);
  assert.deepEqual(lines(new LineSplitter(2), ['ab', '\r\n']), ['ab']);
  const s = new LineSplitter(1);
  lines(s, ['a', 'a\n', 'bb\n']);
  assert.equal(s.longLines, 2);
});

test('finding 2: a 12-byte pcapng Simple Packet Block is an error, not a packet of length -4', async () => {
  // fuzz capture-scratch, seed 5: SHB + IDB + SPB of block length 12 (no original-length field)
  // gave a record with caplen -4 (coverage bytes went negative; dump -w wrote a bogus record).
  const shbIdb = '0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c0000000100000014000000010000000000040014000000';
  const bytes = Buffer.from(`${shbIdb}030000000c0000000c000000`, 'hex');
  const reader = await CaptureFileReader.fromStream('spb12', Readable.from([bytes]));
  const readAll = async (): Promise<void> => {
    for (;;) {
      while (reader.next()) assert.fail(`a packet of caplen ${reader.rec.caplen}`);
      if (!(await reader.refill())) return;
    }
  };
  await assert.rejects(readAll(), (e: unknown) => e instanceof CaptureFormatError && /simple packet block too short/.test(e.reason) && e.offset === 48);
});

test('finding 3: a directory among the capture files is reported as one, and the other files are still read', async () => {
  // `replay /tmp x.pcap` stopped at once with "EISDIR: illegal operation on a directory, read"
  // (exit 1, no file name): the error escaped the reader as a plain Error.
  let packets = 0;
  const reports = await readCaptureFiles(['test', 'pcaps/crafted/bruteforce.pcap'], () => void packets++);
  assert.equal(reports[0]!.error?.reason, 'is a directory, not a capture file');
  assert.equal(reports[1]!.error, undefined);
  assert.equal(reports[1]!.packets, 213);
  assert.equal(packets, 213);
});

test('finding 4: a named pipe is read as a stream, gzip or not (`replay <(zcat x.pcap.gz)`)', async (t) => {
  // The reader peeked at the first two bytes with a positioned read: ESPIPE on a pipe, exit 1.
  const d = tempDir();
  t.after(d.cleanup);
  const fifo = join(d.dir, 'capture.fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
  const plain = readFileSync('pcaps/crafted/bruteforce.pcap');
  for (const bytes of [plain, gzipSync(plain)]) {
    const writer = createWriteStream(fifo);
    writer.end(bytes);
    let packets = 0;
    const [r] = await readCaptureFiles([fifo], () => void packets++);
    assert.equal(r!.error, undefined, r!.error?.message);
    assert.equal(packets, 213);
    assert.equal(r!.compressed, bytes !== plain);
  }
});
