/**
 * What an error nobody expected looks like to the user: one line, `smtpstrike: MESSAGE`; the stack
 * trace only with SMTPSTRIKE_DEBUG=1 (for a bug report).
 */
export function unexpectedErrorLine(e: unknown, env: NodeJS.ProcessEnv = process.env): string {
  const err = e instanceof Error ? e : new Error(String(e));
  if (env.SMTPSTRIKE_DEBUG === '1' && err.stack) return `smtpstrike: ${err.stack}\n`;
  return `smtpstrike: ${err.message.split('\n')[0]}\n`;
}

/** Turns uncaught exceptions and unhandled rejections into that one line and exit status 1. */
export function exitQuietlyOnUnexpectedErrors(): void {
  const die = (e: unknown): void => {
    process.stderr.write(unexpectedErrorLine(e));
    process.exit(1);
  };
  process.on('uncaughtException', die);
  process.on('unhandledRejection', die);
}
