import { accessLogBracket, parseApache } from './apache.js';
import type { LogClock } from './clock.js';
import { parseDovecot } from './dovecot.js';
import { parseExim } from './exim.js';
import { clearHit, FAILURE, IGNORED, newHit, SUCCESS, TEMPFAIL, UNPARSEABLE, type Hit, type Verdict } from './hit.js';
import { parseOpenWebMail } from './openwebmail.js';
import { PostfixParser } from './postfix.js';
import { parseSsh } from './ssh.js';
import { classicStamp, ctimeStamp, isoStamp, newStamp, NO_STAMP, stampGuessed, stampTs, tai64nStamp, type Stamp } from './timestamps.js';
import { SERVICES, type Mode, type Service } from './types.js';

/**
 * One line → one verdict, for every supported format at once: the line's shape picks the reader
 * (classic syslog, RFC 3339 / journald short-iso syslog, RFC 5424, Exim's own log, Dovecot's own
 * log, tai64n, Apache/nginx access log, OpenWebMail), the syslog program name picks the message
 * parser (sshd, dovecot and its login/auth processes, postfix, exim). Lines of a service that was
 * not asked for are `ignored`; lines with no recognisable shape are `unparseable`.
 */

const PROG_NONE = -1;
const SSH = 0;
const DOVECOT = 1;
const POSTFIX = 2;
const EXIM = 3;

const PROG_SERVICE: Service[] = ['ssh', 'dovecot', 'postfix', 'exim'];

function isLoginProcess(line: string, s: number, e: number): boolean {
  // "imap-login", "pop3-login", "submission-login", "managesieve-login" (optionally "[pid]")
  let end = e;
  if (line.charCodeAt(end - 1) === 93 /* ] */) {
    const b = line.lastIndexOf('[', end);
    if (b > s) end = b;
  }
  return end - s > 6 && line.startsWith('-login', end - 6);
}

/** Which message parser handles the program token line[s, e) (without the trailing colon). */
function progKind(line: string, s: number, e: number): number {
  switch (line.charCodeAt(s)) {
    case 115: // s
      if (line.startsWith('sshd', s)) {
        const c = line.charCodeAt(s + 4);
        if (s + 4 === e || c === 91 || (c === 45 && line.startsWith('-session', s + 4))) return SSH;
      }
      break;
    case 91: // [
      if (line.startsWith('[sshd]', s)) return SSH;
      break;
    case 100: // d
      if (line.startsWith('dovecot', s)) return DOVECOT;
      break;
    case 97: // a
      if (line.startsWith('auth', s)) {
        const c = line.charCodeAt(s + 4);
        if (s + 4 === e || c === 40 || c === 45 || c === 91) return DOVECOT; // auth, auth(..), auth-worker(..)
      }
      break;
    case 112: // p
      if (line.startsWith('postfix', s)) return POSTFIX;
      break;
    case 101: // e
      if (line.startsWith('exim', s)) return EXIM;
      break;
  }
  return isLoginProcess(line, s, e) ? DOVECOT : PROG_NONE;
}

export class LineParser {
  readonly hit: Hit = newHit();
  /** Service of the last success/failure/tempfail. */
  service: Service = 'ssh';
  /**
   * Postfix's per-session state (which open smtpd sessions already had their login reported),
   * bounded; one parser reads one stream of lines (one file, or one followed log).
   */
  readonly postfix: PostfixParser;
  private readonly st: Stamp = newStamp();
  private readonly st2: Stamp = newStamp();
  private readonly on: boolean[];
  private readonly onApache: boolean;
  private readonly onOwm: boolean;

  /**
   * @param clock converts timestamps (zone and year assumptions)
   * @param fallbackTs time of lines without a timestamp (`host sshd[1]: ...`): the file's mtime
   * @param maxPostfixSessions cap of Postfix sessions remembered (see postfix.ts)
   */
  constructor(
    mode: Mode | readonly Service[],
    private readonly clock: LogClock,
    private readonly fallbackTs: number,
    maxPostfixSessions?: number,
  ) {
    const set = new Set<Service>(mode === 'all' ? SERVICES : typeof mode === 'string' ? [mode] : mode);
    this.on = PROG_SERVICE.map((s) => set.has(s));
    this.onApache = set.has('apache');
    this.onOwm = set.has('openwebmail');
    this.postfix = new PostfixParser(maxPostfixSessions);
  }

