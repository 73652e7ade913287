import { LineSplitter, openLog } from '../accounts/reader.js';

/**
 * The server's 535 text, learned from its mail log for the TLS inference (issue 10 item 3), so
 * that `report` reads its captures with that server's failure size:
 * - Postfix: `SASL <mech> authentication failed: <reason>[, sasl_username=…]` → the reply was
 *   `535 5.7.8 Error: authentication failed: <reason>` (smtpd_sasl_glue.c). A temporary failure
 *   logs the same line (`Connection lost to authentication server`) but answers 454: skipped.
 * - Exim: `<auth> authenticator failed for …: 535 <text> (set_id=…)` → the text up to ` (set_id`.
 * Several different texts (several servers, or a passdb that gives reasons): none is used.
 * Bounded: the first MAX_BYTES of each log, at most MAX_TEXTS distinct texts; standard input is
 * not read here (it can be read once only, by the report itself).
 */

const MAX_BYTES = 64 * 1024 * 1024;
const MAX_TEXTS = 8;
const POSTFIX = /SASL [^\s:]+ authentication failed: (.*?)(?:, sasl_username=.*)?\s*$/;
const EXIM = / authenticator failed for .*?: (535 .*?)(?: \(set_id=.*\))?\s*$/;
const TEMPORARY = /Connection lost to authentication server|temporar/i;

export interface LearnedFailure {
  /** The one 535 text the logs show; null when none or several. */
  text: string | null;
  /** The distinct texts seen (at most MAX_TEXTS). */
  texts: string[];
  /** Log lines the texts came from. */
  lines: number;
  /** Logs not looked into (standard input, unreadable). */
  skipped: string[];
}

/** The 535 text of one log line, or null. */
export function failureTextOf(line: string): string | null {
  if (line.includes(' authentication failed')) {
    const m = POSTFIX.exec(line);
    if (m && m[1] !== '' && !TEMPORARY.test(m[1]!)) return `535 5.7.8 Error: authentication failed: ${m[1]!}`;
    return null;
  }
  if (line.includes(' authenticator failed for ')) {
    const m = EXIM.exec(line);
    return m ? m[1]! : null;
  }
  return null;
}

export async function learnFailureText(files: readonly string[]): Promise<LearnedFailure> {
  const texts = new Set<string>();
  const skipped: string[] = [];
  let lines = 0;
  const onLine = (line: string): void => {
    const t = failureTextOf(line);
    if (t === null) return;
    lines++;
    if (texts.size < MAX_TEXTS) texts.add(t);
  };
  for (const file of files) {
    if (file === '-') {
      skipped.push(file);
      continue;
    }
    try {
      const log = await openLog(file);
      const splitter = new LineSplitter();
      let read = 0;
      for await (const chunk of log.chunks) {
        splitter.push(chunk, onLine);
        read += chunk.length;
        if (read >= MAX_BYTES || texts.size > 1) break;
      }
      splitter.end(onLine);
    } catch {
      skipped.push(file); // the report's own read says why
    }
    if (texts.size > 1) break;
  }
  const all = [...texts];
  return { text: all.length === 1 ? all[0]! : null, texts: all, lines, skipped };
}
