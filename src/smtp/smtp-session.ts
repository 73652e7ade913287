import type { PacketHeader } from '../decode/packet-header.js';
import type { AuthOutcome, EventSink } from '../events.js';
import type { CloseReason, FlowInfo, StreamConsumer } from '../reassembly/stream.js';
import { OpaqueFlow } from './opaque-flow.js';
import { Mech, SessionBits } from './session-bits.js';
import { loginUsername, plainUsername } from './auth-username.js';
import { LineSplitter } from './line-splitter.js';
import { isDigit, isReplyStart, mechanismName, verbOf } from './smtp-bytes.js';
import { MatchState } from './stream-matcher.js';
import type { SmtpConfig, SmtpShared, SmtpStats, WireTap } from './smtp-types.js';

/** Lines of client auth data still expected after the AUTH command. */
const UNTIL_REPLY = 1 << 30;

/**
 * One SMTP connection seen from the wire: server replies (anchored at line start, multi-line and
 * pipelined replies), client commands (AUTH with PLAIN/LOGIN usernames, STARTTLS, DATA/BDAT bodies
 * skipped). Emits auth outcomes; a 535 inside a message body is client data and never a reply.
 */
export class SmtpSession extends SessionBits implements StreamConsumer {
  /**
   * Line splitters, made at each direction's first byte or gap: a flood of connections that never
   * send anything (or that wait behind a hole) costs no splitters.
   */
  private repliesSplitter: LineSplitter | null = null;
  private commandsSplitter: LineSplitter | null = null;
  // command state
  private mechName: string | null = null;
  private user: string | null = null;
  private authLines = 0;
  private bdatLeft = 0;
  /** Where user patterns matched in the current segment; only when there are patterns. */
  private readonly match: MatchState | null;
  /**
   * Header of the server packet that ended in the middle of a line, kept while that line waits
   * for its end: if a gap or the end of the flow cuts it, the reply is logged with this packet.
   */
  private heldHeader: PacketHeader | null = null;
  /** The TLS records and inferred AUTH outcomes of the flow once it went opaque (made then). */
  private tls: OpaqueFlow | null = null;
  /** The server's first line when it is a 220 (at most 128 bytes), for the reply sizes once opaque. */
  private banner: string | null = null;

  constructor(
    private readonly info: FlowInfo,
    private readonly shared: SmtpShared,
  ) {
    super();
    this.match = shared.config.automaton ? new MatchState() : null;
  }

  // What every session of a pipeline shares, held once (four fields a session add up at 200,000 flows).
  private get config(): SmtpConfig {
    return this.shared.config;
  }
  private get sink(): EventSink {
    return this.shared.sink;
  }
  private get tap(): WireTap {
    return this.shared.tap;
  }
  private get stats(): SmtpStats {
    return this.shared.stats;
  }

  private get replies(): LineSplitter {
    return (this.repliesSplitter ??= new LineSplitter(2048));
  }

  private get commands(): LineSplitter {
    return (this.commandsSplitter ??= new LineSplitter(16384));
  }

  connect(ts: number): void {
    const i = this.info;
    this.sink.event({
      type: 'connect',
      ts,
      flow: i.id,
      client: i.client,
      clientPort: i.clientPort,
      server: i.server,
      serverPort: i.serverPort,
      wire: this.tap.snapshot(i.client, i.server, i.clientPort, i.serverPort),
    });
  }

  data(fromClient: boolean, buf: Buffer, start: number, end: number, ts: number): void {
    if (this.opaque) {
      this.tls?.data(fromClient, buf, start, end, ts);
      return;
    }
    if (fromClient) {
      if (!this.clientSeen) {
        this.clientSeen = true;
        if (buf[start] === 0x16) {
          // TLS ClientHello record
          this.goOpaque(ts, true);
          this.tls!.data(fromClient, buf, start, end, ts);
          return;
        }
      }
      this.clientData(buf, start, end, ts);
    } else {
      if (!this.serverSeen) {
        this.serverSeen = true;
        if (buf[start] === 0x16) {
          this.goOpaque(ts, true);
          this.tls!.data(fromClient, buf, start, end, ts);
          return;
        }
      }
      this.serverData(buf, start, end, ts);
    }
  }

  gap(fromClient: boolean, lost: number, ts: number): void {
    if (this.opaque) {
      this.tls?.gap(fromClient, lost, ts);
      return;
    }
    if (this.config.observer) this.config.observer.gap(this.info, fromClient, lost, ts);
    if (fromClient) {
      this.commands.gap();
      return;
    }
    const partial = this.replies.gap();
    if (this.match) this.match.state = 0;
    // A reply line whose tail was lost still has its code: count it rather than lose a strike.
    if (partial && partial.end - partial.start >= 4 && isReplyStart(partial.buf, partial.start, partial.end)) {
      this.stats.partialReplies++;
      this.replyLine(partial.buf, partial.start, partial.end, ts, true);
    }
  }

