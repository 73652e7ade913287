/**
 * Would `replay --json` gain by formatting its lines on another thread? (issue 15 item 6,
 * native-notes/replay-output.md "Fourth round".) The events of a capture are held in memory and
 * written R times, 256 at a time, three ways; the figure is the MAIN thread's CPU per event (the
 * thread that also runs the whole pipeline in a replay, so what it spends bounds the wall time on
 * two cores):
 *
 *   in place   the byte writer (writeEventJson) on the main thread, as replay does
 *   post       pack (event-pack.ts, as --threads does) + postMessage to a worker that drops them
 *   worker     pack + postMessage; the worker unpacks, formats and transfers the bytes back (the
 *              bytes are compared with "in place": they must be equal)
 *
 *   node dist/bench/json-offthread.js [--file bench/out/synth-50mb.pcap] [--repeat 20] [--runs 5]
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { PipelineEvent } from '../src/events.js';
import { defaultPipelineOptions } from '../src/pipeline.js';
import { replayFiles } from '../src/replay.js';
import { countsOnlyLimits } from '../src/replay-output/client-tally.js';
import { ByteLines } from '../src/replay-output/json-bytes.js';
import { writeEventJson } from '../src/replay-output/json-event-bytes.js';
import { pack, type Packed } from '../src/replay-threads/event-pack.js';
import type { FromFormatter, ToFormatter } from './json-offthread-worker.js';

const BATCH = 256;

function threadCpuMs(): number {
  const st = readFileSync('/proc/thread-self/stat', 'latin1');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      file: { type: 'string', default: 'bench/out/synth-50mb.pcap' },
      repeat: { type: 'string', default: '20' },
      runs: { type: 'string', default: '5' },
    },
  });
  const repeat = Number(values.repeat);
  const runs = Number(values.runs);
  const evs: PipelineEvent[] = [];
  await replayFiles(
    [values.file],
    defaultPipelineOptions(),
    {
      event(e: PipelineEvent): void {
        if (e.type !== 'connect' && e.type !== 'flow_end') evs.push(e);
      },
    },
    undefined,
    countsOnlyLimits,
  );
  const n = evs.length * repeat;
  console.log(
    `${evs.length} events × ${repeat}; load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );

  // in place: the bytes of one pass kept to compare
  let reference: Buffer | null = null;
  const inPlace = (): void => {
    const parts: Buffer[] = [];
    const keep = reference === null;
    // pieces of 256 KiB as replay's writer hands them on (kept from the first pass only)
    const w = new ByteLines(256 * 1024, (buf, end) => {
      if (keep) parts.push(Buffer.from(buf.subarray(0, end)));
      return buf;
    });
    for (let r = 0; r < repeat; r++) {
      for (let i = 0; i < evs.length; i++) {
        w.lineStart = w.pos;
        if (!writeEventJson(w, evs[i]!)) continue;
        w.buf[w.pos++] = 0x0a;
        if (w.pos >= 256 * 1024) {
          if (keep && r === 0) parts.push(Buffer.from(w.buf.subarray(0, w.pos)));
          w.reset();
        }
      }
      if (keep && r === 0) {
        parts.push(Buffer.from(w.buf.subarray(0, w.pos)));
        w.reset();
        reference = Buffer.concat(parts);
      }
    }
  };

  /** The main thread's CPU (ms) of the last viaWorker run. */
  let lastMainMs = 0;
  const viaWorker = async (discard: boolean): Promise<{ workerMs: number; equal: boolean | null }> => {
    const worker = new Worker(new URL('./json-offthread-worker.js', import.meta.url), { workerData: { discard } });
    const pieces: Buffer[] = [];
    let expect = 0;
    let got = 0;
    let onAll: (() => void) | null = null;
    let cpu: ((ms: number) => void) | null = null;
    worker.on('message', (m: FromFormatter) => {
      if (m.type === 'cpu') return cpu?.(m.ms);
      if (pieces.length < Math.ceil(evs.length / BATCH)) pieces.push(Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.length));
      if (++got === expect) onAll?.();
    });
    const send = (m: ToFormatter): void => worker.postMessage(m);
    const c0 = threadCpuMs();
    for (let r = 0; r < repeat; r++) {
      let a: Packed = [];
      let k = 0;
      for (let i = 0; i < evs.length; i++) {
        pack(evs[i]!, a);
        if (++k === BATCH || i === evs.length - 1) {
          send({ type: 'batch', events: a });
          expect++;
          a = [];
          k = 0;
        }
      }
    }
    if (!discard && got < expect) await new Promise<void>((r) => (onAll = r));
    const mainMs = threadCpuMs() - c0;
    const workerMs = await new Promise<number>((r) => {
      cpu = r;
      send({ type: 'cpu' });
    });
    await worker.terminate();
    lastMainMs = mainMs;
    return { workerMs, equal: discard ? null : reference !== null && Buffer.concat(pieces).equals(reference) };
  };

  const us = (ms: number): string => `${((ms * 1000) / n).toFixed(3)} µs`;
  const best = { inPlace: Infinity, post: Infinity, worker: Infinity, workerThread: Infinity };
  for (let k = 0; k < runs; k++) {
    const c0 = threadCpuMs();
    inPlace();
    best.inPlace = Math.min(best.inPlace, threadCpuMs() - c0);
    await viaWorker(true);
    best.post = Math.min(best.post, lastMainMs);
    const r = await viaWorker(false);
    best.worker = Math.min(best.worker, lastMainMs);
    best.workerThread = Math.min(best.workerThread, r.workerMs);
    if (r.equal !== true) throw new Error('the worker wrote other bytes than the writer in place');
  }
  console.log(`main thread CPU per event, best of ${runs}:`);
  console.log(`  in place (format)                   ${us(best.inPlace)}`);
  console.log(`  pack + postMessage (worker drops)   ${us(best.post)}`);
  console.log(`  pack + postMessage + bytes back     ${us(best.worker)}   (the worker thread: ${us(best.workerThread)}; bytes equal)`);
}

await main();
