/**
 * `smtpstrike watch` as a child process with a stand-in tcpdump (first on PATH), a dry-run
 * blocker and its own temp dir: no root, no network, nothing outside the temp dir touched.
 * The stand-in speaks tcpdump's stderr, writes `pcap` (a capture file) to stdout, then either
 * exits 1 ('dies') or keeps running until SIGINT/SIGTERM ('runs'), answering SIGUSR1 with stats.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI } from './cli.js';
import { tempDir } from './synth.js';
import { waitFor } from './wait.js';

export type FakeTcpdumpMode = 'dies' | 'runs';

const STATS = 'echo "tcpdump: 1 packet captured, 1 packet received by filter, 0 packets dropped by kernel" >&2';

/** Writes the stand-in tcpdump into `dir` (to be put first on PATH). */
export function writeFakeTcpdump(dir: string, mode: FakeTcpdumpMode, pcap: string, gate?: string): void {
  const body =
    mode === 'dies'
      ? [`cat '${pcap}'`, 'echo "tcpdump: pcap_loop: The interface went down" >&2', 'exit 1']
      : [
          `trap '${STATS.replace(/'/g, "'\\''")}' USR1`,
          `trap '${STATS.replace(/'/g, "'\\''")}; exit 0' INT TERM`,
          `cat '${pcap}'`,
          // `wait` returns at once when a trapped signal arrives (a plain sleep would finish first);
          // the loop ends with its parent, so a watch killed by a failing test leaves no orphan.
          'while kill -0 $PPID 2>/dev/null; do sleep 1 & wait $!; done',
        ];
  const f = join(dir, 'tcpdump');
  // With a gate, tcpdump "starts" only once that file exists: a test holds watch in its start.
  const wait = gate ? [`while [ ! -e '${gate}' ] && kill -0 $PPID 2>/dev/null; do sleep 0.05; done`] : [];
  writeFileSync(
    f,
    ['#!/bin/bash', ...wait, 'echo "tcpdump: listening on fake0, link-type EN10MB (Ethernet), snapshot length 1960 bytes" >&2', ...body, ''].join('\n'),
  );
  chmodSync(f, 0o755);
}

export interface WatchRun {
  dir: string;
  child: ChildProcess;
  state: string;
  config: string;
  /** Resolves with the exit status (or the signal's name). */
  exited: Promise<number | string>;
  /** The exit status, or 'still running' after `ms` (a deadline, not a measure of speed). */
  exitWithin(ms?: number): Promise<number | string>;
  stderr(): string;
  /** The JSON log lines written so far. */
  log(): Record<string, unknown>[];
  /** Waits until a log line satisfies `pred` (deadline 20 s) and returns it. */
  waitLog(pred: (l: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>>;
  cleanup(): void;
}

export function startWatch(opts: { mode: FakeTcpdumpMode; pcap: string; args?: string[]; config?: string; state?: string; gate?: string }): WatchRun {
  const t = tempDir();
  writeFakeTcpdump(t.dir, opts.mode, opts.pcap, opts.gate);
  const config = join(t.dir, 'config.yaml');
  writeFileSync(config, opts.config ?? '');
  const state = join(t.dir, 'state.json');
  if (opts.state !== undefined) writeFileSync(state, opts.state);
  const logFile = join(t.dir, 'watch.log');
  const child = spawn(
    process.execPath,
    [CLI, 'watch', '--config', config, '--state-file', state, '--log-file', logFile, '-i', 'fake0', '--dry-run', ...(opts.args ?? [])],
    { env: { ...process.env, PATH: `${t.dir}:${process.env.PATH ?? ''}` }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | string>((resolve) => child.once('close', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const log = (): Record<string, unknown>[] =>
    existsSync(logFile)
      ? readFileSync(logFile, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>)
      : [];
  return {
    dir: t.dir,
    child,
    state,
    config,
    exited,
    log,
    exitWithin: async (ms = 20_000) => {
      let timer: NodeJS.Timeout | undefined;
      const r = await Promise.race([
        exited,
        new Promise<string>((res) => {
          timer = setTimeout(() => res('still running'), ms);
        }),
      ]);
      clearTimeout(timer);
      return r;
    },
    stderr: () => err,
    async waitLog(pred, what) {
      let hit: Record<string, unknown> | undefined;
      await waitFor(() => (hit = log().find(pred)) !== undefined, `${what} (stderr: ${err.slice(-500)})`, 20_000, 20);
      return hit!;
    },
    cleanup: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      t.cleanup();
    },
  };
}

/** A capture file holding only a pcap header (Ethernet): a capture with no packets yet. */
export function emptyPcap(dir: string): string {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(65535, 16);
  h.writeUInt32LE(1, 20);
  const f = join(dir, 'empty.pcap');
  writeFileSync(f, h);
  return f;
}
