/**
 * The AUTH inference of one opaque session: which record overhead the session uses is not known
 * from the headers alone (TLS 1.2 GCM and CBC both say 0x0303), so one `AuthExchange` runs per
 * candidate overhead until one of them recognises a known reply size at an AUTH position (a 334,
 * an outcome, alone or coalesced with others and a 221). That one is kept, the others are dropped. The
 * measured reply sizes of a server under the candidate overheads do not overlap (Postfix +
 * Dovecot: 1.3 → 35/79/54/103/32, 1.2 GCM → 42/86/61/110/39, 1.2 CBC-ETM → 68/100/84/132/52, 1.2
 * CBC without ETM → 64/112/80/128/64), so
 * the first fit decides; if two candidates fit the same record the session is left unclassified
 * rather than guessed. TLS 1.3 (known from the handshake) has one candidate only.
 */
import { AuthExchange, type AuthOutcomeSink, type InferredOutcome, type TimingModel } from './auth-exchange.js';
import { TLS12_CBC_SHA1, TLS12_CBC_SHA1_ETM, TLS12_GCM, TLS13_AEAD, type RecordOverhead, type ReplySizes } from './record-size.js';
import type { TlsRecordSink } from './record-tracker.js';

const TLS12_CANDIDATES: readonly RecordOverhead[] = [TLS12_GCM, TLS12_CBC_SHA1_ETM, TLS12_CBC_SHA1];
const TLS13_CANDIDATES: readonly RecordOverhead[] = [TLS13_AEAD];

/** One candidate's model and the outcomes it reported before it was chosen (at most one record's). */
class Candidate implements AuthOutcomeSink {
  readonly model: AuthExchange;
  /** Outcomes held while undecided, flattened: kind, basis, len, delay, ts per outcome. */
  held: (InferredOutcome | number)[] = [];
  forward: AuthOutcomeSink | null = null;

  constructor(
    readonly overhead: RecordOverhead,
    sizes: ReplySizes,
    timing: TimingModel | null,
  ) {
    this.model = new AuthExchange({ sizes, overhead, timing }, this);
  }

  outcome(kind: InferredOutcome, basis: number, recordLen: number, delay: number, ts: number): void {
    if (this.forward) this.forward.outcome(kind, basis, recordLen, delay, ts);
    else this.held.push(kind, basis, recordLen, delay, ts);
  }

  /** The model recognised a size of this server under this overhead. */
  get fitted(): boolean {
    return this.held.length > 0 || this.model.challenges > 0;
  }

  release(to: AuthOutcomeSink): void {
    this.forward = to;
    const h = this.held;
    for (let i = 0; i < h.length; i += 5) to.outcome(h[i] as InferredOutcome, h[i + 1] as number, h[i + 2] as number, h[i + 3] as number, h[i + 4] as number);
    this.held = [];
  }
}

/**
 * What became of one opaque session, for the coverage: `classified` — every AUTH exchange found
 * ended in an inferred outcome; `ambiguous` — a record fitted several readings (never counted), or
 * two overheads fitted; `unclassified` — no overhead fitted (no AUTH seen, sizes of another server,
 * records lost early) or an AUTH exchange ended in a record neither size nor timing explains.
 */
export type SessionVerdict = 'classified' | 'ambiguous' | 'unclassified';

export class SessionInference implements TlsRecordSink {
  private candidates: Candidate[] | null = null;
  /** The model kept, once one overhead fitted. */
  chosen: AuthExchange | null = null;
  chosenOverhead: RecordOverhead | null = null;
  /** Two overheads fitted the same record: nothing is inferred for this session. */
  undecidable = false;
  private lostEarly = false;

  /** `isTls13` is read at the first data record (the tracker knows the version by then). */
  constructor(
    private readonly sizes: ReplySizes,
    private readonly timing: TimingModel | null,
    private readonly isTls13: () => boolean,
    private readonly out: AuthOutcomeSink,
  ) {}

  record(fromClient: boolean, type: number, version: number, length: number, app: boolean, ts: number): void {
    if (this.chosen) return this.chosen.record(fromClient, type, version, length, app, ts);
    if (!app || this.undecidable || this.lostEarly) return;
    const cs = (this.candidates ??= (this.isTls13() ? TLS13_CANDIDATES : TLS12_CANDIDATES).map((o) => new Candidate(o, this.sizes, this.timing)));
    let fit: Candidate | null = null;
    for (const c of cs) {
      c.model.record(fromClient, type, version, length, app, ts);
      if (!c.fitted) continue;
      if (fit) {
        this.undecidable = true;
        this.candidates = null;
        return;
      }
      fit = c;
    }
    if (!fit) return;
    this.chosen = fit.model;
    this.chosenOverhead = fit.overhead;
    this.candidates = null;
    fit.release(this.out);
  }

  verdict(): SessionVerdict {
    if (this.undecidable) return 'ambiguous';
    const m = this.chosen;
    if (!m) return 'unclassified';
    if (m.ambiguous > 0) return 'ambiguous';
    return m.failures + m.successes + m.tempfails > 0 && m.unclassified === 0 ? 'classified' : 'unclassified';
  }

  lost(fromClient: boolean, ts: number): void {
    if (this.chosen) return this.chosen.lost(fromClient, ts);
    this.lostEarly = true; // undecided and lost: the position is unknown, nothing is inferred
    this.candidates = null;
  }

  resynced(fromClient: boolean, ts: number): void {
    this.chosen?.resynced(fromClient, ts);
  }
}
