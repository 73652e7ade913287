/** A watch's settings for tests that drive WatchService directly (nothing is captured): a dry run unless `extra` says otherwise. */
import { join } from 'node:path';
import { defaultPipelineOptions } from '../../src/pipeline.js';
import type { WatchSettings } from '../../src/watch/watch-service.js';

export function watchTestSettings(dir: string, stateName: string, extra: Partial<WatchSettings> = {}): WatchSettings {
  return {
    pipeline: defaultPipelineOptions(),
    iface: 'eth0',
    captureBackend: 'tcpdump',
    bufferSize: 0,
    blocker: 'nft',
    dryRun: true,
    blockSeconds: 60,
    killEstablished: false,
    stateFile: join(dir, stateName),
    statsInterval: 60,
    netns: 'test-ns',
    ...extra,
  };
}
