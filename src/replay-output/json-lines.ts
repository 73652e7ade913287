import type { EventSink, InferredBasis, PipelineEvent } from '../events.js';
import { basisNames } from '../tls/auth-exchange.js';
import { strikeLogLine } from '../strikes/iptables-log.js';
import { ByteLines, SLACK } from './json-bytes.js';
import { isoTimeUncached, writeEventJson } from './json-event-bytes.js';
import { JsonOffload, type FormatterOutput } from './json-offload.js';

export { isoTimeUncached, writeEventJson };

const pad3 = (n: number): string => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n));
let isoSecond = NaN;
let isoPrefix = '';

/** ISO 8601 UTC with microseconds, from packet seconds (the text up to the dot cached per second). */
export function isoTime(ts: number): string {
  const totalUs = Math.round(ts * 1e6);
  if (!(totalUs >= 0 && totalUs <= Number.MAX_SAFE_INTEGER)) return isoTimeUncached(ts);
  const us = totalUs % 1000;
  const ms = (totalUs - us) / 1000;
  const msPart = ms % 1000;
  const second = (ms - msPart) / 1000;
  if (second !== isoSecond) {
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 20); // YYYY-MM-DDTHH:MM:SS.
    isoSecond = second;
  }
  return isoPrefix + pad3(msPart) + pad3(us) + 'Z';
}

/** The documented JSON shape of each event type (snake_case, stable: other tools read it). */
export function eventJson(ev: PipelineEvent): Record<string, unknown> | null {
  const base = { type: ev.type, ts: round6(ev.ts), time: isoTime(ev.ts) };
  switch (ev.type) {
    case 'auth_failure':
    case 'auth_success':
    case 'auth_tempfail':
      return {
        ...base,
        client: ev.client,
        client_port: ev.clientPort,
        server: ev.server,
        server_port: ev.serverPort,
        code: ev.code,
        mech: ev.mech,
        user: ev.user,
        text: ev.text,
        ...(ev.matched ? { matched: true } : {}),
        ...(ev.inferred ? inferredJson(ev.inferred) : {}),
      };
    case 'starttls':
      return { ...base, client: ev.client, client_port: ev.clientPort, server: ev.server, server_port: ev.serverPort, implicit: ev.implicit };
    case 'strike':
      return {
        ...base,
        client: ev.client,
        key: ev.key,
        n: ev.n,
        hitcount: ev.hitcount,
        ...(ev.inferred ? { inferred: true } : {}),
        source: ev.source,
        log: strikeLogLine(ev),
      };
    case 'reject':
      return { ...base, client: ev.client, key: ev.key, rule: ev.rule, log: strikeLogLine(ev) };
    case 'block':
      return {
        ...base,
        client: ev.client,
        key: ev.key,
        rule: ev.rule,
        from: round6(ev.from),
        until: round6(ev.until),
        until_time: isoTime(ev.until),
        level: ev.level,
      };
    default:
      return null; // connect / flow_end are internal
  }
}

/** An outcome inferred inside TLS: what it rests on (src/tls/auth-exchange.ts BASIS_* bits). */
function inferredJson(i: InferredBasis): Record<string, unknown> {
  return { inferred: true, basis: basisNames(i.basis), record_len: i.recordLen, delay_s: round6(i.delay), known_size: i.known };
}

export function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

const scratch = new ByteLines(4096, null);

/** `JSON.stringify(eventJson(ev))` (writeEventJson as a string); null for the internal events. */
export function eventJsonLine(ev: PipelineEvent): string | null {
  scratch.reset();
  return writeEventJson(scratch, ev) ? scratch.buf.toString('utf8', 0, scratch.pos) : null;
}

/** Where JSON lines go: text, or bytes when the output takes them (`Output.writeBytes`). */
export interface JsonLinesOut {
  write(s: string): unknown;
  /** Hands `bytes` on; `done` once the stream no longer needs them (the buffer is then written over). */
  writeBytes?(bytes: Uint8Array, done: () => void): void;
  /** The stream's file descriptor once all given to it is written, for the formatter thread (null: none). */
  fd?(): Promise<number | null>;
  /** A write on that file descriptor failed. */
  failed?(e: NodeJS.ErrnoException): void;
}

/** Events formatted together. */
const BATCH = 256;

/** The pieces the writer hands on: ~256 KiB of lines each. */
const PIECE = 256 * 1024;

/** How a writer may hand its formatting to another core (json-offload.ts). */
export interface OffloadOptions {
  /** Events written in place before the formatter thread starts (a small capture never starts one). */
  after: number;
  /** The text table's bound (json-pack.ts); tests make it small. */
  maxTexts?: number;
  /** Chunks in flight (json-offload.ts); tests make it small. */
  chunks?: number;
  /** Asked when the thread would start: start it, stay in place for good, or ask again BATCH events later. */
  when?: () => 'yes' | 'no' | 'later';
}

