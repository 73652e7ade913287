import { availableParallelism } from 'node:os';
import { Output } from '../io/output.js';
import { cpuTimes, idleCores } from '../io/spare-cores.js';
import type { Pipeline } from '../pipeline.js';
import { countsOnlyLimits, defaultTallyLimits, type ReplayTally } from '../replay-output/client-tally.js';
import { replayFiles } from '../replay.js';
import { isoTime, JsonLinesWriter, round6, type OffloadOptions } from '../replay-output/json-lines.js';
import { textChunks } from '../replay-output/text-report.js';
import { pipelineOptionsFrom } from './pipeline-flags.js';
import type { PipelineFlags } from './options.js';

export interface ReplayFlags extends PipelineFlags {
  json: boolean;
  summaryOnly: boolean;
  progress: boolean;
  maxClients: number;
  threads: number;
  detailsPerClient: number;
}

export const EXIT_READ_ERROR = 2;

/** `smtpstrike replay` (the command and its options: replay.ts). */
export async function runReplay(files: string[], flags: ReplayFlags): Promise<number> {
  const started = process.hrtime.bigint();
  const out = Output.of(process.stdout);
  // Every event's line: written on another core when one is free (the replay itself keeps one).
  const cores = availableParallelism();
  const offload = flags.json && !flags.summaryOnly && flags.threads === 1 && cores > 1 ? whenSpareCore(cores) : null;
  const json = flags.json ? new JsonLinesWriter(out, offload) : null;
  try {
    return await replayWith(files, flags, started, out, json);
  } finally {
    json?.close();
  }
}

/** Events written in place before the formatter thread starts: a small capture never starts one. */
const OFFLOAD_AFTER = 4096;

/**
 * Cores that must have stood idle, on average, from the start to the first 4,096 events. On the
 * 2-core machine a quiet second core shows 0.25–0.31 there (the read-ahead, V8's compiler and
 * collector threads use the rest), one busy process beside the replay 0.06–0.07.
 */
const SPARE_IDLE = 0.15;

/**
 * Whether a core stood idle while the replay began: the formatter thread costs ~0.6 CPU s more in
 * all than formatting in place, which pays only on a core nobody else wants. Measured on 2 cores
 * (native-notes/replay-output.md, "Fifth round"): with the second core free `--json` took 5–9 %
 * less time; with one busy process beside it, 15–27 % more. Without /proc/stat: three cores or more.
 */
function whenSpareCore(cores: number): OffloadOptions {
  const before = cpuTimes();
  const when = (): 'yes' | 'no' | 'later' => {
    if (!before) return cores >= 3 ? 'yes' : 'no';
    const idle = idleCores(before, cpuTimes(), cores);
    if (idle === null) return 'later';
    return idle >= SPARE_IDLE ? 'yes' : 'no';
  };
  return { after: OFFLOAD_AFTER, when };
}

async function replayWith(files: string[], flags: ReplayFlags, started: bigint, out: Output, json: JsonLinesWriter | null): Promise<number> {
  let lastPackets = 0;
  const tick =
    flags.progress && process.stderr.isTTY
      ? (p: Pipeline, t: ReplayTally): void => {
          process.stderr.write(
            `\r\x1b[K${p.packets} packets, ${((p.packets - lastPackets) / 1e6).toFixed(2)} M/s, ${p.flows.size} flows, ${t.totals.failures} failures`,
          );
          lastPackets = p.packets;
        }
      : undefined;
  // A reader that has gone (`| head -1`) wants nothing more: stop reading, even a quiet pipe.
  const gone = new AbortController();
  out.onClose(() => gone.abort());
  const {
    tally,
    files: reports,
    coverage,
    blocks,
  } = await replayFiles(
    files,
    pipelineOptionsFrom(flags),
    json && !flags.summaryOnly ? json : null,
    tick,
    {
      ...(json || flags.summaryOnly ? countsOnlyLimits : { ...defaultTallyLimits, eventsPerClient: flags.detailsPerClient }),
      maxClients: flags.maxClients,
    },
    gone.signal,
    () => json?.ready() ?? out.ready(),
    flags.threads,
  );
  if (tick) process.stderr.write('\r\x1b[K');
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  for (const f of reports) if (f.error) process.stderr.write(`smtpstrike: ${f.error.message}\n`);

  if (json) {
    await json.end();
    const d = tally.dropped;
    const tail = {
      clients_dropped: { clients: d.clients, exact: d.exact, failures: d.failures, successes: d.successes, tempfails: d.tempfails, inferred: d.inferred },
      totals: tally.totals,
      blocks: blocks.map((b) => ({
        key: b.key,
        client: b.client,
        rule: b.rule,
        from: round6(b.from),
        until: round6(b.until),
        from_time: isoTime(b.from),
        until_time: isoTime(b.until),
        rejects: b.rejects,
        level: b.level,
      })),
      coverage,
      options: {
        ports: flags.ports,
        hitcount: flags.hitcount,
        seconds: flags.seconds,
        conn_hitcount: flags.connHitcount,
        conn_seconds: flags.connSeconds,
        whitelist: flags.whitelist,
        ipv6_prefix: flags.ipv6Prefix,
        match: flags.match,
        tempfail_strikes: flags.tempfailStrikes,
        inferred_strikes: flags.inferredStrikes,
        escalate: flags.escalate !== false,
        escalate_factor: flags.escalateFactor,
        escalate_cap: flags.escalateCap,
        escalate_lookback: flags.escalateLookback,
        max_clients: flags.maxClients,
      },
    };
    await out.writeAll(
      summaryChunks(tally, { type: 'summary', files: reports }, tail, () => ({
        elapsed_s: round6(elapsed),
        packets_per_s: Math.round(coverage.packets / Math.max(elapsed, 1e-9)),
        max_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
        formatter_thread: json.offloaded,
      })),
    );
  } else {
    await out.writeAll(textChunks({ tally, blocks, coverage, files: reports, summaryOnly: flags.summaryOnly }));
  }
  await out.end();
  return reports.some((f) => f.error) ? EXIT_READ_ERROR : 0;
}

/**
 * The summary line in ~64 KiB pieces: `head`, then the clients one by one, then `tail` and `run`
 * (made last, so its peak RSS covers the output). A million clients are ~90 MB of JSON; one
 * JSON.stringify of them all would hold the whole object tree and the string at once.
 */
function* summaryChunks(
  tally: ReplayTally,
  head: Record<string, unknown>,
  tail: Record<string, unknown>,
  run: () => Record<string, unknown>,
): Generator<string, void, undefined> {
  const h = JSON.stringify(head);
  let buf = `${h.slice(0, -1)},"clients":{`;
  const c = tally.clients;
  for (let r = 0; r < c.size; r++) {
    buf += `${r ? ',' : ''}${JSON.stringify(c.ipOf(r))}:${tally.countsJson(r)}`; // = JSON.stringify(tally.countsOf(r))
    if (buf.length > 65536) {
      yield buf;
      buf = '';
    }
  }
  yield `${buf}},${JSON.stringify({ ...tail, run: run() }).slice(1)}\n`;
}