  /**
   * Parses one line (no line terminator). On SUCCESS/FAILURE/TEMPFAIL, `hit` and `service`
   * describe it, and `hit.count` says how many outcomes the line stands for (see hit.ts).
   */
  parse(line: string): Verdict {
    const n = line.length;
    if (n === 0) return IGNORED;
    const st = this.st;
    st.kind = NO_STAMP;
    const c0 = line.charCodeAt(0);
    let p: number;
    if (c0 >= 65 && c0 <= 90) {
      // "Feb 13 00:15:16 host prog[pid]: msg" or OpenWebMail's "Sat Dec 28 19:05:38 2013 - ..."
      p = classicStamp(line, 0, st);
      if (p > 0) return this.header(line, p + 1, true);
      p = ctimeStamp(line, 0, st);
      if (p > 0) return this.owm(line, p);
    } else if (c0 >= 48 && c0 <= 57) {
      p = isoStamp(line, 0, st);
      if (p > 0) {
        if (line.charCodeAt(10) === 84 /* T */) return this.header(line, p + 1, true);
        return this.isoSpace(line, p + 1);
      }
    } else if (c0 === 60 /* < */) {
      return this.rfc5424(line);
    } else if (c0 === 64 /* @ */) {
      p = tai64nStamp(line, 0, st);
      if (p > 0) return this.header(line, p + 1, false);
    }
    const b = accessLogBracket(line);
    if (b > 0) return this.apache(line, b);
    // No timestamp: "host sshd[1]: msg" (journal exports, fail2ban's journal samples).
    return this.header(line, 0, false, true);
  }

  /** Syslog-style `[host ]prog[pid]: msg` at p. */
  private header(line: string, p: number, hostAllowed: boolean, needKnown = false): Verdict {
    if (line.charCodeAt(p) === 32) p++;
    let sp = line.indexOf(' ', p);
    if (sp < 0) return needKnown ? UNPARSEABLE : IGNORED;
    let progStart = p;
    if (line.charCodeAt(sp - 1) !== 58 /* : */) {
      if (!hostAllowed && !needKnown) return IGNORED;
      progStart = sp + 1;
      sp = line.indexOf(' ', progStart);
      if (sp < 0 || line.charCodeAt(sp - 1) !== 58) return needKnown ? UNPARSEABLE : IGNORED;
    }
    const kind = progKind(line, progStart, sp - 1);
    if (kind === PROG_NONE) return needKnown ? UNPARSEABLE : IGNORED;
    return this.message(line, kind, progStart, sp + 1);
  }

  /** `YYYY-MM-DD HH:MM:SS ...`: Exim's main log, or a syslog/Dovecot line with that timestamp. */
  private isoSpace(line: string, p: number): Verdict {
    let sp = line.indexOf(' ', p);
    if (sp > 0) {
      let progStart = p;
      if (line.charCodeAt(sp - 1) !== 58) {
        progStart = sp + 1;
        sp = line.indexOf(' ', progStart);
      }
      if (sp > 0 && line.charCodeAt(sp - 1) === 58) {
        const kind = progKind(line, progStart, sp - 1);
        if (kind !== PROG_NONE) return this.message(line, kind, progStart, sp + 1);
      }
    }
    if (!this.on[EXIM]) return IGNORED;
    return this.finish(parseExim(line, p, this.resetHit()), EXIM);
  }

