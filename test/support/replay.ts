import { defaultPipelineOptions, type PipelineOptions } from '../../src/pipeline.js';
import { replayFiles, type ReplayResult } from '../../src/replay.js';
import { EventLog } from './synth.js';

export async function replay(files: string[], tweak?: (o: PipelineOptions) => void): Promise<ReplayResult & { log: EventLog }> {
  const o = defaultPipelineOptions();
  tweak?.(o);
  const log = new EventLog();
  const r = await replayFiles(files, o, log);
  return { ...r, log };
}
