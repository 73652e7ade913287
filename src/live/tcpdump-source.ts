/**
 * Live capture through a `tcpdump -U --immediate-mode -w -` child: tcpdump (libpcap) owns the
 * socket and the kernel ring; its classic-pcap stdout is parsed by the same reader as a capture
 * file, so packets carry the kernel's timestamps. Drop counts come from tcpdump's own statistics:
 * on SIGUSR1 it prints one line ("N packets captured, N packets received by filter, N packets
 * dropped by kernel[, N packets dropped by interface]"), at exit the same on separate lines.
 * The child is signalled by its PID only (ChildProcess.kill); with `netns` it is started as
 * `ip netns exec NS tcpdump …`, which execs tcpdump in place (same PID).
 */
import { spawn, type ChildProcess, type ChildProcessByStdio } from 'node:child_process';
import { getDefaultHighWaterMark, setDefaultHighWaterMark, type Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { ReadCoalescer, READ_COALESCE_MS } from './read-coalescer.js';
import { CaptureFileReader } from '../source/capture-file.js';
import type { PacketRecord } from '../source/packet-record.js';
import {
  classifyPcapError,
  DEFAULT_SNAPLEN,
  LiveCaptureError,
  validateOptions,
  waitQuiet,
  type LiveSource,
  type LiveSourceOptions,
  type LiveStats,
} from './live-source.js';

interface KernelStats {
  received: number;
  dropped: number;
  ifDropped: number;
  captured: number;
}

/** Builds tcpdump's argument list (exported for tests and the notes). */
export function tcpdumpArgs(o: LiveSourceOptions): string[] {
  const args = ['-U', ...(o.immediate === false ? [] : ['--immediate-mode']), '-n', '-i', o.iface];
  if (o.bufferSize > 0) args.push('-B', String(Math.ceil(o.bufferSize / 1024)));
  args.push('-s', String(o.snaplen ?? DEFAULT_SNAPLEN), '-w', '-');
  // `--` ends tcpdump's options, so a filter can never be read as one.
  if (o.filter.trim() !== '') args.push('--', o.filter);
  return args;
}

function coalesceMsOf(o: LiveSourceOptions): number {
  // Without immediate mode libpcap hands over whole blocks already: nothing to coalesce.
  return o.immediate === false ? 0 : (o.coalesceMs ?? READ_COALESCE_MS);
}

const STATS_RE = {
  captured: /(\d+) packets? captured/,
  received: /(\d+) packets? received by filter/,
  dropped: /(\d+) packets? dropped by kernel/,
  ifDropped: /(\d+) packets? dropped by interface/,
};

export class TcpdumpSource implements LiveSource {
  readonly backend = 'tcpdump' as const;
  private child: ChildProcess | null = null;
  private delivered = 0;
  private lastActivity = 0;
  private stderrTail = '';
  private readonly errLines: string[] = [];
  private latest: KernelStats | null = null;
  private pending: Partial<KernelStats> = {};
  private statsWaiters: (() => void)[] = [];
  private exited: Promise<void> = Promise.resolve();
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readerDone: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | null = null;
  private failed = false;
  /** tcpdump's "listening on …" line (link type and snapshot length), once started. */
  listening = '';

  constructor(
    private readonly opts: LiveSourceOptions,
    private readonly tcpdumpPath = 'tcpdump',
  ) {
    validateOptions(opts);
  }

  start(onPacket: (rec: PacketRecord) => void): Promise<void> {
    if (this.child) return Promise.reject(new Error('live source already started'));
    const o = this.opts;
    const args = tcpdumpArgs(o);
    const [cmd, argv] = o.netns ? ['ip', ['netns', 'exec', o.netns, this.tcpdumpPath, ...args]] : [this.tcpdumpPath, args];
    // Coalesced reads (ReadCoalescer): with a high-water mark of 1 byte the stream stops reading
    // from the pipe as soon as it holds anything, so while watch waits, tcpdump's writes pile up in
    // the pipe without waking this process once per packet. The default is process-wide: set for
    // this spawn only (the stdio streams are made synchronously inside it).
    const hwm = getDefaultHighWaterMark(false);
    if (coalesceMsOf(o) > 0) setDefaultHighWaterMark(false, 1);
    let child: ChildProcessByStdio<null, Readable, Readable>;
    try {
      child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    } finally {
      setDefaultHighWaterMark(false, hwm);
    }
    this.child = child;
    this.exited = new Promise<void>((resolve) => {
      child.once('close', (code, signal) => {
        this.exitInfo = { code, signal };
        this.wakeStats();
        resolve();
      });
    });
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      // Until the reader owns stdout, drain it on exit, or 'close' (which also waits for stdio) never comes.
      child.once('exit', () => {
        if (!ready) child.stdout.resume();
      });
      let settled = false;
      const fail = (e: LiveCaptureError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.failed = true;
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        reject(e);
      };
      const timer = setTimeout(() => {
        fail(
          new LiveCaptureError(
            'capture',
            `tcpdump did not start capturing on "${o.iface}" within 15 s${this.errLines.length ? ': ' + this.errLines.join(' ') : ''}`,
          ),
        );
      }, 15_000);
      child.once('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') {
          fail(
            new LiveCaptureError(
              'tool',
              o.netns
                ? `cannot run "ip" (iproute2) for --netns: ${e.message}; apt-get install iproute2`
                : `tcpdump is not installed (${e.message}): apt-get install tcpdump — or use --capture-backend cap`,
              e.message,
            ),
          );
        } else {
          fail(new LiveCaptureError('capture', `cannot start tcpdump: ${e.message}`, e.message));
        }
      });
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        this.stderrTail += chunk;
        let nl: number;
        while ((nl = this.stderrTail.indexOf('\n')) >= 0) {
          const line = this.stderrTail.slice(0, nl).replace(/\r$/, '');
          this.stderrTail = this.stderrTail.slice(nl + 1);
          this.stderrLine(line);
          if (!ready && /listening on /.test(line)) {
            ready = true;
            this.listening = line.replace(/^tcpdump: /, '');
            settled = true;
            clearTimeout(timer);
            this.lastActivity = Date.now();
            this.readerDone = this.readLoop(child, onPacket);
            resolve();
          }
        }
      });
      void this.exited.then(() => {
        if (ready || settled) return;
        fail(this.startError());
      });
    });
  }

  private stderrLine(line: string): void {
    if (line === '') return;
    let hit = false;
    for (const k of ['captured', 'received', 'dropped', 'ifDropped'] as const) {
      const m = STATS_RE[k].exec(line);
      if (!m) continue;
      hit = true;
      const n = Number(m[1]);
      if (k === 'ifDropped' && this.latest && this.pending.dropped === undefined) {
        // Exit format: the interface line follows the kernel line of the record already complete.
        this.latest.ifDropped = n;
      } else {
        this.pending[k] = n;
      }
    }
    if (hit) {
      if (this.pending.dropped !== undefined) {
        this.latest = {
          received: this.pending.received ?? this.latest?.received ?? 0,
          dropped: this.pending.dropped,
          ifDropped: this.pending.ifDropped ?? 0,
          captured: this.pending.captured ?? this.latest?.captured ?? 0,
        };
        this.pending = {};
        this.wakeStats();
      }
      return;
    }
    if (/listening on /.test(line)) return;
    if (this.errLines.length < 20) this.errLines.push(line.replace(/^tcpdump: /, ''));
  }

  private startError(): LiveCaptureError {
    const o = this.opts;
    const text = this.errLines.join(' ').trim();
    const first = this.errLines[0] ?? '';
    const how = this.exitInfo?.signal ? `killed by ${this.exitInfo.signal}` : `exit status ${this.exitInfo?.code}`;
    if (text === '') return new LiveCaptureError('capture', `tcpdump ended before capturing (${how}) and said nothing`);
    if (/Cannot open network namespace/i.test(first)) {
      return new LiveCaptureError('netns', `network namespace "${o.netns}" does not exist (${first}); create it or drop --netns`, first);
    }
    if (/exec of .* failed/i.test(first)) {
      return new LiveCaptureError('tool', `tcpdump is not installed (${first}): apt-get install tcpdump — or use --capture-backend cap`, first);
    }
    return classifyPcapError('tcpdump', o.iface, o.filter, text);
  }

  private async readLoop(child: ChildProcess, onPacket: (rec: PacketRecord) => void): Promise<void> {
    let reader: CaptureFileReader | null = null;
    try {
      reader = await CaptureFileReader.fromStream(`tcpdump -i ${this.opts.iface}`, child.stdout!);
      const rec = reader.rec;
      const out = child.stdout!;
      const coalescer = new ReadCoalescer(coalesceMsOf(this.opts));
      let readBefore = reader.bytesRead;
      let deliveredBefore = this.delivered;
      for (;;) {
        while (reader.next()) {
          this.delivered++;
          onPacket(rec);
        }
        this.lastActivity = Date.now();
        const wait = coalescer.afterRead(this.delivered - deliveredBefore, reader.bytesRead - readBefore, out.readableLength, performance.now());
        if (wait > 0) await delay(wait);
        readBefore = reader.bytesRead;
        deliveredBefore = this.delivered;
        if (!(await reader.refill())) break;
      }
    } catch (e) {
      // An empty stream only means tcpdump ended before its first packet (reported below).
      const empty = reader === null && /empty file/.test((e as Error).message);
      if (!empty && !this.stopping) {
        this.report(new LiveCaptureError('capture', `live capture stopped: ${(e as Error).message}`, (e as Error).message));
      }
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      child.stdout?.destroy();
    } finally {
      if (reader) await reader.close().catch(() => undefined);
    }
    // End of stream without stop(): tcpdump ended on its own.
    if (!this.stopping && !this.failed) {
      await this.exited;
      const how = this.exitInfo?.signal ? `killed by ${this.exitInfo.signal}` : `exit status ${this.exitInfo?.code}`;
      const said = this.errLines.length ? `: ${this.errLines.join(' ')}` : '';
      this.report(new LiveCaptureError('capture', `tcpdump on "${this.opts.iface}" ended (${how})${said}`, this.errLines.join(' ')));
    }
  }

  private report(e: LiveCaptureError): void {
    if (this.failed) return;
    this.failed = true;
    this.opts.onError?.(e);
  }

  private wakeStats(): void {
    const w = this.statsWaiters;
    this.statsWaiters = [];
    for (const f of w) f();
  }

  private running(): boolean {
    const c = this.child;
    return c !== null && c.exitCode === null && c.signalCode === null && this.exitInfo === null;
  }

  /** Asks tcpdump for its counters (SIGUSR1) and waits up to 2 s for the line. */
  async stats(): Promise<LiveStats> {
    if (this.running() && !this.stopping && this.listening !== '') {
      const before = this.latest;
      const got = new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2000);
        this.statsWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
      this.child!.kill('SIGUSR1');
      await got;
      if (this.latest === before) return this.snapshot();
    }
    return this.snapshot();
  }

  private snapshot(): LiveStats {
    const s = this.latest;
    return { received: s ? s.received : null, dropped: s ? s.dropped : null, ifDropped: s ? s.ifDropped : null, delivered: this.delivered };
  }

  /** What tcpdump itself counted as captured (written to the pipe), from its last statistics. */
  get tcpdumpCaptured(): number | null {
    return this.latest ? this.latest.captured : null;
  }

  stop(): Promise<void> {
    if (!this.stopping) this.stopping = this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (this.running() && this.listening !== '') {
      // Let what the kernel still holds reach us: tcpdump discards its ring on SIGINT.
      // Without immediate mode a partly filled block reaches us only after libpcap's 1 s timeout.
      const quiet = this.opts.drainQuietMs ?? (this.opts.immediate === false ? 1500 : 250);
      await waitQuiet(() => this.lastActivity, quiet, Math.max(quiet + 500, this.opts.drainMaxMs ?? 3000));
    }
    if (this.running()) {
      child.kill('SIGINT'); // tcpdump flushes its output, prints its statistics and exits
      if (!(await within(this.exited, 5000))) {
        child.kill('SIGTERM');
        if (!(await within(this.exited, 3000))) child.kill('SIGKILL');
      }
    }
    await this.exited;
    await this.readerDone;
  }
}

async function within(p: Promise<void>, ms: number): Promise<boolean> {
  let t: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    p.then(() => true),
    new Promise<boolean>((res) => {
      t = setTimeout(() => res(false), ms);
    }),
  ]);
  clearTimeout(t);
  return r;
}
