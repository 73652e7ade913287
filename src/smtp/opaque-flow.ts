import type { FlowInfo } from '../reassembly/stream.js';
import { BASIS_SIZE, type AuthOutcomeSink, type InferredOutcome } from '../tls/auth-exchange.js';
import { TlsRecordTracker, type TlsRecordSink } from '../tls/record-tracker.js';
import type { ReplySource } from '../tls/reply-profiles.js';
import { SessionInference } from '../tls/session-inference.js';
import type { SmtpShared } from './smtp-types.js';

const OUTCOME_EVENT = { failure: 'auth_failure', success: 'auth_success', tempfail: 'auth_tempfail' } as const;
const OUTCOME_CODE = { failure: 535, success: 235, tempfail: 454 } as const;

/**
 * What an SMTP session does once it has gone opaque (after `220` to STARTTLS, or TLS from the first
 * byte): the reassembled bytes go to a TLS record tracker, its records are counted and fed to the
 * AUTH inference (issue 10), and each inferred outcome becomes an auth event marked `inferred`.
 * Made only then, so cleartext flows pay nothing for it.
 */
export class OpaqueFlow implements TlsRecordSink, AuthOutcomeSink {
  private readonly tracker: TlsRecordTracker;
  private readonly inference: SessionInference;
  /** The reply sizes this session is read with, where they came from, and whether its 535 size is known. */
  readonly replySource: ReplySource;

  /** `banner`: the server's cleartext 220 line before STARTTLS (null: none seen, e.g. TLS from the first byte). */
  constructor(
    private readonly info: FlowInfo,
    private readonly shared: SmtpShared,
    banner: string | null = null,
  ) {
    const tracker = (this.tracker = new TlsRecordTracker(this));
    this.replySource = shared.config.replies.forSession(banner);
    this.inference = new SessionInference(this.replySource.sizes, this.replySource.timing, () => tracker.tls13, this);
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
    this.shared.config.observer?.tlsRecord?.(this.info, fromClient, type, length, app, ts);
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
    if (kind === 'ambiguous') return; // counted, never an event: it could be a 235 as well as a 535
    const i = this.info;
    const tap = this.shared.tap;
    this.shared.sink.event({
      type: OUTCOME_EVENT[kind],
      ts,
      flow: i.id,
      client: i.client,
      clientPort: i.clientPort,
      server: i.server,
      serverPort: i.serverPort,
      code: OUTCOME_CODE[kind],
      mech: null,
      user: null,
      text: '',
      matched: false,
      inferred: { basis, recordLen, delay, known: this.replySource.known && (basis & BASIS_SIZE) !== 0 },
      wire: tap.snapshot(i.server, i.client, i.serverPort, i.clientPort),
    });
  }

  /** The flow ended: its verdict goes to the coverage. */
  close(): void {
    const st = this.shared.stats;
    const v = this.inference.verdict();
    if (v === 'classified') st.tlsSessionsClassified++;
    else if (v === 'ambiguous') st.tlsSessionsAmbiguous++;
    else st.tlsSessionsUnclassified++;
  }
}
