/**
 * The SMTP side of `smtpstrike dump`: every reassembled command and reply line, indented under the
 * packet that completed it, and what the strike engine made of it. It is the pipeline's SMTP
 * observer and its event sink, so the marks are the real StrikeEngine's (the same as `replay`).
 *
 *     C: AUTH LOGIN
 *     S: 334 VXNlcm5hbWU6
 *     C: <username: alice>
 *     S: 334 UGFzc3dvcmQ6
 *     C: ***
 *     S: 535 5.7.8 Error: authentication failed: (reason unavailable)
 *     >> STRIKE 2/3 10.200.0.2 (535, LOGIN alice)
 *
 * Once a flow is opaque (STARTTLS), one line per TLS record header, and what the inference made of
 * an application-data record from the server (src/tls): nothing is decrypted.
 *
 *     S: TLS app 79 → 535 inferred (size, timing; 501 ms)
 *
 * Credentials are never printed: the session hands over usernames only (see SmtpObserver).
 */
import type { AuthEvent, EventSink, PipelineEvent } from '../events.js';
import { BASIS_SIZE, BASIS_TIMING, type InferredOutcome } from '../tls/auth-exchange.js';
import { formatIp } from '../net/ip-text.js';
import type { Pipeline } from '../pipeline.js';
import type { FlowInfo } from '../reassembly/stream.js';
import type { AuthDataKind, SmtpObserver } from '../smtp/smtp-types.js';
import type { LocalClock } from './text.js';
import { escapeControl } from '../text/control-chars.js';

const INDENT = '    ';
/** Longest line text printed; the rest is summarised. */
const MAX_TEXT = 1000;

export class SmtpAnnotator implements SmtpObserver, EventSink {
  /** Lines produced since the last take(). */
  private lines: string[] = [];
  /** The flow of the last SMTP event, for the strike engine's events that follow it. */
  private lastFlow: FlowInfo | null = null;
  private pending: { ev: AuthEvent; flow: FlowInfo | null; rejectedBefore: number } | null = null;
  /** Whether the pipeline is inside packet() (else the decoder's fields are stale: end of input). */
  inPacket = false;
  private curPacket = -1;
  private curKey = '';
  /** Flows whose last server reply was a 334 challenge (the next client line is SASL data). */
  private readonly challenged = new Set<number>();
  /**
   * The line of the last server application-data record, while the outcomes its processing infers
   * may still come (they follow its tlsRecord call synchronously, same length and ts). -1: none.
   */
  private tlsAt = -1;
  private tlsIn: string[] | null = null;
  private tlsFlow = -1;
  private tlsLen = -1;
  private tlsTs = 0;
  private tlsText = '';
  private tlsKinds: InferredOutcome[] = [];
  private tlsBases: number[] = [];
  private tlsDelay = 0;

  constructor(
    private readonly pipeline: Pipeline,
    private readonly clock: LocalClock,
  ) {}

  /** The annotation lines of the packet just processed (or of the end of input). */
  take(): string[] {
    this.resolvePending();
    const l = this.lines;
    if (l.length) this.lines = [];
    this.tlsAt = -1; // the record's line is printed: a later outcome gets a line of its own
    this.tlsIn = null;
    return l;
  }

  // ------------------------------------------------------------------ SmtpObserver

  command(flow: FlowInfo, buf: Buffer, start: number, end: number): void {
    // The session saw no AUTH command (capture began mid-exchange, or an unusual client): SASL
    // data after a 334 challenge, or any bare base64 token, may be a credential and is not shown.
    if (this.challenged.has(flow.id)) this.add(flow, 'C: *** (AUTH data; the AUTH command was not seen)');
    else if (looksLikeSaslData(buf, start, end)) this.add(flow, 'C: *** (a base64 token, maybe a credential: not shown)');
    else this.add(flow, 'C: ' + printable(buf, start, end));
  }

