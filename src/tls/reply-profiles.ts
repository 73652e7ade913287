/**
 * Which reply sizes an opaque session is read with (issue 10, must-have 3). Per code, in this
 * order: the texts given on the command line / in the config (`--tls-reply`, `tls_replies:`), a
 * file saved by `smtpstrike calibrate` (`--tls-replies-file`), what a mail log showed (`report`),
 * then a built-in profile chosen from the server's cleartext 220 banner (Postfix, Exim), else the
 * Postfix + Dovecot built-in. Core room: imports nothing outside src/tls.
 */
import { DOVECOT_TIMING, type TimingModel } from './auth-exchange.js';
import { POSTFIX_DOVECOT, type ReplySizes } from './record-size.js';

/** The reply codes whose size the model uses. */
export const REPLY_CODES = [535, 235, 454, 334, 221] as const;
export type ReplyCode = (typeof REPLY_CODES)[number];

/** Reply texts by code, without the final CRLF; lines of a multi-line reply joined by `\n`. */
export type ReplyTexts = Partial<Record<ReplyCode, string>>;

export type ReplySourceKind = 'option' | 'file' | 'log' | 'banner' | 'default';

/**
 * The sizes one session is read with. `known`: the 535 size of this server is known (given,
 * calibrated, learned from its log, or its banner matched a built-in profile) — inferred failures
 * may strike only then. `source`: where the 535 size came from (the other codes may come from a
 * lower source, e.g. 235 from the banner's profile when only the 535 was given).
 */
export interface ReplySource {
  readonly sizes: ReplySizes;
  readonly known: boolean;
  readonly source: ReplySourceKind;
  /**
   * The delays that tell outcomes apart, or null: Postfix + Dovecot (and a server we know nothing
   * of) answer a 535 only after Dovecot's delay; Exim answers a 535 as fast as a 235 (0-1.7 ms,
   * measured), so timing would only contradict its sizes.
   */
  readonly timing: TimingModel | null;
}

const FIELD: Record<ReplyCode, keyof ReplySizes> = { 535: 'failure', 235: 'success', 454: 'tempfail', 334: 'challenge', 221: 'quit' };

/** Postfix + Dovecot SASL, measured (native-notes/tls-inference.md); the sizes are POSTFIX_DOVECOT. */
export const POSTFIX_DOVECOT_TEXTS: Readonly<Record<ReplyCode, string>> = {
  535: '535 5.7.8 Error: authentication failed: (reason unavailable)',
  235: '235 2.7.0 Authentication successful',
  454: '454 4.7.0 Temporary authentication failure: Connection lost to authentication server',
  334: '334 VXNlcm5hbWU6',
  221: '221 2.0.0 Bye',
};

/**
 * Exim 4 with its default texts, as measured on Exim 4.96 (Debian exim4-daemon-light, GnuTLS) in the
 * test bed (pcaps/tls/exim-*: the truths' `replies`; test/tls-reply-sizes.test.ts compares them):
 * - 535 `Incorrect authentication data` (FAIL), 235 `Authentication succeeded` (OK);
 * - 334: Debian's LOGIN authenticator prompts `Username:` / `Password:` (both 18 bytes, as Postfix's);
 * - 221 `<smtp_active_hostname> closing connection`: the hostname is the banner's first word;
 * - tempfail: Exim answers a deferred AUTH with `435 Unable to authenticate at present` (plus an
 *   optional `auth_defer_user_msg`), never a 454: unknown here (null), so never guessed.
 * All of Exim's built-in texts live here only: correct them here.
 */
export function eximTexts(hostname: string): ReplyTexts {
  return {
    535: '535 Incorrect authentication data',
    235: '235 Authentication succeeded',
    334: '334 VXNlcm5hbWU6',
    221: `221 ${hostname} closing connection`,
  };
}

/** Plaintext length of a reply text as sent: each line with its CRLF, UTF-8 bytes. */
export function replyLength(text: string): number {
  let n = 0;
  for (const line of text.split('\n')) n += Buffer.byteLength(line, 'utf8') + 2;
  return n;
}

