/**
 * The AUTH exchange of one opaque session, followed over its application-data records only: EHLO,
 * AUTH, credentials, outcome. Every server record is paired with the client record(s) before it
 * (SMTP is request/reply; a server record with no client record since the last one is unsolicited:
 * a TLS 1.3 NewSessionTicket, an implicit-TLS greeting) and classified by its length only where an
 * outcome can stand:
 *  - the reply to a command while no other reply came since EHLO or the last outcome (AUTH PLAIN
 *    with an initial response, a 454 to the AUTH command itself, pipelined AUTHs),
 *  - the reply after one or more 334 challenges (LOGIN, PLAIN without initial response, other
 *    mechanisms by position).
 * Never classified: client records, the EHLO reply, unsolicited records, anything after a success
 * (354 and `250 … queued` have the size of a 235 on Postfix). A record that is the sum of several
 * known replies (pipelining) is decomposed only when exactly one combination fits. Timing (packet
 * time from the last client record) confirms or contradicts a size, and alone classifies the end
 * of an exchange known to be an AUTH (after a 334) whose size is unknown, as a failure or tempfail.
 */
import { ContentType, type TlsRecordSink } from './record-tracker.js';
import { distinctSizes, recordLength, type RecordOverhead, type ReplySizes } from './record-size.js';

export type InferredOutcome = 'failure' | 'success' | 'tempfail' | 'ambiguous';

/** What an outcome rests on, as bits: the record's size, the reply's delay, or both. */
export const BASIS_SIZE = 1;
export const BASIS_TIMING = 2;

export function basisNames(basis: number): ('tls-size' | 'tls-timing')[] {
  const out: ('tls-size' | 'tls-timing')[] = [];
  if (basis & BASIS_SIZE) out.push('tls-size');
  if (basis & BASIS_TIMING) out.push('tls-timing');
  return out;
}

/**
 * Delays (seconds, from the client's last record to the reply) that tell outcomes apart. Measured
 * on Postfix + Dovecot: a 535 124-505 ms after the credentials with `auth_failure_delay = 0`,
 * 1.5-5.5 s with the defaults; a 235 within 5 ms; a 454 at 10.0 s under the per-IP penalty.
 * Between the bands nothing is said.
 */
export interface TimingModel {
  readonly successMax: number;
  readonly failureMin: number;
  readonly failureMax: number;
  readonly tempfailMin: number;
}

export const DOVECOT_TIMING: TimingModel = { successMax: 0.02, failureMin: 0.1, failureMax: 9, tempfailMin: 9.5 };

export interface AuthExchangeOptions {
  readonly sizes: ReplySizes;
  readonly overhead: RecordOverhead;
  /** Null: sizes only. */
  readonly timing: TimingModel | null;
}

export interface AuthOutcomeSink {
  /**
   * One inferred outcome. A decomposed record yields one call per reply it holds, with the same
   * `recordLen` and `ts`. `delay`: seconds since the client's last record.
   */
  outcome(kind: InferredOutcome, basis: number, recordLen: number, delay: number, ts: number): void;
}

const enum Phase {
  /** No client data record yet (server records now are tickets or an implicit-TLS greeting). */
  Greeting,
  /** The client sent its first record (EHLO); the next reply is the EHLO reply. */
  Ehlo,
  /** Between commands. */
  Command,
  /** A 334 came: the exchange in progress is an AUTH. */
  InAuth,
  /** A 235 came: nothing after it is an outcome. */
  Authenticated,
  /** 221 seen, or the records were lost: position unknown, nothing more is classified. */
  Done,
}

/** Most replies one record is taken to hold when decomposing (pipelined AUTHs + QUIT). */
const MAX_COALESCED = 8;

export class AuthExchange implements TlsRecordSink {
  private phase = Phase.Greeting;
  /** A client record came since the last server record. */
  private clientSpoke = false;
  private lastClientTs = 0;
  /** A reply that is not an AUTH reply came since EHLO or the last outcome: not an AUTH position. */
  private offPath = false;
  /**
   * The last server record held the outcome(s) of an AUTH command (not of SASL data after a 334):
   * a server record with no client record since may be the next reply of a pipelined group.
   */
  private pipelineNext = false;
  // The last decomposition (fields, not an object: no allocation per record).
  private solFailures = 0;
  private solTempfails = 0;
  private solSuccess = 0;
  private solQuit = 0;

