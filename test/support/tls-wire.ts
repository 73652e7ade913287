/**
 * Opaque TLS flows in memory for unit tests: records (header + zero body) fed to a
 * TlsRecordTracker in chosen segment cuts, the AUTH-exchange model behind it. Times are packet
 * times in seconds given by the test, never the clock.
 */
import { AuthExchange, basisNames, DOVECOT_TIMING, type AuthExchangeOptions, type InferredOutcome } from '../../src/tls/auth-exchange.js';
import { POSTFIX_DOVECOT, TLS13_AEAD } from '../../src/tls/record-size.js';
import { TlsRecordTracker, type TlsRecordSink } from '../../src/tls/record-tracker.js';

export interface SeenRecord {
  fromClient: boolean;
  type: number;
  version: number;
  length: number;
  app: boolean;
  ts: number;
}

/** Record bytes: a header then `length` zero bytes. */
export function recordBytes(type: number, length: number, version = 0x0303): Buffer {
  const b = Buffer.alloc(5 + length);
  b[0] = type;
  b.writeUInt16BE(version, 1);
  b.writeUInt16BE(length, 3);
  return b;
}

export class TlsWire {
  readonly records: SeenRecord[] = [];
  readonly events: string[] = [];
  readonly outcomes: [InferredOutcome, string[], number][] = [];
  readonly model: AuthExchange;
  readonly tracker: TlsRecordTracker;

  constructor(opts: AuthExchangeOptions = { sizes: POSTFIX_DOVECOT, overhead: TLS13_AEAD, timing: DOVECOT_TIMING }) {
    this.model = new AuthExchange(opts, {
      outcome: (kind, basis, len) => {
        this.outcomes.push([kind, basisNames(basis), len]);
      },
    });
    const model = this.model;
    const sink: TlsRecordSink = {
      record: (fromClient, type, version, length, app, ts) => {
        this.records.push({ fromClient, type, version, length, app, ts });
        model.record(fromClient, type, version, length, app, ts);
      },
      lost: (fromClient, ts) => {
        this.events.push(`lost ${fromClient ? 'client' : 'server'}`);
        model.lost(fromClient, ts);
      },
      resynced: (fromClient, ts) => {
        this.events.push(`resynced ${fromClient ? 'client' : 'server'}`);
        model.resynced(fromClient, ts);
      },
    };
    this.tracker = new TlsRecordTracker(sink);
  }

  /** Raw bytes of one direction, cut into segments at the given offsets. */
  bytes(fromClient: boolean, buf: Buffer, ts: number, cuts: number[] = []): this {
    let p = 0;
    for (const c of [...cuts, buf.length]) {
      // Copied into a larger buffer at an offset: the tracker must honour start/end.
      const seg = Buffer.concat([Buffer.from([0xee, 0xee]), buf.subarray(p, c), Buffer.from([0xee])]);
      this.tracker.data(fromClient, seg, 2, seg.length - 1, ts);
      p = c;
    }
    return this;
  }

  /** Records of the given lengths in one segment (or cut at `cuts`). */
  send(fromClient: boolean, lengths: number[], ts: number, type = 23, cuts: number[] = []): this {
    return this.bytes(fromClient, Buffer.concat(lengths.map((l) => recordBytes(type, l))), ts, cuts);
  }
  c(lengths: number | number[], ts: number): this {
    return this.send(true, typeof lengths === 'number' ? [lengths] : lengths, ts);
  }
  s(lengths: number | number[], ts: number): this {
    return this.send(false, typeof lengths === 'number' ? [lengths] : lengths, ts);
  }

  /** TLS 1.3 handshake as OpenSSL writes it (compat ChangeCipherSpec, encrypted flight, Finished). */
  handshake13(ts: number): this {
    this.send(true, [512], ts, 22);
    this.bytes(false, Buffer.concat([recordBytes(22, 122), recordBytes(20, 1), recordBytes(23, 2100), recordBytes(23, 286), recordBytes(23, 69)]), ts + 0.001);
    this.bytes(true, Buffer.concat([recordBytes(20, 1), recordBytes(23, 69)]), ts + 0.002);
    return this;
  }

  /** TLS 1.2 full handshake with a session ticket: Finished is a Handshake record after ChangeCipherSpec. */
  handshake12(ts: number): this {
    this.send(true, [250], ts, 22);
    this.send(false, [89, 2000, 333, 4], ts + 0.001, 22);
    this.bytes(true, Buffer.concat([recordBytes(22, 37), recordBytes(20, 1), recordBytes(22, 40)]), ts + 0.002);
    this.bytes(false, Buffer.concat([recordBytes(22, 202), recordBytes(20, 1), recordBytes(22, 40)]), ts + 0.003);
    return this;
  }
}
