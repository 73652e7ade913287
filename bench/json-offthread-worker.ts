/**
 * The worker of bench/json-offthread.ts: takes batches of packed events (event-pack.ts), formats
 * them with the byte writer (or only receives them: `discard`) and transfers the bytes back.
 */
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { ByteLines } from '../src/replay-output/json-bytes.js';
import { writeEventJson } from '../src/replay-output/json-event-bytes.js';
import { Unpacker, type Packed } from '../src/replay-threads/event-pack.js';

export type ToFormatter = { type: 'batch'; events: Packed } | { type: 'cpu' };
export type FromFormatter = { type: 'bytes'; bytes: Uint8Array } | { type: 'cpu'; ms: number };

const discard = (workerData as { discard: boolean }).discard;
const w = new ByteLines(1 << 20, null);

/** This thread's CPU time (ms, 10 ms ticks). */
export function threadCpuMs(): number {
  const st = readFileSync('/proc/thread-self/stat', 'latin1');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

parentPort?.on('message', (m: ToFormatter) => {
  if (m.type === 'cpu') {
    const r: FromFormatter = { type: 'cpu', ms: threadCpuMs() };
    parentPort?.postMessage(r);
    return;
  }
  if (discard) return;
  w.reset();
  const u = new Unpacker(m.events);
  while (!u.done) {
    w.lineStart = w.pos;
    if (!writeEventJson(w, u.next())) continue;
    w.buf[w.pos++] = 0x0a;
  }
  const bytes = Buffer.allocUnsafeSlow(w.pos); // its own memory (not the pool's), transferred
  w.buf.copy(bytes, 0, 0, w.pos);
  const r: FromFormatter = { type: 'bytes', bytes };
  parentPort?.postMessage(r, [bytes.buffer]);
});