  failures = 0;
  successes = 0;
  tempfails = 0;
  ambiguous = 0;
  /** 334 challenges recognised by size (tells that this overhead fits the session). */
  challenges = 0;
  /** AUTH exchanges (known by a 334) that ended with a record neither size nor timing explains. */
  unclassified = 0;
  /** Server records with no client record before them (tickets, greetings, split replies). */
  unsolicited = 0;
  /** The record stream was lost (a gap): what follows is not classified. */
  streamLost = false;

  /** The server's sizes minus those that collide under this overhead (`distinctSizes`). */
  private readonly sizes: ReplySizes;

  constructor(
    private readonly opts: AuthExchangeOptions,
    private readonly out: AuthOutcomeSink,
  ) {
    this.sizes = distinctSizes(opts.sizes, opts.overhead);
  }

  record(fromClient: boolean, type: number, _version: number, length: number, app: boolean, ts: number): void {
    if (!app || type !== ContentType.ApplicationData) return;
    if (fromClient) {
      this.clientSpoke = true;
      this.lastClientTs = ts;
      if (this.phase === Phase.Greeting) this.phase = Phase.Ehlo;
      return;
    }
    if (!this.clientSpoke) {
      // RFC 2920 lets a server answer a pipelined group in several writes, and Exim does: one
      // record per reply (pcaps/tls/exim-tls13: AUTH PLAIN ×3 + QUIT in one client record, four
      // server records). Right after an AUTH command's outcome, the next server record is read
      // as the next reply of that group; anywhere else it stays unsolicited (tickets, greetings).
      if (this.pipelineNext) return this.serverReply(length, ts - this.lastClientTs, ts);
      this.unsolicited++;
      return;
    }
    this.clientSpoke = false;
    this.serverReply(length, ts - this.lastClientTs, ts);
  }

  lost(_fromClient: boolean, _ts: number): void {
    this.streamLost = true;
    this.phase = Phase.Done;
  }

  /** Where we are after a gap is not known; the stream stays `Done`. */
  resynced(_fromClient: boolean, _ts: number): void {}

  private serverReply(len: number, delay: number, ts: number): void {
    this.pipelineNext = false;
    switch (this.phase) {
      case Phase.Ehlo:
        this.phase = Phase.Command;
        return;
      case Phase.Command:
      case Phase.InAuth:
        break;
      default:
        return; // Greeting cannot have a client record; Authenticated and Done classify nothing
    }
    const o = this.opts;
    if (this.sizes.challenge !== null && len === recordLength(o.overhead, this.sizes.challenge)) {
      this.challenges++;
      this.phase = Phase.InAuth;
      this.offPath = false;
      return;
    }
    const inAuth = this.phase === Phase.InAuth;
    // After a 334 the client sent SASL data, not commands: one reply answers it (RFC 4954 lets
    // only an AUTH with an initial response be pipelined). Under CBC this matters: a 535 (62) and
    // 235 + 221 (52) fill the same 100-byte record.
    let fits = this.decompose(len, inAuth, null);
    let timed = false;
    if (fits > 1 && !(this.offPath && !inAuth)) {
      // Several readings (CBC: a 535 and 235 + 221 both fill 100 bytes): the delay may rule out
      // all but one — a success comes within milliseconds, a 535 or 454 only after Dovecot's delay.
      const t = this.byTiming(delay);
      if (t !== null && this.decompose(len, inAuth, t) === 1) {
        fits = 1;
        timed = true;
      }
    }
    if (fits === 0) {
      if (inAuth) {
        // Known to end an AUTH exchange: timing alone may tell a failure (or a penalty 454). Not
        // a success: a quick reply of unknown size is as likely a 501 (cancelled with `*`,
        // undecodable base64) as a 235.
        const t = this.byTiming(delay);
        if (t !== null && t !== 'success') this.emit(t, BASIS_TIMING, len, delay, ts);
        else this.unclassified++;
        this.phase = Phase.Command;
      } else this.offPath = true; // another command's reply (MAIL, RSET, NOOP …)
      return;
    }
    if (fits > 1 || (this.offPath && !inAuth)) {
      // Either several combinations fit, or the size fits where no AUTH stands: never counted.
      this.emit('ambiguous', BASIS_SIZE, len, delay, ts);
      if (inAuth) this.phase = Phase.Command;
      return;
    }
    const single = this.solFailures + this.solTempfails + this.solSuccess === 1;
    for (let i = 0; i < this.solFailures; i++) this.sized('failure', single, timed, len, delay, ts);
    for (let i = 0; i < this.solTempfails; i++) this.sized('tempfail', single, timed, len, delay, ts);
    if (this.solSuccess) this.sized('success', single, timed, len, delay, ts);
    this.offPath = false;
    this.phase = this.solQuit ? Phase.Done : this.solSuccess ? Phase.Authenticated : Phase.Command;
    this.pipelineNext = !inAuth && this.phase === Phase.Command;
  }

