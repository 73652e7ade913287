/**
 * Live capture: `createLiveSource(backend, options)`.
 *
 * The defaults below were chosen by measured loss: bench/live-loss.ts replays a capture of SMTP
 * sessions with known 535 counts into a veth with tcpreplay (60,000 and 120,000 packets/s and
 * top speed) and counts what each backend and buffer size delivered to the pipeline. Figures,
 * reasons and cap's limits: native-notes/live-capture.md.
 */
import { CapSource } from './cap-source.js';
import type { LiveBackend, LiveSource, LiveSourceOptions } from './live-source.js';
import { TcpdumpSource } from './tcpdump-source.js';

export { bpfForPorts, DEFAULT_SNAPLEN, LiveCaptureError } from './live-source.js';
export type { LiveBackend, LiveErrorKind, LiveSource, LiveSourceOptions, LiveStats } from './live-source.js';
export { CAP_MISSING, capAvailable } from './cap-source.js';

/**
 * tcpdump (128 MiB, `-s 1960`): 0 packets lost at 60,000 and 120,000 pkt/s in 4 runs each, and it
 * reports the kernel's drop counters; cap lost 0.6–1.3 % at 60,000 pkt/s with its usual 10 MiB and
 * up to 2.2 % with 128 MiB, and cannot say how many it lost (native-notes/live-capture.md).
 */
export const DEFAULT_LIVE_BACKEND: LiveBackend = 'tcpdump';

/**
 * 128 MiB of kernel ring (bytes; `--buffer-size`): with tcpdump's 1960-byte snapshot 65,536 packets,
 * 0 lost at 120,000 pkt/s where libpcap's 2 MiB default lost 0.6–3.1 % (native-notes/live-capture.md).
 */
export const DEFAULT_LIVE_BUFFER_SIZE = 128 * 1024 * 1024;

export function createLiveSource(backend: LiveBackend, opts: LiveSourceOptions): LiveSource {
  switch (backend) {
    case 'cap':
      return new CapSource(opts);
    case 'tcpdump':
      return new TcpdumpSource(opts);
    default:
      throw new RangeError(`unknown capture backend "${String(backend)}" (cap or tcpdump)`);
  }
}
