/**
 * The AUTH inference inside TLS (issue 10) on the Exim 4 (GnuTLS) captures, pcaps/tls/exim-*
 * (scripts/testbed/make-exim-tls-captures.sh). The pipeline still carries the built-in Postfix +
 * Dovecot sizes, so this test puts its own consumer behind the real reassembly: a TLS record tracker
 * from the client's ClientHello after STARTTLS on, and `SessionInference` with the sizes built from
 * the reply texts the truth recorded (`replies`) and no timing model (Exim answers a 535 as fast as
 * a 235). What the model gets right is asserted exactly; where Exim's sizes collide under CBC the
 * session must infer nothing rather than guess (native-notes/tls-inference.md, "Exim 4 (GnuTLS)").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defaultPipelineOptions, Pipeline } from '../src/pipeline.js';
import { defaultTallyLimits, ReplayTally } from '../src/replay-output/client-tally.js';
import { readCaptureFiles } from '../src/source/capture-files.js';
import type { FlowInfo, StreamConsumer } from '../src/reassembly/stream.js';
import { DOVECOT_TIMING, type InferredOutcome, type TimingModel } from '../src/tls/auth-exchange.js';
import { TlsRecordTracker } from '../src/tls/record-tracker.js';
import type { ReplySizes } from '../src/tls/record-size.js';
import { SessionInference } from '../src/tls/session-inference.js';

const DIR = 'pcaps/tls';

interface TlsSession {
  client_port: number;
  tls_version: string;
  cipher: string;
  outcomes: number[];
  encrypt_then_mac?: boolean;
  pipelined?: boolean;
}
interface TlsClient {
  failures: number;
  successes: number;
  tempfails: number;
  sessions: TlsSession[];
}
interface Replies {
  '535'?: string;
  '235'?: string;
  '454'?: string;
  '334'?: string[];
  '221'?: string;
}
interface TlsTruth {
  capture: string;
  server?: string;
  replies?: Replies;
  inside_tls: Record<string, TlsClient>;
}

const CODE = { failure: 535, success: 235, tempfail: 454 } as const;

/** Plaintext lengths (with CRLF) of the replies the client read; null where none was seen. */
export function sizesFromReplies(r: Replies): ReplySizes {
  const len = (t: string | undefined): number | null => (t === undefined ? null : t.length + 2);
  const ch = r['334'] ?? [];
  const chLens = new Set(ch.map((t) => t.length + 2));
  return {
    failure: len(r['535']),
    success: len(r['235']),
    tempfail: len(r['454']),
    challenge: chLens.size === 1 ? [...chLens][0]! : null, // several challenge sizes: not one known size
    quit: len(r['221']),
  };
}

interface Inferred {
  codes: Map<string, number[]>;
  ambiguous: Map<string, number>;
}

/** A StreamConsumer that follows the TLS records of a STARTTLS session into a SessionInference. */
class StartTlsInference implements StreamConsumer {
  private startTls = false;
  private opaque = false;
  private readonly tracker: TlsRecordTracker;

  constructor(info: FlowInfo, sizes: ReplySizes, timing: TimingModel | null, into: Inferred) {
    const key = `${info.client}:${info.clientPort}`;
    const inference = new SessionInference(sizes, timing, () => this.tracker.tls13, {
      outcome(kind: InferredOutcome) {
        if (kind === 'ambiguous') into.ambiguous.set(key, (into.ambiguous.get(key) ?? 0) + 1);
        else into.codes.set(key, [...(into.codes.get(key) ?? []), CODE[kind]]);
      },
    });
    this.tracker = new TlsRecordTracker(inference);
  }

  data(fromClient: boolean, buf: Buffer, start: number, end: number, ts: number): void {
    if (!this.opaque) {
      // After STARTTLS (and its 220) the client's next bytes are its ClientHello (0x16).
      if (!(fromClient && this.startTls && buf[start] === 0x16)) {
        if (fromClient && /^STARTTLS\r\n/im.test(buf.toString('latin1', start, end))) this.startTls = true;
        return;
      }
      this.opaque = true;
    }
    this.tracker.data(fromClient, buf, start, end, ts);
  }

  gap(fromClient: boolean, lost: number, ts: number): void {
    if (this.opaque) this.tracker.gap(fromClient, lost, ts);
  }

  connect(): void {}
  close(): void {}
}

/** The pipeline's reassembly, with this test's consumer behind it. */
class ExplicitSizesPipeline extends Pipeline {
  readonly got: Inferred = { codes: new Map(), ambiguous: new Map() };
  constructor(
    private readonly sizes: ReplySizes,
    private readonly timing: TimingModel | null,
  ) {
    super(defaultPipelineOptions(), new ReplayTally(null, defaultTallyLimits));
  }
  override create(info: FlowInfo): StreamConsumer {
    return new StartTlsInference(info, this.sizes, this.timing, this.got);
  }
}

async function inferWith(file: string, sizes: ReplySizes, timing: TimingModel | null): Promise<Inferred> {
  const p = new ExplicitSizesPipeline(sizes, timing);
  await readCaptureFiles([file], (rec) => p.packet(rec));
  p.finish();
  return p.got;
}

