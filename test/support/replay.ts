import { defaultPipelineOptions, type PipelineOptions } from '../../src/pipeline.js';
import { replayFiles, type ReplayResult } from '../../src/replay.js';
import { join } from 'node:path';
import { EventLog, FrameList, tempDir } from './synth.js';

export async function replay(files: string[], tweak?: (o: PipelineOptions) => void): Promise<ReplayResult & { log: EventLog }> {
  const o = defaultPipelineOptions();
  tweak?.(o);
  const log = new EventLog();
  const r = await replayFiles(files, o, log);
  return { ...r, log };
}

/** Builds a capture with `build`, writes it to a temporary file and replays it (the file is removed). */
export async function replayFrames(build: (f: FrameList) => void, tweak?: (o: PipelineOptions) => void): Promise<ReplayResult & { log: EventLog }> {
  const t = tempDir();
  try {
    const f = new FrameList();
    build(f);
    return await replay([await f.write(join(t.dir, 'x.pcap'))], tweak);
  } finally {
    t.cleanup();
  }
}