  auth(flow: FlowInfo, mech: string, user: string | null, initial: boolean): void {
    let s = mech ? `C: AUTH ${escapeControl(mech)}` : 'C: AUTH';
    if (initial) {
      if (mech === 'PLAIN') s += ` ${username(user)} ***`;
      else if (mech === 'LOGIN') s += ` ${username(user)}`;
      else s += ' ***';
    }
    this.add(flow, s);
  }

  authData(flow: FlowInfo, kind: AuthDataKind, name: string | null): void {
    switch (kind) {
      case 'user':
        this.add(flow, `C: ${username(name)}`);
        break;
      case 'plain':
        this.add(flow, `C: ${username(name)} ***`);
        break;
      case 'secret':
        this.add(flow, 'C: ***');
        break;
      case 'cancel':
        this.add(flow, 'C: * (AUTH cancelled)');
        break;
    }
  }

  reply(flow: FlowInfo, buf: Buffer, start: number, end: number, cut: boolean): void {
    if (end - start >= 3 && buf[start] === 0x33 && buf[start + 1] === 0x33 && buf[start + 2] === 0x34) this.challenged.add(flow.id);
    else if (end - start < 4 || buf[start + 3] !== 0x2d) this.challenged.delete(flow.id);
    this.add(flow, 'S: ' + printable(buf, start, end) + (cut ? ' [rest of the line lost]' : ''));
  }

  gap(flow: FlowInfo, fromClient: boolean, lost: number): void {
    this.add(flow, `${fromClient ? 'C' : 'S'}: [${lost < 0 ? 'capture began mid-stream' : `gap: ${lost} bytes lost`}]`);
  }

  tlsRecord(flow: FlowInfo, fromClient: boolean, contentType: number, length: number, app: boolean, ts: number): void {
    this.add(flow, `${fromClient ? 'C' : 'S'}: TLS ${recordName(contentType, app)} ${length}`);
    this.tlsAt = -1;
    if (fromClient || !app) return;
    this.tlsAt = this.lines.length - 1;
    this.tlsIn = this.lines;
    this.tlsFlow = flow.id;
    this.tlsLen = length;
    this.tlsTs = ts;
    this.tlsText = this.lines[this.tlsAt]!;
    this.tlsKinds = [];
    this.tlsBases = [];
  }

  tlsOutcome(flow: FlowInfo, kind: InferredOutcome, basis: number, recordLen: number, delay: number, ts: number): void {
    if (this.tlsAt >= 0 && this.tlsIn === this.lines && flow.id === this.tlsFlow && recordLen === this.tlsLen && ts === this.tlsTs) {
      // The outcome of the record just printed (a coalesced record gives one call per reply).
      if (this.tlsKinds.length === 0) this.tlsDelay = delay;
      this.tlsKinds.push(kind);
      this.tlsBases.push(basis);
      this.lines[this.tlsAt] = this.tlsText + outcomeText(this.tlsKinds, this.tlsBases, this.tlsDelay);
      return;
    }
    // Not the record just printed (never seen so far): said on a line of its own, with its record's length.
    this.add(flow, `S: TLS record of ${recordLen}` + outcomeText([kind], [basis], delay));
  }

  // ------------------------------------------------------------------ EventSink

