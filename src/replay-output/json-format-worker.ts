import { closeSync, fstatSync, openSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { ByteLines, SLACK } from './json-bytes.js';
import { writeEventJson } from './json-event-bytes.js';
import { JsonEventUnpacker } from './json-unpack.js';
import type { FormatterStart, FromFormatter, ToFormatter } from './json-offload.js';

/**
 * The thread that writes `replay --json`'s event lines (json-offload.ts): chunks of packed events
 * in, the lines' bytes out in pieces of ~256 KiB, in order — written to the output's file
 * descriptor from here once the main thread hands it over (so the main thread neither copies nor
 * waits for a slow reader), or transferred back when the output has none.
 */
const PIECE = 256 * 1024;
const port = parentPort;
const start = workerData as FormatterStart;
/** 'wait': the file descriptor is not ours yet (pieces and chunk receipts held); 'post': give the bytes back. */
let mode: 'wait' | 'post' | 'fd' = start.direct ? 'wait' : 'post';
let fd = -1;
/** A write failed: nothing more is written. */
let dead = false;
const held: { piece: Buffer; end: number }[] = [];
const heldReceipts: FromFormatter[] = [];
/** For a 1 ms sleep when a non-blocking descriptor is full. */
const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** `fd` was opened here (and is closed after the last line). */
let ownFd = false;

/**
 * Node makes a pipe on standard output non-blocking, so a full pipe would answer EAGAIN and this
 * thread would poll it (80–130 times a run into `| cat`, 1 ms each). A pipe opened again through
 * /proc is a descriptor of its own, blocking, on the same pipe: a write then waits for the reader.
 * Not for a file (it would be opened at offset 0) nor a socket (it cannot be opened so).
 */
function blockingDescriptor(given: number): number {
  try {
    if (!fstatSync(given).isFIFO()) return given;
    const own = openSync(`/proc/self/fd/${given}`, 'w');
    ownFd = true;
    return own;
  } catch {
    return given;
  }
}

function post(m: FromFormatter): void {
  if (m.type === 'bytes') port?.postMessage(m, [m.bytes]);
  else port?.postMessage(m);
}

/** Pieces written to the descriptor, to be written in again (a new 256 KiB piece each time was ~750 a run of external memory for the collector to chase). */
const spare: Buffer[] = [];

function output(piece: Buffer, end: number): void {
  if (mode === 'post') post({ type: 'bytes', bytes: piece.buffer as ArrayBuffer, end });
  else if (mode === 'wait') held.push({ piece, end });
  else {
    if (!dead) writeAll(piece.subarray(0, end));
    spare.push(piece);
  }
}

function newPiece(): Buffer {
  return spare.pop() ?? Buffer.allocUnsafeSlow(PIECE + SLACK);
}

function writeAll(b: Uint8Array): void {
  for (let off = 0; off < b.length;) {
    try {
      off += writeSync(fd, b, off, b.length - off);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EAGAIN') {
        Atomics.wait(sleeper, 0, 0, 1);
        continue;
      }
      dead = true;
      post({ type: 'write-error', code: err.code ?? '', message: err.message });
      return;
    }
  }
}

/** Pieces full, handed on after the line that filled them is written (it is copied out of them first). */
const full: { piece: Buffer; end: number }[] = [];
const lines = new ByteLines(PIECE, (buf, end) => {
  full.push({ piece: buf, end });
  return newPiece();
});

function handFull(): void {
  for (const p of full.splice(0)) output(p.piece, p.end);
}

/** Hands the piece being written on, and goes on in a new one. */
function handPiece(w: ByteLines): void {
  full.push({ piece: w.buf, end: w.pos });
  handFull();
  w.use(newPiece());
  w.reset();
}

const unpacker = new JsonEventUnpacker();
port?.on('message', (m: ToFormatter) => {
  if (m.type === 'fd') {
    if (m.fd === null) mode = 'post';
    else {
      mode = 'fd';
      fd = blockingDescriptor(m.fd);
    }
    for (const p of held.splice(0)) output(p.piece, p.end);
    for (const r of heldReceipts.splice(0)) post(r);
    return;
  }
  unpacker.use(m.chunk, m.n, m.strings);
  const w = lines;
  for (let ev = unpacker.next(); ev !== null; ev = unpacker.next()) {
    w.lineStart = w.pos;
    if (typeof ev === 'string') w.utf8(ev);
    else if (writeEventJson(w, ev)) w.buf[w.pos++] = 0x0a; // the line's reserve has room for it
    if (full.length) handFull();
    if (w.pos >= PIECE) handPiece(w);
  }
  if (m.last && w.pos > 0) handPiece(w);
  if (m.last && ownFd) closeSync(fd);
  const receipt: FromFormatter = { type: 'chunk', id: m.id, last: m.last };
  if (mode === 'wait') heldReceipts.push(receipt);
  else post(receipt);
});