  /** `keyEnd`: end of the text naming the process (program and pid), by default the `prog[pid]` before `: `. */
  private message(line: string, kind: number, progStart: number, msg: number, keyEnd = msg - 2): Verdict {
    if (!this.on[kind]) return IGNORED;
    const hit = this.resetHit();
    switch (kind) {
      case SSH:
        return this.finish(parseSsh(line, msg, hit), SSH);
      case DOVECOT:
        return this.finish(parseDovecot(line, progStart, hit), DOVECOT);
      case POSTFIX:
        return this.finish(this.postfix.parse(line, msg, hit, progStart, keyEnd), POSTFIX);
      default: {
        // Syslogged Exim: the message may start with Exim's own timestamp, which then wins.
        const e = isoStamp(line, msg, this.st2);
        if (e > 0) {
          const st = this.st;
          const s2 = this.st2;
          st.kind = s2.kind;
          st.y = s2.y;
          st.mo = s2.mo;
          st.d = s2.d;
          st.h = s2.h;
          st.mi = s2.mi;
          st.s = s2.s;
          st.frac = s2.frac;
          st.off = s2.off;
          msg = e;
        }
        return this.finish(parseExim(line, msg, hit), EXIM);
      }
    }
  }

  private finish(v: Verdict, kind: number): Verdict {
    if (v === SUCCESS || v === FAILURE || v === TEMPFAIL) {
      this.service = PROG_SERVICE[kind]!;
      this.stamp();
    }
    return v;
  }

  private stamp(): void {
    this.hit.ts = stampTs(this.st, this.clock, this.fallbackTs);
    this.hit.tsGuessed = stampGuessed(this.st);
  }

  private resetHit(): Hit {
    clearHit(this.hit);
    return this.hit;
  }

  private owm(line: string, p: number): Verdict {
    if (!this.onOwm) return line.startsWith(' - [', p) ? IGNORED : UNPARSEABLE;
    const v = parseOpenWebMail(line, p, this.resetHit());
    if (v === SUCCESS || v === FAILURE) {
      this.service = 'openwebmail';
      this.stamp();
    }
    return v;
  }

  private apache(line: string, b: number): Verdict {
    if (!this.onApache) return IGNORED;
    const v = parseApache(line, b, this.resetHit(), this.st);
    if (v === SUCCESS || v === FAILURE) {
      this.service = 'apache';
      this.stamp();
    }
    return v;
  }

  /** `<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD...]|- MSG` */
  private rfc5424(line: string): Verdict {
    const gt = line.indexOf('>');
    if (gt < 0 || gt > 4 || line.charCodeAt(gt + 1) !== 49 || line.charCodeAt(gt + 2) !== 32) return UNPARSEABLE;
    let p = gt + 3;
    if (line.charCodeAt(p) === 45 /* - */) p += 1;
    else {
      p = isoStamp(line, p, this.st);
      if (p < 0) return UNPARSEABLE;
    }
    // HOST APP PROCID MSGID
    const tok: number[] = [];
    for (let i = 0; i < 4; i++) {
      if (line.charCodeAt(p) !== 32) return UNPARSEABLE;
      tok.push(p + 1);
      p = line.indexOf(' ', p + 1);
      if (p < 0) return UNPARSEABLE;
    }
    p++;
    // Structured data: "-" or one or more [id k="v" ...] elements ("\]" escapes a bracket).
    if (line.charCodeAt(p) === 45) p++;
    else {
      while (line.charCodeAt(p) === 91) {
        let q = p + 1;
        let inQuote = false;
        for (; q < line.length; q++) {
          const c = line.charCodeAt(q);
          if (c === 92) q++;
          else if (c === 34) inQuote = !inQuote;
          else if (c === 93 && !inQuote) break;
        }
        if (q >= line.length) return UNPARSEABLE;
        p = q + 1;
      }
    }
    if (line.charCodeAt(p) === 32) p++;
    const appStart = tok[1]!;
    const appEnd = tok[2]! - 1;
    const kind = progKind(line, appStart, appEnd);
    if (kind === PROG_NONE) return IGNORED;
    if (kind === DOVECOT) {
      // Dovecot's parser wants "component: msg"; with RFC 5424 the component is the message's own prefix.
      if (!this.on[kind]) return IGNORED;
      return this.finish(parseDovecot(line, p, this.resetHit()), DOVECOT);
    }
    // The session key of Postfix lines: `APP PROCID`.
    return this.message(line, kind, appStart, p, tok[3]! - 1);
  }
}

export { IGNORED, SUCCESS, FAILURE, UNPARSEABLE, TEMPFAIL, type Verdict };