  event(ev: PipelineEvent): void {
    switch (ev.type) {
      case 'auth_failure':
      case 'auth_tempfail':
        this.resolvePending();
        this.lastFlow = this.flowOf(ev);
        this.pending = { ev, flow: this.lastFlow, rejectedBefore: this.pipeline.strikes.stats.failuresOnRejectedConnections };
        break;
      case 'auth_success':
        this.resolvePending();
        this.lastFlow = this.flowOf(ev);
        this.mark(this.lastFlow, `AUTH OK ${ev.client} (${outcomeDetail(ev)})`);
        break;
      case 'starttls':
        this.resolvePending();
        this.lastFlow = this.flowOf(ev);
        this.mark(this.lastFlow, ev.implicit ? 'OPAQUE (TLS from the first byte)' : 'OPAQUE (STARTTLS)');
        break;
      case 'connect':
        this.resolvePending();
        this.lastFlow = this.flowOf(ev);
        break;
      case 'strike': {
        const p = this.pending;
        this.pending = null;
        const why = p ? ` (${outcomeDetail(p.ev)})` : '';
        this.mark(p ? p.flow : this.lastFlow, `STRIKE ${ev.n}/${ev.hitcount} ${who(ev.client, ev.key)}${why}`);
        break;
      }
      case 'reject':
        this.resolvePending();
        this.mark(this.lastFlow, `REJECT ${who(ev.client, ev.key)} (${ev.rule}): ${ev.prefix.replace(/:$/, '')}`);
        break;
      case 'block':
        this.resolvePending();
        this.mark(
          this.lastFlow,
          `BLOCK ${who(ev.client, ev.key)} (${ev.rule}) from ${this.clock.hms(Math.floor(ev.from))} until ${this.clock.hms(Math.floor(ev.until))} (${Math.round(ev.until - ev.from)} s)`,
        );
        break;
      case 'flow_end':
        this.challenged.delete(ev.flow);
        break;
    }
  }

  /** An auth failure or tempfail that no strike followed: say why. */
  private resolvePending(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    const ev = p.ev;
    const s = this.pipeline.strikes;
    let why: string;
    if (s.opts.whitelist.has(ev.client)) why = 'whitelisted, not counted';
    else if (s.stats.failuresOnRejectedConnections > p.rejectedBefore) why = 'on a connection the rules refused, not counted';
    else if (ev.type === 'auth_tempfail') why = 'temporary failure, not a strike (--tempfail-strikes counts it)';
    else if (ev.inferred && !s.opts.inferredStrikes) why = 'inferred, not a strike (--no-inferred-strikes)';
    else if (ev.inferred && !ev.inferred.known) why = 'inferred, not a strike (the 535 size of this server is not known)';
    else why = 'not counted';
    this.mark(p.flow, `${ev.type === 'auth_tempfail' ? 'TEMPFAIL' : 'FAIL'} ${ev.client} (${outcomeDetail(ev)}): ${why}`);
  }

  // ------------------------------------------------------------------ lines

  private flowOf(ev: { flow: number; client: string; clientPort: number; server: string; serverPort: number }): FlowInfo {
    return {
      id: ev.flow,
      ipVersion: ev.client.includes(':') ? 6 : 4,
      client: ev.client,
      clientPort: ev.clientPort,
      server: ev.server,
      serverPort: ev.serverPort,
    };
  }

  private mark(flow: FlowInfo | null, text: string): void {
    this.add(flow, '>> ' + text);
  }

  /** One indented line; prefixed with its connection when it is not the current packet's. */
  private add(flow: FlowInfo | null, text: string): void {
    this.lines.push(INDENT + (flow && !this.isCurrent(flow) ? `[${flow.client}.${flow.clientPort} > ${flow.server}.${flow.serverPort}] ` : '') + text);
  }

  private isCurrent(flow: FlowInfo): boolean {
    if (!this.inPacket) return false;
    const p = this.pipeline;
    if (this.curPacket !== p.packets) {
      this.curPacket = p.packets;
      const d = p.decoder;
      const a = formatIp(d.buf, d.srcOff, d.ipVersion);
      const b = formatIp(d.buf, d.dstOff, d.ipVersion);
      this.curKey = a < b || (a === b && d.sport <= d.dport) ? `${a}|${d.sport}|${b}|${d.dport}` : `${b}|${d.dport}|${a}|${d.sport}`;
    }
    const a = flow.client;
    const b = flow.server;
    const key =
      a < b || (a === b && flow.clientPort <= flow.serverPort)
        ? `${a}|${flow.clientPort}|${b}|${flow.serverPort}`
        : `${b}|${flow.serverPort}|${a}|${flow.clientPort}`;
    return key === this.curKey;
  }
}

