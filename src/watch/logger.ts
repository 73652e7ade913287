import pino, { type Logger } from 'pino';

export interface LogSetup {
  logger: Logger;
  /** Reopens the log file (after logrotate moved it): SIGHUP. */
  reopen(): void;
  flush(): void;
  /** Flushes and lets go of the log file (a SIGHUP that switches loggers); stdout stays open. */
  close(): void;
}

/** pino JSON lines to stdout, or to `file` (created with its directory), at `level`. */
export function makeLogger(file: string | undefined, level: string): LogSetup {
  const dest = file ? pino.destination({ dest: file, mkdir: true, sync: false }) : pino.destination({ dest: 1, sync: false });
  const logger = pino({ level, base: { name: 'smtpstrike' }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
  return {
    logger,
    reopen: () => {
      if (file) dest.reopen();
    },
    flush: () => {
      try {
        dest.flushSync();
      } catch {
        // not ready yet (nothing written): nothing to flush
      }
    },
    close: () => {
      if (file) dest.end();
    },
  };
}
