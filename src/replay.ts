import type { EventSink } from './events.js';
import { Pipeline, type Coverage, type PipelineOptions } from './pipeline.js';
import { defaultTallyLimits, ReplayTally, type TallyLimits } from './replay-output/client-tally.js';
import { readCaptureFiles, type FileReport } from './source/capture-files.js';
import type { PacketRecord } from './source/packet-record.js';
import type { BlockInterval } from './strikes/strike-engine.js';

export interface ReplayResult {
  tally: ReplayTally;
  pipeline: Pipeline;
  files: FileReport[];
  coverage: Coverage;
  blocks: BlockInterval[];
}

/**
 * Runs capture files through the whole pipeline; `next` sees every event as it happens. `stop`
 * ends the reading early (see readCaptureFiles). `ready`, asked after each packet, returns a
 * promise while the output waits for its reader (a pipe that is full): the next packet is read once
 * it settles, so output that cannot be written holds the reading back rather than piling up.
 * `threads` > 1: sharded over worker threads by client (src/replay-threads), the same result
 * (without `ready`: the main thread's merge writes as the workers answer); 1 runs here, with no worker.
 */
export async function replayFiles(
  files: string[],
  options: PipelineOptions,
  next: EventSink | null = null,
  onTick?: (p: Pipeline, t: ReplayTally) => void,
  limits: TallyLimits = defaultTallyLimits,
  stop?: AbortSignal,
  ready?: () => Promise<void> | null,
  threads = 1,
): Promise<ReplayResult> {
  if (threads > 1) {
    const { replayThreaded } = await import('./replay-threads/threaded-replay.js'); // loaded only when used
    return replayThreaded(files, options, threads, next, onTick, limits, stop);
  }
  const tally = new ReplayTally(next, limits);
  const pipeline = new Pipeline(options, tally);
  let timer: NodeJS.Timeout | null = null;
  if (onTick) {
    timer = setInterval(() => onTick(pipeline, tally), 1000);
    timer.unref();
  }
  const onPacket = ready
    ? (rec: PacketRecord): Promise<void> | undefined => {
        pipeline.packet(rec);
        return ready() ?? undefined;
      }
    : (rec: PacketRecord): void => pipeline.packet(rec);
  try {
    const reports = await readCaptureFiles(files, onPacket, stop);
    pipeline.finish();
    return { tally, pipeline, files: reports, coverage: pipeline.coverage(), blocks: pipeline.strikes.blocks };
  } finally {
    if (timer) clearInterval(timer);
  }
}