/** Commands that may stand alone and are made of base64 characters only. */
const BARE_VERBS = new Set(['QUIT', 'DATA', 'RSET', 'NOOP', 'HELP', 'TURN', 'ATRN', 'STARTTLS', 'EHLO', 'HELO', 'LHLO', 'AUTH', 'VRFY', 'EXPN', 'ETRN']);

/** A line of base64 characters only (no space) that is not a bare SMTP verb: what SASL data looks like. */
function looksLikeSaslData(buf: Buffer, start: number, end: number): boolean {
  if (end <= start) return false;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    const ok = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f || c === 0x3d;
    if (!ok) return false;
  }
  return !(end - start <= 8 && BARE_VERBS.has(buf.toString('latin1', start, end).toUpperCase()));
}

const RECORD_NAMES: Record<number, string> = { 20: 'change_cipher_spec', 21: 'alert', 22: 'handshake', 24: 'heartbeat' };

/** A record's content type as the line names it; type 23 before the handshake ended is TLS 1.3's encrypted handshake. */
function recordName(type: number, app: boolean): string {
  if (type === 23) return app ? 'app' : 'encrypted handshake';
  return RECORD_NAMES[type] ?? `type ${type}`;
}

const OUTCOME_CODES: Record<'failure' | 'success' | 'tempfail', string> = { failure: '535', success: '235', tempfail: '454' };

/** ` → 535 535 inferred (size; 3.1 ms)`: the outcomes of one record, what they rest on, the delay after the client's last record. */
function outcomeText(kinds: readonly InferredOutcome[], bases: readonly number[], delay: number): string {
  const codes: string[] = [];
  let ambiguous = 0;
  for (const k of kinds) {
    if (k === 'ambiguous') ambiguous++;
    else codes.push(OUTCOME_CODES[k]);
  }
  let s = ' →';
  if (codes.length) s += ` ${codes.join(' ')} inferred`;
  if (ambiguous) s += `${codes.length ? ',' : ''} ambiguous${ambiguous > 1 ? ` ×${ambiguous}` : ''}`;
  const basisTexts: string[] = [];
  for (const b of bases) {
    const t = [b & BASIS_SIZE ? 'size' : '', b & BASIS_TIMING ? 'timing' : ''].filter((x) => x).join(', ');
    if (!basisTexts.includes(t)) basisTexts.push(t);
  }
  return `${s} (${basisTexts.join(' / ')}; ${delayText(delay)})`;
}

function delayText(sec: number): string {
  if (sec >= 1) return `${sec.toFixed(2)} s`;
  const ms = sec * 1000;
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

function who(client: string, key: string): string {
  return key === client ? client : `${client} (as ${key})`;
}

function username(name: string | null): string {
  return `<username: ${name === null ? '? (not decodable)' : escapeControl(name)}>`;
}

function outcomeDetail(ev: AuthEvent): string {
  let s = String(ev.code);
  if (ev.inferred) s += ` inferred inside TLS, record ${ev.inferred.recordLen}`;
  if (ev.matched) s += ' matched --match';
  if (ev.mech) s += `, ${escapeControl(ev.mech)}`;
  if (ev.user !== null) s += ` ${escapeControl(ev.user)}`;
  return s;
}

/** Line text with anything outside printable ASCII escaped (\t, \xNN), capped. */
export function printable(buf: Buffer, start: number, end: number): string {
  const stop = Math.min(end, start + MAX_TEXT);
  let plain = true;
  for (let i = start; i < stop; i++) {
    const c = buf[i]!;
    if (c < 0x20 || c > 0x7e) {
      plain = false;
      break;
    }
  }
  let s: string;
  if (plain) s = buf.toString('latin1', start, stop);
  else {
    s = '';
    for (let i = start; i < stop; i++) {
      const c = buf[i]!;
      s += c === 9 ? '\\t' : c < 0x20 || c > 0x7e ? `\\x${c.toString(16).padStart(2, '0')}` : String.fromCharCode(c);
    }
  }
  if (end > stop) s += ` [… ${end - stop} more bytes]`;
  return s;
}