  close(reason: CloseReason, ts: number): void {
    if (!this.opaque) {
      const p = this.repliesSplitter?.takePartial() ?? null;
      // A final reply line without its CRLF (capture ended right after it) still counts.
      if (p && p.end - p.start >= 4 && isReplyStart(p.buf, p.start, p.end)) this.replyLine(p.buf, p.start, p.end, ts, true);
    }
    this.stats.longLines += (this.repliesSplitter?.longLines ?? 0) + (this.commandsSplitter?.longLines ?? 0);
    this.repliesSplitter?.release();
    this.commandsSplitter?.release();
    this.heldHeader = null;
    this.tls?.close();
    this.tls = null;
    const i = this.info;
    this.sink.event({ type: 'flow_end', ts, flow: i.id, client: i.client, clientPort: i.clientPort, server: i.server, serverPort: i.serverPort, reason });
  }

  // ---------------------------------------------------------------- server side

  private serverData(buf: Buffer, start: number, end: number, ts: number): void {
    const r = this.replies;
    // Servers write each reply in its own segment(s): after a gap, a segment that begins like a
    // reply line is taken as one instead of being dropped up to the next line break.
    if (r.resyncing && isReplyStart(buf, start, end)) r.lineStartsHere();
    const m = this.match;
    if (m) {
      m.count = 0;
      m.pos = 0;
      m.state = this.config.automaton!.run(m.state, buf, start, end, m.onMatch);
    }
    for (let p = start; (p = r.next(buf, p, end)) >= 0;) {
      if (m && m.count > m.pos && m.ends[m.pos]! <= p) {
        while (m.pos < m.count && m.ends[m.pos]! <= p) m.pos++;
        this.replyMatched = true;
      }
      this.replyLine(r.lineBuf, r.lineStart, r.lineEnd, ts);
      if (this.opaque) return;
    }
    if (m && m.pos < m.count) this.replyMatched = true; // a match inside the line still open
    this.heldHeader = r.partialLength > 0 ? this.tap.keepHeader() : null;
  }

  private replyLine(buf: Buffer, s: number, e: number, ts: number, cut = false): void {
    if (this.config.observer) this.config.observer.reply(this.info, buf, s, e, cut, ts);
    if (!this.greeted) {
      // One string per session, only when the sizes may depend on the banner (src/tls/reply-profiles.ts).
      this.greeted = true;
      if (e - s >= 4 && buf[s] === 50 && buf[s + 1] === 50 && buf[s + 2] === 48 && this.config.replies.needsBanner) {
        this.banner = buf.toString('latin1', s, Math.min(e, s + 128));
      }
    }
    if (e - s < 3 || !isDigit(buf[s]!) || !isDigit(buf[s + 1]!) || !isDigit(buf[s + 2]!)) {
      this.stats.malformedReplies++;
      this.replyMatched = false;
      return;
    }
    const code = (buf[s]! - 48) * 100 + (buf[s + 1]! - 48) * 10 + (buf[s + 2]! - 48);
    const sep = e - s > 3 ? buf[s + 3]! : 32;
    if (sep === 45) {
      // '-': more lines follow
      if (this.multiCode < 0) this.multiCode = code;
      return;
    }
    if (sep !== 32 && sep !== 13 && sep !== 9) {
      this.stats.malformedReplies++;
      this.replyMatched = false;
      return;
    }
    this.multiCode = -1;
    const matched = this.replyMatched;
    this.replyMatched = false;
    this.reply(code, matched, buf, s, e, ts, cut);
  }

  private reply(code: number, matched: boolean, buf: Buffer, s: number, e: number, ts: number, cut: boolean): void {
    if (this.startTlsPending) {
      this.startTlsPending = false;
      if (code === 220) return this.goOpaque(ts, false);
    }
    if (this.dataPending) {
      this.dataPending = false;
      if (code === 354) {
        this.inBody = true;
        this.bodyState = 0;
      } else this.inBody = false;
    } else if (this.inBody) {
      // The server only answers after the end of the body: if we missed the final dot, stop here.
      this.inBody = false;
    }
    if (code === 334) return;
    let outcome: AuthOutcome | null = null;
    if (code === 535 || matched) outcome = 'auth_failure';
    else if (code === 235) outcome = 'auth_success';
    else if (code === 454 && this.authPending) outcome = 'auth_tempfail';
    if (outcome) this.emitAuth(outcome, code, matched && code !== 535, buf, s, e, ts, cut);
    if (outcome || (this.authPending && code >= 400)) this.endAuth();
  }

  /** `cut`: the line lost its end (gap, end of flow); its bytes came with an earlier packet. */
  private emitAuth(type: AuthOutcome, code: number, matched: boolean, buf: Buffer, s: number, e: number, ts: number, cut: boolean): void {
    const i = this.info;
    const h = cut ? this.heldHeader : null;
    this.sink.event({
      type,
      ts,
      flow: i.id,
      client: i.client,
      clientPort: i.clientPort,
      server: i.server,
      serverPort: i.serverPort,
      code,
      mech: this.authPending ? this.mechName : null,
      user: this.authPending ? this.user : null,
      text: buf.toString('latin1', s, Math.min(e, s + 200)),
      matched,
      inferred: null,
      wire: h ? this.tap.snapshotOf(h, i.server, i.client, i.serverPort, i.clientPort) : this.tap.snapshot(i.server, i.client, i.serverPort, i.clientPort),
    });
  }

