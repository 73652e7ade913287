import { once } from 'node:events';

/**
 * Standard output for the dump: text is gathered and written in chunks (or at once per packet when
 * live or with -l), with backpressure honoured. A reader that goes away (`| head`, quitting
 * `less`) ends the dump quietly: EPIPE sets `closed` and nothing more is written.
 */
export class DumpOutput {
  private parts: string[] = [];
  private size = 0;
  closed = false;
  private waiting: Promise<void> | null = null;

  constructor(private readonly out: NodeJS.WritableStream, private readonly chunk = 64 * 1024) {
    out.on('error', (e: NodeJS.ErrnoException) => {
      this.closed = true;
      this.parts = [];
      if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') process.stderr.write(`smtpstrike: standard output: ${e.message}\n`);
    });
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
      if (!this.out.write(text) && !this.waiting) {
        this.waiting = once(this.out, 'drain').then(() => { this.waiting = null; }, () => { this.waiting = null; });
      }
    } catch {
      this.closed = true;
    }
  }

  /** Resolves when the stream can take more (at once unless it asked to wait). */
  ready(): Promise<void> | null {
    return this.closed ? null : this.waiting;
  }

  /** Flushes and waits until the stream has taken everything. */
  async end(): Promise<void> {
    this.flush();
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      try {
        this.out.write('', () => resolve());
      } catch {
        resolve();
      }
    });
  }
}