  /**
   * An outcome found by size; a single reply's delay may confirm it or contradict it. `timed`: the
   * delay already chose this reading among several sizes.
   */
  private sized(kind: 'failure' | 'success' | 'tempfail', single: boolean, timed: boolean, len: number, delay: number, ts: number): void {
    if (timed) return this.emit(kind, BASIS_SIZE | BASIS_TIMING, len, delay, ts);
    const t = single ? this.byTiming(delay) : null;
    if (t === null) this.emit(kind, BASIS_SIZE, len, delay, ts);
    else if (t === kind) this.emit(kind, BASIS_SIZE | BASIS_TIMING, len, delay, ts);
    else this.emit('ambiguous', BASIS_SIZE | BASIS_TIMING, len, delay, ts);
  }

  private byTiming(delay: number): 'failure' | 'success' | 'tempfail' | null {
    const t = this.opts.timing;
    if (!t) return null;
    if (delay <= t.successMax) return 'success';
    if (delay >= t.failureMin && delay <= t.failureMax) return 'failure';
    if (delay >= t.tempfailMin) return 'tempfail';
    return null;
  }

  private emit(kind: InferredOutcome, basis: number, len: number, delay: number, ts: number): void {
    if (kind === 'failure') this.failures++;
    else if (kind === 'success') this.successes++;
    else if (kind === 'tempfail') this.tempfails++;
    else this.ambiguous++;
    this.out.outcome(kind, basis, len, delay, ts);
  }

  /**
   * How many combinations of known replies — failures and tempfails, then at most one success
   * (a second AUTH after it is refused), then at most one 221 — fill a record of `len` bytes.
   * The first one found is left in the sol* fields. At least one outcome per combination;
   * `single`: exactly one outcome and no 221. `timing`: only combinations that delay allows.
   */
  private decompose(len: number, single: boolean, timing: 'failure' | 'success' | 'tempfail' | null): number {
    const s = this.sizes;
    const ov = this.opts.overhead;
    const most = single ? 1 : MAX_COALESCED;
    const maxF = s.failure === null ? 0 : most;
    const maxT = s.tempfail === null ? 0 : most;
    const maxS = s.success === null ? 0 : 1;
    const maxQ = s.quit === null || single ? 0 : 1;
    let fits = 0;
    for (let f = 0; f <= maxF; f++) {
      for (let t = 0; t <= maxT && f + t <= most; t++) {
        for (let k = 0; k <= maxS && f + t + k <= most; k++) {
          if (f + t + k === 0) continue;
          // A delay keeps only readings made of what it says: quick → success only; in the
          // failure (tempfail) band → no success and at least one 535 (454).
          if (timing !== null && !(timing === 'success' ? f + t === 0 : k === 0 && (timing === 'failure' ? f : t) > 0)) continue;
          for (let q = 0; q <= maxQ; q++) {
            const plain = f * (s.failure ?? 0) + t * (s.tempfail ?? 0) + k * (s.success ?? 0) + q * (s.quit ?? 0);
            if (recordLength(ov, plain) !== len) continue;
            if (fits++ === 0) {
              this.solFailures = f;
              this.solTempfails = t;
              this.solSuccess = k;
              this.solQuit = q;
            }
          }
        }
      }
    }
    return fits;
  }
}
