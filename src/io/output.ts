import { once } from 'node:events';

/** Error codes that mean "the reader went away" (`| head`, quitting `less`): not a failure. */
const READER_GONE = new Set(['EPIPE', 'ERR_STREAM_DESTROYED', 'ECONNRESET']);

/**
 * A command's standard output (or standard error): text is gathered and written in chunks, with
 * backpressure honoured. A reader that goes away (`| head -1`) ends the output quietly: EPIPE sets
 * `closed`, nothing more is written, and the command still exits 0 (as tcpdump and grep do under
 * SIGPIPE, which Node ignores). Any other write error (a full disk) is printed once and kept in
 * `error` so that the exit status can say so.
 *
 * There is one Output per stream (`Output.of`), so its error listener is attached once and every
 * writer, buffered or not, shares the `closed` state; `guardStdio()` makes the two at start-up so
 * that even a direct `process.stdout.write` can never die of an unhandled 'error' event.
 */
export class Output {
  private static readonly byStream = new WeakMap<NodeJS.WritableStream, Output>();

  /** The Output of `stream` (made on first use). */
  static of(stream: NodeJS.WritableStream, label = 'standard output'): Output {
    let o = Output.byStream.get(stream);
    if (!o) {
      o = new Output(stream, label);
      Output.byStream.set(stream, o);
    }
    return o;
  }

  private parts: string[] = [];
  private size = 0;
  closed = false;
  /** A write error other than the reader going away, or null. */
  error: Error | null = null;
  private waiting: Promise<void> | null = null;
  private readonly closeListeners: (() => void)[] = [];

  private constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly label: string,
    private readonly chunk = 64 * 1024,
  ) {
    out.on('error', (e: NodeJS.ErrnoException) => this.failed(e));
  }

  /**
   * A write failed (on the stream, or on its file descriptor from another thread: `fd()`): the
   * reader going away ends the output quietly, anything else is told once and kept in `error`.
   */
  failed(e: NodeJS.ErrnoException): void {
    this.markClosed();
    if (READER_GONE.has(e.code ?? '') || this.error) return;
    this.error = e;
    // Standard error's own failure has nowhere to be told.
    if (this.out !== process.stderr) process.stderr.write(`smtpstrike: ${this.label}: ${e.message}\n`);
  }

  /**
   * The stream's file descriptor, once everything given to the stream has been written, for a
   * thread that writes on from there (json-offload.ts); null when the stream has none (a test's
   * stream) or has gone. The caller writes nothing more through this Output until that thread is done.
   */
  async fd(): Promise<number | null> {
    const fd = (this.out as { fd?: unknown }).fd;
    if (typeof fd !== 'number') return null;
    await this.end();
    return this.closed ? null : fd;
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.parts = [];
    for (const f of this.closeListeners.splice(0)) f();
  }

  /** Calls `f` once when nothing more can be written (at once if that is already so): time to stop working. */
  onClose(f: () => void): void {
    if (this.closed) f();
    else this.closeListeners.push(f);
  }

  /** Appends text (the caller adds newlines). */
  write(s: string): void {
    if (this.closed) return;
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= this.chunk) this.flush();
  }

  /** Hands what is gathered to the stream. */
  flush(): void {
    if (this.closed || this.parts.length === 0) return;
    const text = this.parts.length === 1 ? this.parts[0]! : this.parts.join('');
    this.parts = [];
    this.size = 0;
    try {
      if (!this.out.write(text)) this.waitForDrain();
    } catch {
      this.markClosed();
    }
  }

  /**
   * Hands `bytes` to the stream after the text gathered; `done` is called once the stream no longer
   * needs them (written, failed, or nothing more can be written), so the caller may write over them.
   */
  writeBytes(bytes: Uint8Array, done: () => void): void {
    this.flush();
    if (this.closed) return done();
    try {
      if (!this.out.write(bytes, () => done())) this.waitForDrain();
    } catch {
      this.markClosed();
    }
  }

  private waitForDrain(): void {
    if (this.waiting) return;
    this.waiting = once(this.out, 'drain').then(
      () => {
        this.waiting = null;
      },
      () => {
        this.waiting = null;
      },
    );
  }

  /**
   * Writes the pieces in turn and waits whenever the stream asks to, so that a report of a million
   * clients (~100 MB) into a reader slower than us is held back by the pipe, not queued in memory
   * (+200 MB peak RSS measured into `| cat` on a busy machine); stops at once when the reader has gone.
   */
  async writeAll(pieces: Iterable<string>): Promise<void> {
    for (const s of pieces) {
      if (this.closed) return;
      this.write(s);
      const w = this.ready();
      if (w) await w;
    }
  }

  /** Resolves when the stream can take more (at once unless it asked to wait). */
  ready(): Promise<void> | null {
    return this.closed ? null : this.waiting;
  }

  /** Flushes and waits until the stream has taken everything (or has gone). */
  async end(): Promise<void> {
    this.flush();
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      try {
        // The callback runs on success and on error alike.
        this.out.write('', () => resolve());
      } catch {
        resolve();
      }
    });
  }
}

/** Attaches the closed-pipe handling to standard output and standard error (once, at start-up). */
export function guardStdio(): void {
  Output.of(process.stdout);
  Output.of(process.stderr, 'standard error');
}
