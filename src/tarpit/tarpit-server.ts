/**
 * The decoy SMTP server (issue 14): what a blocked address redirected here talks to. It greets and
 * answers slowly, paced at `rate` bytes per second; EHLO offers AUTH PLAIN LOGIN and STARTTLS (a
 * self-signed certificate made at start); commands get 451 lines; AUTH is answered 535 or, at
 * `decoyRate`, a decoy 235, after which MAIL/RCPT/DATA still get 451. No mail is ever accepted.
 *
 * Safety: a password is never decoded, stored or printed (PLAIN is decoded only up to the username,
 * src/smtp/auth-username.ts; LOGIN's password line is dropped unread). Bounds: connections in
 * total and per address, a lifetime and an idle timeout, input lines of at most `maxLine` bytes (a
 * longer one is discarded as it arrives, never buffered), at most MAX_QUEUED replies owed per
 * connection (then the socket is paused: the kernel's buffers, not ours, hold what the client
 * pipelines), at most MAX_USERNAMES usernames per session. One pacing timer serves every
 * connection (not one per byte or per connection), and one sweep timer the lifetimes.
 *
 * Why node's `net` and not nodemailer's smtp-server: native-notes/tarpit.md.
 */
import type { Server, Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { loginUsername, plainUsername } from '../smtp/auth-username.js';
import { escapeControl } from '../text/control-chars.js';
import { tarpitLine } from './tarpit-lines.js';
import type { TarpitConfig, TarpitEnd, TarpitEvent } from './tarpit-types.js';
import { clientAddress, Conn } from './tarpit-conn.js';

/** Replies owed to one connection before its socket is paused. */
export const MAX_QUEUED = 4;
/** Usernames kept per session (more are counted in usernames_dropped). */
export const MAX_USERNAMES = 16;
/** The pacing timer's period. */
const PACE_MS = 100;
/** The lifetime / idle sweep's period. */
const SWEEP_MS = 1000;

/** mulberry32: a small seedable RNG (tests give a seed and get exact decoy choices). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const crlf = (s: string): Buffer => Buffer.from(`${s}\r\n`, 'latin1');

export class TarpitServer {
  private readonly conns = new Set<Conn>();
  private readonly perAddress = new Map<string, number>();
  /** Connections with replies owed (the pacing timer's work list). */
  private readonly sending = new Set<Conn>();
  private paceTimer: NodeJS.Timeout | null = null;
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly rng: () => number;
  private readonly lines: Buffer[];
  private readonly greeting: Buffer;
  private readonly servers: Server[] = [];
  private closing = false;
  /** Sessions ended, connections refused (by reason), for tests and the stats. */
  readonly counts = { sessions: 0, refusedTotal: 0, refusedPerAddress: 0, longLines: 0 };

  constructor(
    private readonly cfg: TarpitConfig,
    private readonly emit: (ev: TarpitEvent) => void,
    private readonly tls: SecureContext | null,
  ) {
    this.rng = seededRandom(cfg.seed ?? Math.floor(Math.random() * 2 ** 32));
    const texts = cfg.lines.length > 0 ? cfg.lines : ['451 4.3.0 Try again later'];
    this.lines = texts.map((t) => crlf(tarpitLine(t)));
    this.greeting = crlf(`220 ${cfg.hostname} ESMTP`);
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweepTimer.unref();
  }

  get connections(): number {
    return this.conns.size;
  }

  /** Bytes held in partial input lines, all connections (a slowloris client cannot grow it past maxLine each). */
  get bufferedInput(): number {
    let n = 0;
    for (const c of this.conns) n += c.line?.length ?? 0;
    return n;
  }

  /** Serves the connections of a listening server (the handle watch passed over). */
  serve(server: Server): void {
    this.servers.push(server);
    server.on('connection', (s: Socket) => this.accept(s));
  }

  accept(raw: Socket): void {
    const client = clientAddress(raw.remoteAddress);
    if (this.closing) {
      raw.destroy();
      return;
    }
    const reason = this.conns.size >= this.cfg.maxConnections ? 'total' : (this.perAddress.get(client) ?? 0) >= this.cfg.perAddress ? 'per_address' : null;
    if (reason) {
      // Closed at once: the refused client costs one accept and one event.
      raw.on('error', () => undefined);
      raw.resetAndDestroy();
      if (reason === 'total') this.counts.refusedTotal++;
      else this.counts.refusedPerAddress++;
      this.emit({ event: 'tarpit_refused', client, reason });
      return;
    }
    const c = new Conn(raw, this);
    this.conns.add(c);
    this.perAddress.set(client, (this.perAddress.get(client) ?? 0) + 1);
    raw.setNoDelay(true);
    raw.on('data', c.onData);
    raw.on('error', () => this.finish(c, 'error'));
    raw.on('close', () => this.finish(c, 'closed'));
    raw.on('drain', () => (c.blocked = false));
    this.reply(c, this.greeting);
  }

  /** Bytes from the client: split into lines of at most maxLine, longer ones dropped. */
  input(c: Conn, chunk: Buffer): void {
    if (c.ended) return;
    c.bytesIn += chunk.length;
    c.lastActive = Date.now();
    const max = this.cfg.maxLine;
    let p = 0;
    while (p < chunk.length) {
      if (c.state === 'tls-wait' || c.state === 'done') return; // after STARTTLS or QUIT: nothing more is read in clear
      const nl = chunk.indexOf(10, p);
      const end = nl < 0 ? chunk.length : nl;
      if (c.discarding) {
        if (nl >= 0) c.discarding = false;
        p = end + 1;
        continue;
      }
      if (c.lineLen + (end - p) > max) {
        // Too long: dropped, whatever has been kept of it wiped; the rest goes unread up to its newline.
        c.line?.fill(0, 0, c.lineLen);
        c.lineLen = 0;
        c.discarding = nl < 0;
        this.counts.longLines++;
        p = end + 1;
        continue;
      }
      if (nl < 0) {
        c.line ??= Buffer.alloc(max);
        chunk.copy(c.line, c.lineLen, p, end);
        c.lineLen += end - p;
        return;
      }
      let line: Buffer;
      if (c.lineLen === 0) line = chunk.subarray(p, end);
      else {
        chunk.copy(c.line!, c.lineLen, p, end);
        line = c.line!.subarray(0, c.lineLen + (end - p));
      }
      c.lineLen = 0;
      let len = line.length;
      if (len > 0 && line[len - 1] === 13) len--;
      this.onLine(c, line, len);
      if (line.buffer === c.line?.buffer) c.line.fill(0, 0, line.length); // a PLAIN or LOGIN line held there is wiped
      p = nl + 1;
      if (c.queue.length >= MAX_QUEUED && !c.ended) c.stream.pause(); // resumed when a reply is sent
    }
  }

  private onLine(c: Conn, b: Buffer, len: number): void {
    switch (c.state) {
      case 'plain':
        c.state = 'cmd';
        if (len === 1 && b[0] === 42) return this.reply(c, crlf('501 5.7.0 Authentication aborted'));
        this.username(c, plainUsername(b, 0, len));
        return this.authAnswer(c);
      case 'login-user':
        if (len === 1 && b[0] === 42) {
          c.state = 'cmd';
          return this.reply(c, crlf('501 5.7.0 Authentication aborted'));
        }
        this.username(c, loginUsername(b, 0, len));
        c.state = 'login-pass';
        return this.reply(c, crlf('334 UGFzc3dvcmQ6'));
      case 'login-pass':
        // The password line: not looked at, not kept (the caller wipes the buffer it was in).
        c.state = 'cmd';
        return this.authAnswer(c);
      case 'cmd':
        break;
      default:
        return;
    }
    c.commands++;
    const sp = b.indexOf(32);
    const verbEnd = sp < 0 || sp > len ? len : sp;
    const verb = b.toString('latin1', 0, Math.min(verbEnd, 16)).toUpperCase();
    switch (verb) {
      case 'EHLO': {
        const ext = ['PIPELINING', 'SIZE 10240000', 'AUTH PLAIN LOGIN', ...(this.tls && !c.starttls ? ['STARTTLS'] : []), '8BITMIME'];
        const text = [this.cfg.hostname, ...ext].map((e, i, a) => `250${i === a.length - 1 ? ' ' : '-'}${e}`).join('\r\n');
        return this.reply(c, crlf(text));
      }
      case 'HELO':
        return this.reply(c, crlf(`250 ${this.cfg.hostname}`));
      case 'QUIT':
        c.state = 'done';
        c.after = 'close';
        return this.reply(c, crlf('221 2.0.0 Bye'));
      case 'STARTTLS':
        if (!this.tls || c.starttls) return this.reply(c, crlf('454 4.7.0 TLS not available'));
        c.state = 'tls-wait';
        c.after = 'tls';
        return this.reply(c, crlf('220 2.0.0 Ready to start TLS'));
      case 'AUTH':
        return this.auth(c, b, verbEnd, len);
      default:
        // MAIL, RCPT, DATA, and everything else, before or after a decoy 235: a 451 line.
        return this.reply(c, this.lines[Math.floor(this.rng() * this.lines.length)]!);
    }
  }

  private auth(c: Conn, b: Buffer, from: number, len: number): void {
    if (c.authed) return this.reply(c, crlf('503 5.5.1 Already authenticated'));
    let p = from;
    while (p < len && b[p] === 32) p++;
    let q = p;
    while (q < len && b[q] !== 32) q++;
    const mech = b.toString('latin1', p, Math.min(q, p + 16)).toUpperCase();
    let r = q;
    while (r < len && b[r] === 32) r++;
    const hasInitial = r < len;
    if (mech === 'PLAIN') {
      if (!hasInitial) {
        c.state = 'plain';
        return this.reply(c, crlf('334 '));
      }
      if (len - r === 1 && b[r] === 61) {
        this.username(c, null); // "=": an empty response
      } else this.username(c, plainUsername(b, r, len));
      return this.authAnswer(c);
    }
    if (mech === 'LOGIN') {
      if (!hasInitial) {
        c.state = 'login-user';
        return this.reply(c, crlf('334 VXNlcm5hbWU6'));
      }
      this.username(c, loginUsername(b, r, len));
      c.state = 'login-pass';
      return this.reply(c, crlf('334 UGFzc3dvcmQ6'));
    }
    return this.reply(c, crlf('504 5.5.4 Unrecognized authentication type'));
  }

  private username(c: Conn, name: string | null): void {
    if (name === null || name === '') return;
    if (c.usernames.length < MAX_USERNAMES) c.usernames.push(escapeControl(name));
    else c.usernamesDropped++;
  }

  private authAnswer(c: Conn): void {
    c.authAttempts++;
    if (this.cfg.decoyRate > 0 && this.rng() < this.cfg.decoyRate) {
      c.decoys++;
      c.authed = true;
      return this.reply(c, crlf('235 2.7.0 Authentication successful'));
    }
    return this.reply(c, crlf('535 5.7.8 Error: authentication failed: authentication failure'));
  }

  private reply(c: Conn, b: Buffer): void {
    if (c.ended) return;
    c.queue.push(b);
    if (!this.sending.has(c)) {
      this.sending.add(c);
      c.credit = 0;
    }
    if (!this.paceTimer) this.paceTimer = setInterval(() => this.pace(), PACE_MS);
  }

  /** The one pacing timer: each connection owed a reply gets rate × period bytes of it. */
  private pace(): void {
    const per = (this.cfg.rate * PACE_MS) / 1000;
    for (const c of this.sending) {
      if (c.ended) {
        this.sending.delete(c);
        continue;
      }
      if (c.blocked) continue;
      c.credit += per;
      let n = Math.floor(c.credit);
      while (n > 0 && c.queue.length > 0) {
        const head = c.queue[0]!;
        const k = Math.min(n, head.length - c.off);
        const ok = c.stream.write(head.subarray(c.off, c.off + k));
        c.bytesOut += k;
        c.credit -= k;
        n -= k;
        c.off += k;
        if (c.off >= head.length) {
          c.queue.shift();
          c.off = 0;
          if (c.queue.length < MAX_QUEUED && c.state !== 'tls-wait' && c.state !== 'done') c.stream.resume();
        }
        if (!ok) {
          c.blocked = true;
          break;
        }
      }
      if (c.queue.length === 0) {
        this.sending.delete(c);
        c.credit = 0;
        c.lastActive = Date.now();
        if (c.after === 'close') {
          c.endReason = 'quit';
          c.stream.end();
          c.raw.destroySoon();
        } else if (c.after === 'tls') this.startTls(c);
      }
    }
    if (this.sending.size === 0 && this.paceTimer) {
      clearInterval(this.paceTimer);
      this.paceTimer = null;
    }
  }

  private startTls(c: Conn): void {
    c.after = null;
    const raw = c.raw;
    raw.removeListener('data', c.onData);
    c.line?.fill(0);
    c.lineLen = 0;
    c.discarding = false;
    const t = new TLSSocket(raw, { isServer: true, secureContext: this.tls! });
    t.on('data', c.onData);
    t.on('error', () => this.finish(c, 'error'));
    t.on('drain', () => (c.blocked = false));
    c.stream = t;
    c.starttls = true;
    c.state = 'cmd';
    c.authed = false;
    raw.resume();
  }

  /** Lifetimes and idle connections (one timer for all). */
  private sweep(): void {
    const now = Date.now();
    for (const c of this.conns) {
      if (now - c.started >= this.cfg.lifetimeSec * 1000) this.drop(c, 'lifetime');
      else if (!this.sending.has(c) && now - c.lastActive >= this.cfg.idleSec * 1000) this.drop(c, 'idle');
    }
  }

  private drop(c: Conn, why: TarpitEnd): void {
    c.endReason ??= why;
    c.raw.destroy();
    this.finish(c, why);
  }

  private finish(c: Conn, why: TarpitEnd): void {
    if (c.ended) return;
    c.ended = true;
    c.state = 'done';
    const end = c.endReason ?? why;
    this.conns.delete(c);
    this.sending.delete(c);
    const n = (this.perAddress.get(c.client) ?? 1) - 1;
    if (n <= 0) this.perAddress.delete(c.client);
    else this.perAddress.set(c.client, n);
    c.line = null;
    c.queue.length = 0;
    if (!c.raw.destroyed) c.raw.destroy();
    this.counts.sessions++;
    this.emit({
      event: 'tarpit_session',
      client: c.client,
      client_port: c.clientPort,
      local_port: c.localPort,
      started: c.started / 1000,
      held_s: (Date.now() - c.started) / 1000,
      bytes_in: c.bytesIn,
      bytes_out: c.bytesOut,
      commands: c.commands,
      auth_attempts: c.authAttempts,
      decoy_successes: c.decoys,
      usernames: c.usernames,
      usernames_dropped: c.usernamesDropped,
      starttls: c.starttls,
      end,
    });
  }

  /** Stops accepting and ends every connection (`end: 'shutdown'`). */
  close(): void {
    this.closing = true;
    for (const s of this.servers) s.close();
    for (const c of [...this.conns]) this.drop(c, 'shutdown');
    clearInterval(this.sweepTimer);
    if (this.paceTimer) clearInterval(this.paceTimer);
    this.paceTimer = null;
  }
}
