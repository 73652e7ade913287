/**
 * Replays a capture through the pipeline with the given options and collects what the TLS
 * inference found: per `client` the inferred failures/successes/tempfails, and the counters.
 */
import { Pipeline, type PipelineOptions } from '../../src/pipeline.js';
import { defaultTallyLimits, ReplayTally } from '../../src/replay-output/client-tally.js';
import type { FlowInfo } from '../../src/reassembly/stream.js';
import type { SmtpObserver, SmtpStats } from '../../src/smtp/smtp-types.js';
import { readCaptureFiles } from '../../src/source/capture-files.js';
import { BASIS_SIZE } from '../../src/tls/auth-exchange.js';

export interface InferredCounts {
  failures: number;
  successes: number;
  tempfails: number;
}

/** `bySize`: inferred failures whose basis includes the record size (the rest: timing alone). */
export async function inferCapture(
  file: string,
  opts: PipelineOptions,
): Promise<{ clients: Map<string, InferredCounts>; stats: SmtpStats; failuresBySize: number }> {
  const clients = new Map<string, InferredCounts>();
  let failuresBySize = 0;
  const none = (): void => {};
  const observer: SmtpObserver = {
    command: none,
    auth: none,
    authData: none,
    reply: none,
    gap: none,
    tlsOutcome(flow: FlowInfo, kind, basis) {
      if (kind === 'ambiguous') return;
      if (kind === 'failure' && (basis & BASIS_SIZE) !== 0) failuresBySize++;
      const c = clients.get(flow.client) ?? { failures: 0, successes: 0, tempfails: 0 };
      if (kind === 'failure') c.failures++;
      else if (kind === 'success') c.successes++;
      else c.tempfails++;
      clients.set(flow.client, c);
    },
  };
  const pipeline = new Pipeline(opts, new ReplayTally(null, defaultTallyLimits));
  pipeline.smtpObserver = observer;
  await readCaptureFiles([file], (rec) => pipeline.packet(rec));
  pipeline.finish();
  return { clients, stats: pipeline.smtpStats, failuresBySize };
}

/** The truth's `inside_tls` per client, as the same counts. */
export function truthCounts(inside: Record<string, InferredCounts>): Map<string, InferredCounts> {
  const m = new Map<string, InferredCounts>();
  for (const [ip, c] of Object.entries(inside)) {
    if (c.failures + c.successes + c.tempfails > 0) m.set(ip, { failures: c.failures, successes: c.successes, tempfails: c.tempfails });
  }
  return m;
}