/**
 * Checks one reply text for `code`; returns it normalised (a literal `\n` — backslash, n — also
 * separates lines, as a shell argument cannot easily hold a newline), or throws an Error saying
 * what is wrong. Every line must start with the code: `535 …` (last line) or `535-…` (others).
 */
export function checkReplyText(code: number, text: string): string {
  if (!(REPLY_CODES as readonly number[]).includes(code)) throw new Error(`reply code ${code} is not one the model uses (${REPLY_CODES.join(', ')})`);
  const t = text.replace(/\r?\n$/, '').replace(/\\n/g, '\n');
  if (t.trim() === '') throw new Error(`${code}: empty reply text (give the whole line, e.g. "${POSTFIX_DOVECOT_TEXTS[code as ReplyCode]}")`);
  if (t.includes('\r')) throw new Error(`${code}: the text must not contain CR (the CRLF is counted for you)`);
  const lines = t.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const last = i === lines.length - 1;
    const sep = l.charAt(3);
    if (!l.startsWith(String(code)) || (last ? sep !== '' && sep !== ' ' : sep !== '-')) {
      throw new Error(
        `${code}: line ${i + 1} "${l.slice(0, 60)}" must start with "${code}${last ? ' ' : '-'}" (the whole reply line as the server sends it, without CRLF)`,
      );
    }
  }
  if (lines.length > 16) throw new Error(`${code}: more than 16 lines`);
  return t;
}

/** `CODE=TEXT` (the `--tls-reply` argument) → [code, text]; throws an Error with the reason. */
export function parseReplyArg(arg: string): [ReplyCode, string] {
  const m = /^\s*(\d{3})\s*=(.*)$/s.exec(arg);
  if (!m) throw new Error(`expected CODE=TEXT (CODE one of ${REPLY_CODES.join(', ')}), e.g. '535=${POSTFIX_DOVECOT_TEXTS[535]}'; got "${arg.slice(0, 60)}"`);
  const code = Number(m[1]);
  return [code as ReplyCode, checkReplyText(code, m[2]!)];
}

/** `CODE=TEXT` arguments → texts; the last one given for a code wins. */
export function replyTextsFromArgs(args: readonly string[]): ReplyTexts {
  const out: ReplyTexts = {};
  for (const a of args) {
    const [code, text] = parseReplyArg(a);
    out[code] = text;
  }
  return out;
}

/** What `smtpstrike calibrate` saves (and `--tls-replies-file` reads). */
export interface CalibrationFile {
  smtpstrike_calibration: 1;
  server: string;
  banner: string | null;
  /** The texts read, by code (no 235 or 454: a calibration never logs in). */
  replies: ReplyTexts;
  lengths: Partial<Record<ReplyCode, number>>;
  tls: { protocol: string | null; cipher: string | null; record_lengths: Partial<Record<ReplyCode, number>> | null };
}

/** The reply texts of a calibration file's JSON; throws an Error saying what is wrong. */
export function parseCalibrationFile(json: string): ReplyTexts {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (e) {
    throw new Error(`not JSON (${(e as Error).message})`, { cause: e });
  }
  if (typeof doc !== 'object' || doc === null || (doc as { smtpstrike_calibration?: unknown }).smtpstrike_calibration !== 1) {
    throw new Error('not a file saved by `smtpstrike calibrate` (no "smtpstrike_calibration": 1)');
  }
  const replies = (doc as { replies?: unknown }).replies;
  if (typeof replies !== 'object' || replies === null || Array.isArray(replies)) throw new Error('"replies" must be an object of code: text');
  const out: ReplyTexts = {};
  for (const [k, v] of Object.entries(replies as Record<string, unknown>)) {
    if (!/^\d{3}$/.test(k)) throw new Error(`"replies": "${k}" is not a reply code`);
    if (typeof v !== 'string') throw new Error(`"replies"."${k}": expected text`);
    const code = Number(k);
    out[code as ReplyCode] = checkReplyText(code, v);
  }
  if (out[535] === undefined) throw new Error('"replies" has no 535 text');
  return out;
}

function overlay(base: ReplySizes, texts: ReplyTexts): ReplySizes {
  const s: { -readonly [K in keyof ReplySizes]: ReplySizes[K] } = { ...base };
  for (const c of REPLY_CODES) {
    const t = texts[c];
    if (t !== undefined) s[FIELD[c]] = replyLength(t);
  }
  return s;
}

