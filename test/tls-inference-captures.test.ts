/**
 * The AUTH inference inside TLS (issue 10) on the shipped TLS-only Postfix + Dovecot captures: every capture
 * must give exactly its truth's `inside_tls` outcomes, per client and per session in order, and no
 * inferred failure in a session without one. Expectations are read from the truth files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defaultPipelineOptions, Pipeline } from '../src/pipeline.js';
import { defaultTallyLimits, ReplayTally } from '../src/replay-output/client-tally.js';
import { readCaptureFiles } from '../src/source/capture-files.js';
import type { SmtpObserver } from '../src/smtp/smtp-types.js';
import type { FlowInfo } from '../src/reassembly/stream.js';

const DIR = 'pcaps/tls';

interface TlsSession {
  client_port: number;
  outcomes: number[];
}
interface TlsClient {
  failures: number;
  successes: number;
  tempfails: number;
  sessions: TlsSession[];
}
interface TlsTruth {
  capture: string;
  inside_tls: Record<string, TlsClient>;
}

const CODE = { failure: 535, success: 235, tempfail: 454 } as const;

/** Inferred outcomes per `client:clientPort`, as reply codes in order; ambiguous ones apart. */
async function infer(file: string): Promise<{ codes: Map<string, number[]>; ambiguous: Map<string, number> }> {
  const codes = new Map<string, number[]>();
  const ambiguous = new Map<string, number>();
  const none = (): void => {};
  const observer: SmtpObserver = {
    command: none,
    auth: none,
    authData: none,
    reply: none,
    gap: none,
    tlsOutcome(flow: FlowInfo, kind) {
      const key = `${flow.client}:${flow.clientPort}`;
      if (kind === 'ambiguous') ambiguous.set(key, (ambiguous.get(key) ?? 0) + 1);
      else codes.set(key, [...(codes.get(key) ?? []), CODE[kind]]);
    },
  };
  const pipeline = new Pipeline(defaultPipelineOptions(), new ReplayTally(null, defaultTallyLimits));
  pipeline.smtpObserver = observer;
  await readCaptureFiles([file], (rec) => pipeline.packet(rec));
  pipeline.finish();
  return { codes, ambiguous };
}

// Captures of other servers (Exim: pcaps/tls/exim-*) carry their own reply texts (`replies`) and
// are read with those sizes in test/tls-exim-captures.test.ts; here the built-in Postfix + Dovecot ones.
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.truth.json'))
  .sort()
  .filter((f) => !('replies' in (JSON.parse(readFileSync(join(DIR, f), 'utf8')) as object)));

for (const f of files) {
  const t = JSON.parse(readFileSync(join(DIR, f), 'utf8')) as TlsTruth;
  test(`${t.capture}: inferred outcomes equal inside_tls, per client and per session`, async () => {
    const { codes, ambiguous } = await infer(join(DIR, t.capture));
    const seen = new Set<string>();
    for (const [ip, c] of Object.entries(t.inside_tls)) {
      const got = { failures: 0, successes: 0, tempfails: 0 };
      for (const s of c.sessions) {
        const key = `${ip}:${s.client_port}`;
        seen.add(key);
        const inferred = codes.get(key) ?? [];
        assert.deepEqual(inferred, s.outcomes, `${key}: inferred ${JSON.stringify(inferred)}, truth ${JSON.stringify(s.outcomes)}`);
        if (!s.outcomes.includes(535)) assert.ok(!inferred.includes(535), `${key}: an inferred failure in a session without one`);
        // Sessions without AUTH may have outcome-sized replies off the AUTH path (354/250 of a
        // mail): reported ambiguous, never counted. Sessions with AUTH must be read exactly.
        if (s.outcomes.length > 0) assert.equal(ambiguous.get(key) ?? 0, 0, `${key}: ambiguous records`);
        for (const o of inferred) {
          if (o === 535) got.failures++;
          else if (o === 235) got.successes++;
          else got.tempfails++;
        }
      }
      assert.deepEqual(got, { failures: c.failures, successes: c.successes, tempfails: c.tempfails }, ip);
    }
    for (const k of codes.keys()) assert.ok(seen.has(k), `${k}: outcomes inferred for a session not in the truth`);
  });
}
