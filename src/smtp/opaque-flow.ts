import type { FlowInfo } from '../reassembly/stream.js';
import { DOVECOT_TIMING, type AuthOutcomeSink, type InferredOutcome } from '../tls/auth-exchange.js';
import { TlsRecordTracker, type TlsRecordSink } from '../tls/record-tracker.js';
import type { ReplySource } from '../tls/reply-profiles.js';
import { SessionInference } from '../tls/session-inference.js';
import type { SmtpShared } from './smtp-types.js';

/**
 * What an SMTP session does once it has gone opaque (after `220` to STARTTLS, or TLS from the first
 * byte): the reassembled bytes go to a TLS record tracker, its records are counted and fed to the
 * AUTH inference (issue 10). Made only then, so cleartext flows pay nothing for it. The inferred
 * outcomes reach only the counters and the observer for now (no event, no strike yet).
 */
export class OpaqueFlow implements TlsRecordSink, AuthOutcomeSink {
  private readonly tracker: TlsRecordTracker;
  private readonly inference: SessionInference;
  /** The reply sizes this session is read with, where they came from, and whether its 535 size is known. */
  readonly replySource: ReplySource;

  /** `banner`: the server's cleartext 220 line before STARTTLS (null: none seen, e.g. TLS from the first byte). */
  constructor(private readonly info: FlowInfo, private readonly shared: SmtpShared, banner: string | null = null) {
    const tracker = (this.tracker = new TlsRecordTracker(this));
    this.replySource = shared.config.replies.forSession(banner);
    this.inference = new SessionInference(this.replySource.sizes, DOVECOT_TIMING, () => tracker.tls13, this);
  }

  data(fromClient: boolean, buf: Buffer, start: number, end: number, ts: number): void {
    this.tracker.data(fromClient, buf, start, end, ts);
  }

  gap(fromClient: boolean, lost: number, ts: number): void {
    this.tracker.gap(fromClient, lost, ts);
  }

  record(fromClient: boolean, type: number, version: number, length: number, app: boolean, ts: number): void {
    this.shared.stats.tlsRecords++;
    if (app) this.shared.stats.tlsAppRecords++;
    this.inference.record(fromClient, type, version, length, app, ts);
  }

  lost(fromClient: boolean, ts: number): void {
    this.shared.stats.tlsLostDirections++;
    this.inference.lost(fromClient, ts);
  }

  resynced(fromClient: boolean, ts: number): void {
    this.inference.resynced(fromClient, ts);
  }

  outcome(kind: InferredOutcome, basis: number, recordLen: number, delay: number, ts: number): void {
    const st = this.shared.stats;
    if (kind === 'failure') st.tlsInferredFailures++;
    else if (kind === 'success') st.tlsInferredSuccesses++;
    else if (kind === 'tempfail') st.tlsInferredTempfails++;
    else st.tlsInferredAmbiguous++;
    this.shared.config.observer?.tlsOutcome?.(this.info, kind, basis, recordLen, delay, ts);
  }
}
