import pino, { type DestinationStream, type Logger } from 'pino';

export interface LogSetup {
  logger: Logger;
  /** Reopens the log file (after logrotate moved it): SIGHUP. */
  reopen(): void;
  flush(): void;
  /** Flushes and lets go of the log file (a SIGHUP that switches loggers); stdout stays open. */
  close(): void;
}

type SonicBoom = ReturnType<typeof pino.destination>;

/** Lines joined into one write at most (about 40 KB of watch's lines). */
const MAX_PARTS = 128;

/**
 * pino's destination: the lines logged in one turn of the event loop go to sonic-boom as one
 * string. sonic-boom's write() measures the byte length of its whole pending chunk (up to 16 KiB)
 * for every line it is given, which flattens that string each time: under a flood of 535s (one
 * line per AUTH failure, 10,000+ a second) that was the largest single cost of the live path
 * (native-notes/live-capture.md, "CPU"). The bytes, and their order, are the same.
 */
export class TurnBatcher implements DestinationStream {
  private parts: string[] = [];
  private scheduled = false;
  constructor(readonly dest: SonicBoom) {}

  write(line: string): boolean {
    // At most MAX_PARTS lines wait: a long synchronous stretch (a replay read) does not pile up.
    if (this.parts.push(line) >= MAX_PARTS) this.drain();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drain);
    }
    return true;
  }

  /** Hands what was logged so far to sonic-boom (which writes it asynchronously). */
  readonly drain = (): void => {
    this.scheduled = false;
    const p = this.parts;
    if (p.length === 0) return;
    this.parts = [];
    this.dest.write(p.length === 1 ? p[0]! : p.join(''));
  };

  /** Everything logged so far, written before this returns. */
  flushSync(): void {
    this.drain();
    try {
      this.dest.flushSync();
    } catch {
      // not ready yet (nothing written): nothing to flush
    }
  }
}

/** pino's isoTime, formatted once per millisecond: the same text, without a Date and toISOString per line. */
export function cachedIsoTime(): () => string {
  let ms = -1;
  let stamp = '';
  return () => {
    const now = Date.now();
    if (now !== ms) {
      ms = now;
      stamp = `,"time":"${new Date(now).toISOString()}"`;
    }
    return stamp;
  };
}

/** pino JSON lines to stdout, or to `file` (created with its directory), at `level`. */
export function makeLogger(file: string | undefined, level: string): LogSetup {
  const dest = file ? pino.destination({ dest: file, mkdir: true, sync: false }) : pino.destination({ dest: 1, sync: false });
  const out = new TurnBatcher(dest);
  // pino flushes its sonic-boom at exit; the lines of the last turn are still here then.
  const atExit = (): void => out.flushSync();
  process.on('exit', atExit);
  const logger = pino({ level, base: { name: 'smtpstrike' }, timestamp: cachedIsoTime() }, out);
  return {
    logger,
    reopen: () => {
      if (file) {
        out.drain(); // lines logged before the reopen go to the old file, as before
        dest.reopen();
      }
    },
    flush: () => out.flushSync(),
    close: () => {
      out.drain();
      process.removeListener('exit', atExit);
      if (file) dest.end();
    },
  };
}
