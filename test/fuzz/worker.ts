/**
 * Runs one fuzz target in a worker thread for test/fuzz/watchdog.ts, posting a heartbeat before
 * each case. Seeds are read relative to the process's working directory (the repository root),
 * which a worker shares. Does nothing when loaded as a main module (the test runner loads every file under
 * dist/test).
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTarget } from './campaign.js';

export interface WorkerJob {
  name: string;
  seed: number;
  numRuns: number;
  path?: string;
}

export type WorkerMessage = { case: number } | { ok: true } | { ok: false; message: string };

if (!isMainThread && parentPort) {
  const port = parentPort;
  const job = workerData as WorkerJob;
  const dir = mkdtempSync(join(tmpdir(), 'smtpstrike-fuzz-'));
  let cases = 0;
  const post = (m: WorkerMessage): void => port.postMessage(m);
  let result: WorkerMessage = { ok: true };
  try {
    const o = { seed: job.seed, numRuns: job.numRuns, onCase: () => post({ case: cases++ }) };
    await runTarget(job.name, { dir }, job.path === undefined ? o : { ...o, path: job.path });
  } catch (e) {
    result = { ok: false, message: (e as Error).message };
  }
  // Clean up before reporting: the watchdog terminates the worker as soon as the result arrives.
  rmSync(dir, { recursive: true, force: true });
  post(result);
}