const truths = readdirSync(DIR)
  .filter((f) => f.startsWith('exim-') && f.endsWith('.truth.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as TlsTruth);

test('Exim captures are present, with the reply texts read inside TLS', () => {
  assert.equal(truths.length, 3, 'exim-tls13, exim-tls12-gcm, exim-tls12-cbc');
  for (const t of truths) {
    assert.match(t.server ?? '', /^Exim 4\./);
    assert.deepEqual(t.replies, {
      '535': '535 Incorrect authentication data',
      '235': '235 Authentication succeeded',
      '334': ['334 VXNlcm5hbWU6', '334 UGFzc3dvcmQ6'],
      '221': '221 mail.example.test closing connection',
    });
  }
});

/** TLS 1.3 and 1.2 AES-GCM: Exim's reply sizes stay distinct (1.3: 334 35, 535 52, 235 47, 221 59). */
const readable = (s: TlsSession): boolean => s.tls_version === '1.3' || s.cipher.includes('GCM');

for (const t of truths) {
  test(`${t.capture}: with Exim's sizes, TLS 1.3 and GCM sessions give exactly inside_tls; CBC sessions nothing`, async () => {
    const { codes, ambiguous } = await inferWith(join(DIR, t.capture), sizesFromReplies(t.replies!), null);
    const seen = new Set<string>();
    for (const [ip, c] of Object.entries(t.inside_tls)) {
      const got = { failures: 0, successes: 0, tempfails: 0 };
      const want = { failures: 0, successes: 0, tempfails: 0 };
      for (const s of c.sessions) {
        const key = `${ip}:${s.client_port}`;
        seen.add(key);
        const inferred = codes.get(key) ?? [];
        if (!s.outcomes.includes(535)) assert.ok(!inferred.includes(535), `${key}: an inferred failure in a session without one`);
        if (readable(s)) {
          assert.deepEqual(inferred, s.outcomes, `${key}: inferred ${JSON.stringify(inferred)}, truth ${JSON.stringify(s.outcomes)}`);
          assert.equal(ambiguous.get(key) ?? 0, 0, `${key}: ambiguous records`);
          for (const o of s.outcomes) {
            if (o === 535) want.failures++;
            else if (o === 235) want.successes++;
            else want.tempfails++;
          }
        } else {
          // CBC with HMAC-SHA1: 235 = 334 and 535 = 221 (ETM), 535 = 235 = 221 (no ETM): those
          // sizes are unknown under CBC, so nothing is inferred, not even an ambiguous record.
          assert.deepEqual(inferred, [], `${key}: CBC session inferred ${JSON.stringify(inferred)}`);
          assert.equal(ambiguous.get(key) ?? 0, 0, `${key}: ambiguous records`);
        }
        for (const o of inferred) {
          if (o === 535) got.failures++;
          else if (o === 235) got.successes++;
          else got.tempfails++;
        }
      }
      assert.deepEqual(got, want, ip);
      if (c.sessions.every(readable)) assert.deepEqual(got, { failures: c.failures, successes: c.successes, tempfails: c.tempfails }, `${ip}: inside_tls`);
    }
    for (const k of codes.keys()) assert.ok(seen.has(k), `${k}: outcomes inferred for a session not in the truth`);
  });
}

test('the Exim captures hold what the assertions rely on: pipelining, mail after 235, no-AUTH sessions, CBC with and without ETM', () => {
  const sessions = truths.flatMap((t) => Object.values(t.inside_tls).flatMap((c) => c.sessions));
  const has = (p: (s: TlsSession) => boolean, what: string): void => assert.ok(sessions.some(p), what);
  has((s) => readable(s) && s.pipelined === true && s.outcomes.length === 3, 'pipelined AUTH PLAIN ×3 + QUIT under TLS 1.3');
  has((s) => readable(s) && s.outcomes.length === 0, 'a readable session without AUTH');
  has((s) => s.encrypt_then_mac === true && s.outcomes.length === 0, "a CBC-ETM session without AUTH (its 221 has a 535's size)");
  has((s) => s.encrypt_then_mac === false, 'CBC without encrypt-then-MAC');
  const readableOutcomes = sessions.filter(readable).flatMap((s) => s.outcomes);
  assert.deepEqual([readableOutcomes.filter((o) => o === 535).length, readableOutcomes.filter((o) => o === 235).length], [11, 5]);
});

test('exim-tls13: a Dovecot timing model contradicts every Exim 535 (answered at once): each becomes ambiguous', async () => {
  const t = truths.find((x) => x.capture === 'exim-tls13.pcap')!;
  const { codes, ambiguous } = await inferWith(join(DIR, t.capture), sizesFromReplies(t.replies!), DOVECOT_TIMING);
  const all = [...codes.values()].flat();
  const truth = Object.values(t.inside_tls).flatMap((c) => c.sessions.flatMap((s) => s.outcomes));
  assert.equal(all.filter((o) => o === 535).length, 0, 'no 535 survives the Dovecot timing');
  assert.equal(all.filter((o) => o === 235).length, truth.filter((o) => o === 235).length, 'every 235 is confirmed (quick)');
  assert.equal(
    [...ambiguous.values()].reduce((a, b) => a + b, 0),
    truth.filter((o) => o === 535).length,
  );
});
