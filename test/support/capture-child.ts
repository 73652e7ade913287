/**
 * Live capture → the replay pipeline → per-client counts, as a small self-contained process.
 * The cap backend captures in its own process's network namespace, so tests and the live-loss
 * bench run this inside a namespace (`ip netns exec NS node dist/test/support/capture-child.js …`);
 * from a checkout it also serves as a capture self-test on a real host (it is not installed).
 *
 *   node dist/test/support/capture-child.js --backend cap|tcpdump --iface IF [--ports 25,587 | --filter BPF]
 *        [--buffer-size BYTES] [--snaplen N] [--netns NS] [--drain-max-ms MS] [--no-immediate] [--alive-check]
 *
 * Prints JSON lines on stdout: {"type":"ready",…} once capturing; then, when stdin ends or on
 * SIGTERM/SIGINT, it stops the source (draining what the kernel holds), closes every flow and
 * prints {"type":"result",…} (counts per client, packets, kernel statistics, coverage) and exits 0.
 * A source that cannot start prints {"type":"error","kind":…,"message":…} and exits 2; with
 * --alive-check it first forces garbage collection (run node with --expose-gc) and waits, then
 * prints {"type":"alive"} — proof that a failed open() did not take the process down.
 */
import { parseArgs } from 'node:util';
import { defaultPipelineOptions, Pipeline } from '../../src/pipeline.js';
import { countsOnlyLimits, ReplayTally } from '../../src/replay-output/client-tally.js';
import { bpfForPorts, createLiveSource, LiveCaptureError, type LiveBackend, type LiveSourceOptions } from '../../src/live/index.js';

function out(o: object): void {
  process.stdout.write(JSON.stringify(o) + '\n');
}

async function main(): Promise<number> {
  const { values: v } = parseArgs({
    options: {
      backend: { type: 'string', default: 'tcpdump' },
      iface: { type: 'string', default: 'any' },
      ports: { type: 'string', default: '25,587' },
      filter: { type: 'string' },
      'buffer-size': { type: 'string', default: '0' },
      snaplen: { type: 'string' },
      netns: { type: 'string' },
      'drain-max-ms': { type: 'string' },
      'no-immediate': { type: 'boolean', default: false },
      'alive-check': { type: 'boolean', default: false },
    },
  });
  const backend = v.backend as LiveBackend;
  const ports = v.ports.split(',').map((p) => Number(p.trim()));
  const popts = defaultPipelineOptions();
  popts.ports = ports;
  const tally = new ReplayTally(null, countsOnlyLimits);
  const pipeline = new Pipeline(popts, tally);
  pipeline.iface = v.iface;
  let asyncError: LiveCaptureError | null = null;
  const opts: LiveSourceOptions = {
    iface: v.iface,
    filter: v.filter ?? bpfForPorts(ports),
    bufferSize: Number(v['buffer-size']),
    onError: (e) => {
      asyncError = e;
      out({ type: 'capture_error', kind: e.kind, message: e.message });
    },
  };
  if (v.snaplen !== undefined) opts.snaplen = Number(v.snaplen);
  if (v.netns !== undefined) opts.netns = v.netns;
  if (v['drain-max-ms'] !== undefined) opts.drainMaxMs = Number(v['drain-max-ms']);
  if (v['no-immediate']) opts.immediate = false;
  const t0 = Date.now();
  let source;
  try {
    source = createLiveSource(backend, opts);
    await source.start((rec) => pipeline.packet(rec));
  } catch (e) {
    const kind = e instanceof LiveCaptureError ? e.kind : 'other';
    out({ type: 'error', kind, message: (e as Error).message });
    if (v['alive-check']) {
      const gc = (globalThis as { gc?: () => void }).gc;
      for (let i = 0; i < 3; i++) {
        gc?.();
        await new Promise((r) => setTimeout(r, 100));
      }
      out({ type: 'alive', gc: gc !== undefined });
    }
    return 2;
  }
  out({ type: 'ready', backend, iface: v.iface, filter: opts.filter, buffer_size: opts.bufferSize, pid: process.pid });

  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
    process.stdin.resume();
  });
  const tStop = Date.now();
  await source.stop();
  const stats = await source.stats();
  pipeline.finish();
  const failures: Record<string, number> = {};
  for (const [ip, t] of tally.clients) if (t.failures > 0) failures[ip] = t.failures;
  out({
    type: 'result',
    backend,
    failures,
    clients: tally.counts(),
    totals: tally.totals,
    packets: pipeline.packets,
    smtp_packets: pipeline.smtpPackets,
    stats,
    capture_error: asyncError === null ? null : (asyncError as LiveCaptureError).message,
    coverage: pipeline.coverage(),
    elapsed_s: (tStop - t0) / 1000,
    drain_s: (Date.now() - tStop) / 1000,
  });
  process.stdin.destroy();
  return 0;
}

const USAGE =
  'usage: node dist/test/support/capture-child.js --backend cap|tcpdump --iface IF [--ports 25,587 | --filter BPF] [--buffer-size BYTES]' +
  ' [--snaplen N] [--netns NS] [--drain-max-ms MS] [--no-immediate] [--alive-check]\n';

if (process.argv.length <= 2) {
  // No arguments: `node --test dist/test/` (scripts/test.sh) runs every .js file under dist/test,
  // this one too, with a stdin that never ends; capturing on `any` until then would hang the suite.
  // The tests and the bench always name the backend and interface.
  process.stdout.write(USAGE);
} else {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      out({ type: 'error', kind: 'other', message: (e as Error).stack ?? String(e) });
      process.exitCode = 1;
    },
  );
}
