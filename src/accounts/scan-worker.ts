import { parentPort, workerData } from 'node:worker_threads';
import { scanShare, type ShareJob } from './parallel-scan.js';

/** A worker thread of parallel-scan.ts: reads its share of a log and posts the result. */
parentPort?.postMessage(await scanShare(workerData as ShareJob));