/**
 * Streams events as JSON lines into `out` in ~256 KiB pieces, written straight into a reused
 * buffer (a few, in turn, while the stream still holds one). The writer is synchronous; the caller
 * waits for the stream between packets (replay.ts), so a slow reader holds the replay back
 * instead of filling memory.
 *
 * With `offload` (and an output that takes bytes), after `offload.after` events the lines are
 * written on another thread instead (json-offload.ts): the same bytes, in the same order; then
 * the caller must also wait on `ready()` between packets and `end()` before writing more.
 */
export class JsonLinesWriter implements EventSink {
  private readonly bytes: ByteLines;
  /** Buffers the stream has given back. */
  private readonly free: Buffer[] = [];
  /** Events not written yet (written BATCH at a time). */
  private readonly queue: PipelineEvent[] = [];
  private offload: JsonOffload | null = null;
  /** Events until the formatter thread starts (Infinity: never). */
  private untilOffload: number;

  constructor(
    private readonly out: JsonLinesOut,
    private readonly offloadOptions: OffloadOptions | null = null,
  ) {
    this.bytes = new ByteLines(PIECE, (buf, end) => this.hand(buf, end));
    this.untilOffload = offloadOptions && out.writeBytes ? offloadOptions.after : Infinity;
  }

  event(ev: PipelineEvent): void {
    if (ev.type === 'connect' || ev.type === 'flow_end') return; // internal: no line
    if (!this.offload && this.untilOffload-- <= 0) this.startOffload();
    const q = this.queue;
    q.push(ev);
    if (q.length >= BATCH) this.drain();
  }

  /** From here on the lines are written on the formatter thread; what is written so far goes first. */
  private startOffload(): void {
    const go = this.offloadOptions?.when?.() ?? 'yes';
    if (go !== 'yes') {
      this.untilOffload = go === 'later' ? BATCH : Infinity;
      return;
    }
    this.drain(); // (in place: no formatter yet)
    this.handPiece();
    const out = this.out;
    const to: FormatterOutput = { hand: (bytes) => out.writeBytes?.(bytes, noop) };
    if (out.fd) to.fd = () => out.fd?.() ?? Promise.resolve(null);
    if (out.failed) to.failed = (e) => out.failed?.(e);
    try {
      this.offload = new JsonOffload(to, this.offloadOptions?.maxTexts, this.offloadOptions?.chunks);
    } catch {
      this.untilOffload = Infinity; // no thread to be had (a resource limit): on in place, as on one core
    }
  }

  /** Whether the lines are being written on the formatter thread. */
  get offloaded(): boolean {
    return this.offload !== null;
  }

  /** Resolves when the formatter thread can take more events (null: it can, or there is none). */
  ready(): Promise<void> | null {
    return this.offload ? this.offload.ready() : null;
  }

  /** Writes what is left and resolves when every line has been handed to the output (rejects if the formatter thread failed). */
  async end(): Promise<void> {
    if (!this.offload) return this.flush();
    this.drain();
    await this.offload.end();
  }

  /** Stops the formatter thread, if any, without waiting (the replay failed, or its reader went away). */
  close(): void {
    this.offload?.close();
  }

  /** Writes the events queued, in order (or hands them to the formatter thread). */
  private drain(): void {
    const q = this.queue;
    if (this.offload) {
      this.offload.events(q);
      q.length = 0;
      return;
    }
    const w = this.bytes;
    for (let i = 0; i < q.length; i++) {
      w.lineStart = w.pos;
      if (!writeEventJson(w, q[i]!)) continue;
      w.buf[w.pos++] = 0x0a; // LINE_FIXED has room for it
      if (w.pos >= PIECE) this.handPiece();
    }
    q.length = 0;
  }

  line(obj: unknown): void {
    this.drain();
    if (this.offload) return this.offload.line(`${JSON.stringify(obj)}\n`);
    const w = this.bytes;
    w.lineStart = w.pos;
    w.utf8(`${JSON.stringify(obj)}\n`);
    if (w.pos >= PIECE) this.handPiece();
  }

  /** Writes what is queued (with the formatter thread: hands it over; `end()` waits for the lines). */
  flush(): void {
    this.drain();
    if (this.offload) return;
    this.handPiece();
  }

  private handPiece(): void {
    const w = this.bytes;
    if (w.pos === 0) return;
    w.use(this.hand(w.buf, w.pos));
    w.reset();
  }

  /** Hands buf[0, end) to the output; returns the buffer to write on in. */
  private hand(buf: Buffer, end: number): Buffer {
    const out = this.out;
    if (!out.writeBytes) {
      out.write(buf.toString('utf8', 0, end));
      return buf;
    }
    const next = this.free.pop() ?? Buffer.allocUnsafeSlow(PIECE + SLACK);
    out.writeBytes(buf.subarray(0, end), () => {
      if (this.free.length < 4 && buf.length === PIECE + SLACK) this.free.push(buf); // not one grown for a long line
    });
    return next;
  }
}

const noop = (): void => undefined;