/** The Postfix + Dovecot built-in, used when nothing else is known: `known: false`. */
export const DEFAULT_SOURCE: ReplySource = { sizes: POSTFIX_DOVECOT, known: false, source: 'default', timing: DOVECOT_TIMING };

/** Which built-in profile a cleartext 220 banner names; null when none. */
export function bannerProfile(banner: string | null): ReplyTexts | null {
  if (banner === null) return null;
  if (/\bESMTP Postfix\b/.test(banner)) return POSTFIX_DOVECOT_TEXTS;
  const exim = /^220[ -](\S+) E?SMTP Exim\b/.exec(banner);
  if (exim) return eximTexts(exim[1]!);
  return null;
}

/** Most distinct Exim host names whose resolved sources are kept (one small object each). */
const BANNER_CACHE_MAX = 64;

export interface ReplyInputs {
  /** `--tls-reply` / `tls_replies:`. */
  option?: ReplyTexts;
  /** `--tls-replies-file` / `tls_replies_file:`. */
  file?: ReplyTexts;
  /** Learned from a mail log (`report`). */
  log?: ReplyTexts;
}

/**
 * Resolves the sizes of each opaque session from the inputs and the session's banner. One object
 * per pipeline; a session's resolved source is shared (none made per session, except for a new
 * Exim host name, and those are cached, at most BANNER_CACHE_MAX).
 */
export class ReplyResolver {
  /** Sizes from the given inputs alone (over the default), and where the 535 came from. */
  private readonly given: ReplyTexts;
  private readonly givenSource: ReplySourceKind | null;
  private readonly noBanner: ReplySource;
  private readonly postfix: ReplySource;
  private readonly byBanner = new Map<string, ReplySource>();

  constructor(readonly inputs: ReplyInputs = {}) {
    // Lowest first, so that a higher source overwrites per code.
    this.given = { ...inputs.log, ...inputs.file, ...inputs.option };
    this.givenSource =
      inputs.option?.[535] !== undefined ? 'option' : inputs.file?.[535] !== undefined ? 'file' : inputs.log?.[535] !== undefined ? 'log' : null;
    this.needsBanner = REPLY_CODES.some((c) => this.given[c] === undefined);
    this.noBanner = this.make(null);
    this.postfix = this.make(POSTFIX_DOVECOT_TEXTS);
  }

  /** Whether a session's banner can change anything (no: the given texts fix every code). */
  readonly needsBanner: boolean;

  /** The sizes of a session whose cleartext banner (first 220 line, without CRLF) was `banner`, or null. */
  forSession(banner: string | null): ReplySource {
    const p = bannerProfile(banner);
    if (p === null) return this.noBanner;
    if (p === POSTFIX_DOVECOT_TEXTS) return this.postfix;
    const key = p[221] ?? '';
    let s = this.byBanner.get(key);
    if (!s) {
      if (this.byBanner.size >= BANNER_CACHE_MAX) this.byBanner.clear();
      s = this.make(p);
      this.byBanner.set(key, s);
    }
    return s;
  }

  private make(profile: ReplyTexts | null): ReplySource {
    const base = profile ? overlay(POSTFIX_DOVECOT, profile) : POSTFIX_DOVECOT;
    // A profile's unknown codes (Exim's 454) stay unknown, not Postfix's.
    const cleared = profile ? clearMissing(base, profile) : base;
    const sizes = overlay(cleared, this.given);
    const timing = profile !== null && profile !== POSTFIX_DOVECOT_TEXTS ? null : DOVECOT_TIMING;
    if (this.givenSource) return { sizes, known: true, source: this.givenSource, timing };
    if (profile) return { sizes, known: true, source: 'banner', timing };
    return { sizes, known: false, source: 'default', timing };
  }
}

function clearMissing(sizes: ReplySizes, profile: ReplyTexts): ReplySizes {
  const s: { -readonly [K in keyof ReplySizes]: ReplySizes[K] } = { ...sizes };
  for (const c of REPLY_CODES) if (profile[c] === undefined) s[FIELD[c]] = null;
  return s;
}
