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
/** Under a flood, one write to the file per this many milliseconds at most (a quiet log's line still goes in the next turn). */
export const FLOOD_WRITE_MS = 10;

/**
 * pino's destination: the lines logged in one turn of the event loop go to sonic-boom as one
 * string. sonic-boom's write() measures the byte length of its whole pending chunk (up to 16 KiB)
 * for every line it is given, which flattens that string each time: under a flood of 535s (one
 * line per AUTH failure, 10,000+ a second) that was the largest single cost of the live path
 * (native-notes/live-capture.md, "CPU"). The bytes, and their order, are the same.
 *
 * Live, a turn is one read of the capture (a few packets), so one write per turn was still one
 * `fs.write` per one or two lines, about 9 µs of the main thread each (16 % of watch's busy time at
 * 120,000 pkt/s). So when the last write was less than FLOOD_WRITE_MS ago, the next one waits until
 * FLOOD_WRITE_MS after it: under a flood a line reaches the file at most 10 ms later than before,
 * one write carrying up to MAX_PARTS lines; an isolated line (a quiet host) still goes in the next
 * turn, as before.
 */
export class TurnBatcher implements DestinationStream {
  private parts: string[] = [];
  private scheduled = false;
  /** performance.now() of the last write handed to sonic-boom. */
  private lastWrite = -Infinity;
  constructor(
    readonly dest: SonicBoom,
    /** Milliseconds, monotonic (tests give their own). */
    private readonly now: () => number = () => performance.now(),
  ) {}

  write(line: string): boolean {
    // At most MAX_PARTS lines wait: a long synchronous stretch (a replay read) does not pile up.
    if (this.parts.push(line) >= MAX_PARTS) this.drain();
    else if (!this.scheduled) {
      this.scheduled = true;
      const wait = this.lastWrite + FLOOD_WRITE_MS - this.now();
      if (wait > 0) setTimeout(this.drain, wait);
      else setImmediate(this.drain);
    }
    return true;
  }

  /** Hands what was logged so far to sonic-boom (which writes it asynchronously). */
  readonly drain = (): void => {
    this.scheduled = false;
    const p = this.parts;
    if (p.length === 0) return;
    this.parts = [];
    this.lastWrite = this.now();
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

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f]/;
const QUOTE_OR_BACKSLASH = /["\\]/;

/**
 * A string field as pino 10 writes it (its documented behaviour, checked byte for byte against pino
 * itself by test/watch-log-lines.test.ts): through JSON.stringify when it is over 100 characters or
 * holds a character below 32; otherwise quoted, with only `"` and `\\` escaped (lone surrogates and
 * U+2028 stay as they are).
 */
export function pinoString(str: string): string {
  if (str.length > 100 || CONTROL.test(str)) return JSON.stringify(str);
  return QUOTE_OR_BACKSLASH.test(str) ? '"' + str.replace(/["\\]/g, '\\$&') + '"' : '"' + str + '"';
}

/** A number as pino writes a field's value: its text, or null when not finite. */
export const pinoNumber = (n: number): string => (Number.isFinite(n) ? String(n) : 'null');

/**
 * watch's hot lines (an AUTH outcome, a strike, a reject, a block: tens of thousands a second under
 * a flood) written without pino: the caller gives the fields already serialised as pino would
 * (`,"key":value` each, `pinoString` / `pinoNumber`), and this adds what pino adds around them —
 * the level, the time, `"name":"smtpstrike"`, the message — into the same destination, so the
 * lines and their order are exactly what `logger.info(fields, msg)` writes. No object is made per
 * line. Only for a logger made by makeLogger (no child bindings, hooks, mixin or prefix).
 */
export interface RawLines {
  /** One line at `level` (30 info, 40 warn), dropped as pino drops it below the logger's level. */
  line(level: 30 | 40, props: string, msg: string): void;
}

const rawOf = new WeakMap<Logger, RawLines>();

/** The raw writer of a logger made by makeLogger; undefined for any other (a test's, a child): use pino. */
export function rawLines(logger: Logger): RawLines | undefined {
  return rawOf.get(logger);
}

/** pino JSON lines to stdout, or to `file` (created with its directory), at `level`. */
export function makeLogger(file: string | undefined, level: string): LogSetup {
  const dest = file ? pino.destination({ dest: file, mkdir: true, sync: false }) : pino.destination({ dest: 1, sync: false });
  const out = new TurnBatcher(dest);
  // pino flushes its sonic-boom at exit; the lines of the last turn are still here then.
  const atExit = (): void => out.flushSync();
  process.on('exit', atExit);
  const time = cachedIsoTime();
  const logger = pino({ level, base: { name: 'smtpstrike' }, timestamp: time }, out);
  const head = { 30: '{"level":30', 40: '{"level":40' } as const;
  rawOf.set(logger, {
    line: (lv, props, msg) => {
      if (lv < logger.levelVal) return;
      out.write(head[lv] + time() + ',"name":"smtpstrike"' + props + ',"msg":' + pinoString(msg) + '}\n');
    },
  });
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
