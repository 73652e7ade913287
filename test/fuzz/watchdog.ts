/**
 * Runs a fuzz target in a worker thread so that a case that hangs (a loop that never ends) or
 * allocates without bound fails the run, naming the case, instead of hanging or killing the whole
 * test process. The limits are far above what a case needs (milliseconds, a few MB): they catch
 * runaways, they do not measure speed.
 */
import { Worker } from 'node:worker_threads';
import type { RunOptions } from './campaign.js';
import type { WorkerJob, WorkerMessage } from './worker.js';

/** A case that makes no progress for this long is taken as hung. */
export const HANG_MS = 60_000;
/** The worker's heap limit: a mutated length field must not make a reader allocate without bound. */
export const HEAP_MB = 512;

export function runTargetWatched(name: string, o: Omit<RunOptions, 'onCase'>): Promise<void> {
  const job: WorkerJob = { name, seed: o.seed, numRuns: o.numRuns };
  if (o.path !== undefined) job.path = o.path;
  const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: job, resourceLimits: { maxOldGenerationSizeMb: HEAP_MB } });
  // Case n (counted from 0) is fast-check's path "n" while nothing has failed yet.
  let last = -1;
  const where = (): string => `case ${last} of ${name}, seed ${o.seed} (replay: npm run fuzz -- --target ${name} --seed ${o.seed} --path "${o.path ?? last}")`;
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      if (err) reject(err);
      else resolve();
    };
    let timer = setTimeout(() => finish(new Error(`hang: no progress for ${HANG_MS / 1000} s in ${where()}`)), HANG_MS);
    worker.on('message', (m: WorkerMessage) => {
      if ('case' in m) {
        last = m.case;
        clearTimeout(timer);
        timer = setTimeout(() => finish(new Error(`hang: no progress for ${HANG_MS / 1000} s in ${where()}`)), HANG_MS);
      } else finish(m.ok ? null : new Error(m.message));
    });
    worker.on('error', (e) => finish(new Error(`the fuzz worker died (${e.message}) in ${where()}`)));
    worker.on('exit', (code) => finish(code === 0 ? null : new Error(`the fuzz worker exited with ${code} in ${where()}`)));
  });
}