  private endAuth(): void {
    this.authPending = false;
    this.authLines = 0;
    this.needUser = false;
    this.mech = Mech.None;
    this.mechName = null;
    this.user = null;
  }

  private goOpaque(ts: number, implicit: boolean): void {
    this.opaque = true;
    this.stats.opaqueFlows++;
    this.tls = new OpaqueFlow(this.info, this.shared, this.banner);
    this.banner = null;
    const i = this.info;
    this.sink.event({ type: 'starttls', ts, flow: i.id, client: i.client, clientPort: i.clientPort, server: i.server, serverPort: i.serverPort, implicit });
  }

  // ---------------------------------------------------------------- client side

  private clientData(buf: Buffer, start: number, end: number, ts: number): void {
    const c = this.commands;
    let p = start;
    while (p < end) {
      if (this.bdatLeft > 0) {
        const n = Math.min(this.bdatLeft, end - p);
        this.bdatLeft -= n;
        p += n;
        continue;
      }
      if (this.inBody) {
        p = this.skipBody(buf, p, end);
        continue;
      }
      const next = c.next(buf, p, end);
      if (next < 0) return;
      this.commandLine(c.lineBuf, c.lineStart, c.lineEnd, ts);
      p = next;
    }
  }

  /** Consumes message body bytes up to and including the `CRLF.CRLF` that ends it. */
  private skipBody(buf: Buffer, p: number, end: number): number {
    let st = this.bodyState;
    while (p < end) {
      const b = buf[p++]!;
      if (st === 3) {
        // Inside a line: jump to its end.
        const lf = buf.indexOf(10, p - 1);
        if (lf < 0 || lf >= end) {
          p = end;
          break;
        }
        p = lf + 1;
        st = 0;
        continue;
      }
      if (b === 10) {
        if (st === 1 || st === 2) {
          this.inBody = false;
          this.bodyState = 0;
          return p;
        }
        st = 0;
      } else if (st === 0 && b === 46) st = 1;
      else if (st === 1 && b === 13) st = 2;
      else st = 3;
    }
    this.bodyState = st;
    return p;
  }

  private commandLine(buf: Buffer, s: number, e: number, ts: number): void {
    const o = this.config.observer;
    if (this.authLines > 0) {
      this.authLines--;
      if (e - s === 1 && buf[s] === 42) {
        // '*' cancels the exchange
        this.authLines = 0;
        if (o) o.authData(this.info, 'cancel', null, ts);
        return;
      }
      if (this.needUser) {
        this.needUser = false;
        this.user = this.mech === Mech.Plain ? plainUsername(buf, s, e) : loginUsername(buf, s, e);
        if (o) o.authData(this.info, this.mech === Mech.Plain ? 'plain' : 'user', this.user, ts);
        return;
      }
      if (o) o.authData(this.info, 'secret', null, ts);
      return; // a password line or other mechanism data: never looked at
    }
    const verb = verbOf(buf, s, e);
    if (verb === 'AUTH') {
      this.authCommand(buf, s + 5, e);
      if (o) o.auth(this.info, this.mechName ?? '', this.user, this.authInitial, ts);
      return;
    }
    if (o) o.command(this.info, buf, s, e, ts);
    if (verb === 'STARTTLS') this.startTlsPending = true;
    else if (verb === 'DATA') this.dataPending = true;
    else if (verb === 'BDAT') {
      const n = parseInt(buf.toString('latin1', s + 5, Math.min(e, s + 30)), 10);
      if (n > 0) this.bdatLeft = n;
    }
  }

  private authCommand(buf: Buffer, s: number, e: number): void {
    let m = s;
    while (m < e && buf[m] !== 32) m++;
    const name = mechanismName(buf, s, m);
    let r = m;
    while (r < e && buf[r] === 32) r++;
    const initial = r < e;
    this.authInitial = initial && !(e - r === 1 && buf[r] === 61); // '=': an empty initial response
    this.authPending = true;
    this.mechName = name || null;
    this.user = null;
    this.needUser = false;
    if (name === 'PLAIN') {
      this.mech = Mech.Plain;
      if (initial && !(e - r === 1 && buf[r] === 61)) this.user = plainUsername(buf, r, e);
      else {
        this.needUser = true;
        this.authLines = 1;
      }
    } else if (name === 'LOGIN') {
      this.mech = Mech.Login;
      if (initial) {
        this.user = loginUsername(buf, r, e);
        this.authLines = 1;
      } else {
        this.needUser = true;
        this.authLines = 2;
      }
    } else {
      // Other mechanisms (CRAM-MD5, NTLM, XOAUTH2 …): reported by name; their data is skipped
      // until the server's final reply.
      this.mech = Mech.Other;
      this.authLines = UNTIL_REPLY;
    }
  }
}
