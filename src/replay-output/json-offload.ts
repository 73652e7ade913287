import { Worker } from 'node:worker_threads';
import type { PipelineEvent } from '../events.js';
import { CHUNK_BYTES } from './json-pack-format.js';
import { JsonEventPacker } from './json-pack.js';

/** The formatter thread's start: `direct`, it will be given the output's file descriptor (or null). */
export interface FormatterStart {
  direct: boolean;
}

/** Where the formatter thread writes: a file descriptor (from `fd`, once ours), or bytes given to `hand`. */
export interface FormatterOutput {
  hand(bytes: Uint8Array): void;
  /** Resolves to the output's file descriptor once everything before has been written (null: none). */
  fd?(): Promise<number | null>;
  /** A write on the file descriptor failed. */
  failed?(e: NodeJS.ErrnoException): void;
}

export type ToFormatter =
  | ChunkMessage
  /** The output's file descriptor (null: none; give the bytes back). */
  | { type: 'fd'; fd: number | null };

/** A chunk of packed events for the formatter thread (json-format-worker.ts). */
export interface ChunkMessage {
  type: 'chunk';
  id: number;
  chunk: SharedArrayBuffer;
  /** Doubles used. */
  n: number;
  /** Texts named for the first time in this chunk, in order. */
  strings: string[];
  /** Nothing follows: hand the last piece on. */
  last: boolean;
}

export type FromFormatter =
  /** `bytes[0, end)`: complete lines, in order. */
  | { type: 'bytes'; bytes: ArrayBuffer; end: number }
  /** The chunk's records are written (it may be filled again). */
  | { type: 'chunk'; id: number; last: boolean }
  /** A write on the file descriptor failed (nothing more is written). */
  | { type: 'write-error'; code: string; message: string };

/** Chunks in turn: the main thread fills one while the formatter writes the others. */
const CHUNKS = 16;

/**
 * `replay --json`'s lines written on another core (issue 15 item 6; native-notes/replay-output.md,
 * "Fifth round"): the main thread packs each event's fields into a shared chunk (json-pack.ts) and
 * the formatter thread writes the lines with the same `writeEventJson`, in order, to the output's
 * file descriptor once `out.fd()` hands it over (or, where there is none, back to `out.hand`). At
 * most `chunks` (CHUNKS) chunks are in flight: `ready()` holds the replay back while none is free,
 * as the output's own `ready()` does while the stream is full, so memory stays bounded whoever is
 * slower, the replay, the formatter or the reader.
 */
export class JsonOffload {
  private readonly worker: Worker;
  private readonly packer: JsonEventPacker;
  /** Every chunk made; a chunk's id is its place here. */
  private readonly chunks: SharedArrayBuffer[] = [];
  /** Ids of the chunks neither being filled nor with the formatter. */
  private readonly free: number[] = [];
  /** The chunk being filled. */
  private cur: number;
  private inFlight = 0;
  private waiting: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private finished: Promise<void> | null = null;
  private finish: (() => void) | null = null;
  private done = false;
  private failure: Error | null = null;
  private fail: ((e: Error) => void) | null = null;

  constructor(
    private readonly out: FormatterOutput,
    maxTexts = 65536,
    chunks = CHUNKS,
  ) {
    for (let i = 0; i < chunks; i++) {
      this.chunks.push(new SharedArrayBuffer(CHUNK_BYTES));
      this.free.push(i);
    }
    this.packer = new JsonEventPacker(maxTexts);
    this.cur = this.free.pop()!;
    this.packer.use(this.chunks[this.cur]!);
    const start: FormatterStart = { direct: out.fd !== undefined };
    this.worker = new Worker(new URL('./json-format-worker.js', import.meta.url), { workerData: start });
    if (out.fd)
      void out.fd().then(
        (fd) => this.worker.postMessage({ type: 'fd', fd } satisfies ToFormatter),
        () => this.worker.postMessage({ type: 'fd', fd: null } satisfies ToFormatter),
      );
    this.worker.unref(); // ref'd only while it holds work (a replay that fails must not hang on it)
    this.worker.on('message', (m: FromFormatter) => this.message(m));
    this.worker.on('error', (e) => this.failed(e));
    this.worker.on('exit', (code) => {
      if (!this.done) this.failed(new Error(`the JSON formatter thread stopped (exit code ${code})`));
    });
  }

  /** Packs the events, in order (a batch at a time: the packing code stays hot between the pipeline's turns). */
  events(evs: readonly PipelineEvent[]): void {
    const p = this.packer;
    for (let i = 0; i < evs.length; i++) if (p.pack(evs[i]!) && p.full) this.send(false);
  }

  line(s: string): void {
    this.packer.line(s);
    if (this.packer.full) this.send(false);
  }

  /** Resolves when a chunk is free (null: one is). */
  ready(): Promise<void> | null {
    if (this.failure) return null;
    if (this.free.length > 0) return null;
    this.waiting ??= new Promise<void>((resolve) => (this.wake = resolve));
    return this.waiting;
  }

  /** Sends what is packed and resolves once every line has been handed on; then the thread ends. */
  end(): Promise<void> {
    if (this.finished) return this.finished;
    this.finished = new Promise<void>((resolve, reject) => {
      this.finish = resolve;
      this.fail = reject;
    });
    if (this.failure) this.fail?.(this.failure);
    else this.send(true);
    return this.finished;
  }

  /** Stops the thread at once (the replay failed or its reader went away). */
  close(): void {
    this.done = true;
    void this.worker.terminate();
  }

  private send(last: boolean): void {
    if (this.failure) return;
    const p = this.packer;
    const m: ToFormatter = { type: 'chunk', id: this.cur, chunk: this.chunks[this.cur]!, n: p.n, strings: p.strings, last };
    if (this.inFlight++ === 0) this.worker.ref();
    this.worker.postMessage(m);
    if (last) return;
    // A chunk is free unless the replay ran past ready(): then one more (a packet's few events).
    let next = this.free.pop();
    if (next === undefined) {
      next = this.chunks.length;
      this.chunks.push(new SharedArrayBuffer(CHUNK_BYTES));
    }
    this.cur = next;
    p.use(this.chunks[next]!);
  }

  private message(m: FromFormatter): void {
    if (m.type === 'bytes') {
      this.out.hand(new Uint8Array(m.bytes, 0, m.end));
      return;
    }
    if (m.type === 'write-error') {
      const e: NodeJS.ErrnoException = new Error(m.message);
      e.code = m.code;
      this.out.failed?.(e);
      return;
    }
    if (--this.inFlight === 0) this.worker.unref();
    if (m.last) {
      this.done = true;
      this.finish?.();
      void this.worker.terminate();
      return;
    }
    this.free.push(m.id);
    const w = this.wake;
    this.wake = null;
    this.waiting = null;
    w?.();
  }

  private failed(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    this.worker.unref();
    this.fail?.(e);
    const w = this.wake;
    this.wake = null;
    this.waiting = null;
    w?.();
  }
}
