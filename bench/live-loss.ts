/**
 * Live capture loss per backend (`node dist/bench/live-loss.js`, root).
 *
 *   node dist/bench/live-loss.js [--file bench/out/live.pcap] [--size-mb 50] [--rates 60000,120000,top]
 *       [--configs tcpdump:134217728,tcpdump:0,cap:10485760,cap:134217728] [--repeat 1]
 *       (a config is backend:bytes[:sSNAPLEN][:noimm]; bytes 0 = libpcap's default 2 MiB)
 *       [--results bench/out/live-loss.json] [--regen]
 *
 * Two network namespaces made for the run (tx, rx) joined by a veth pair; nothing else is
 * touched. tcpreplay (--preload-pcap, --pps R or --topspeed) sends a capture made only of SMTP
 * sessions with known 535 counts (bench/gen.ts --bg-share 0; truth beside it) into the tx end;
 * `dist/test/support/capture-child.js` captures on the rx end with each backend and buffer size,
 * feeds the replay pipeline, and reports per-client 535s, packets delivered and the kernel's
 * drop counters. Frames carry foreign MAC addresses, so the rx namespace's IP stack discards them
 * after the packet taps (no replies, no side effects).
 *
 * Per run: packets sent (tcpreplay), delivered to the pipeline, kernel received/dropped (tcpdump;
 * unknown for cap), drops before the capture point (veth/backlog counters), 535s found vs truth,
 * clients with wrong counts, loss %. Target: 0 lost. Exit status 0 when every run that could run
 * completed (loss is reported, not fatal), 3 when the bench could not run at all.
 *
 * From bench/run.ts: `import { runLiveLoss } from './live-loss.js'; const live = await runLiveLoss({});`
 * (returns the report also written to bench/out/live-loss.json; `live.skipped` says why it did not run).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url)); // <root>/dist/bench
const root = resolve(here, '..', '..');
const childScript = join(root, 'dist', 'test', 'support', 'capture-child.js');

export interface LiveLossConfig {
  backend: 'cap' | 'tcpdump';
  bufferSize: number;
  /** Snapshot length (tcpdump -s; cap is always 65535). */
  snaplen?: number;
  /** false: no --immediate-mode (libpcap TPACKET_V3, blocks handed over when full or after 1 s). */
  immediate?: boolean;
}

export interface LiveLossOptions {
  file?: string;
  sizeMb?: number;
  /** Packets per second for tcpreplay --pps, or 'top' for --topspeed. */
  rates?: (number | 'top')[];
  configs?: LiveLossConfig[];
  repeat?: number;
  results?: string;
  regen?: boolean;
  log?: (s: string) => void;
}

export interface Truth {
  clients: Record<string, { failures: number }>;
  totals: { failures: number; packets: number; smtp_packets: number; bytes: number };
  generator: { size_mb: number; bg_share?: number; version?: number };
}

export interface LiveLossRun {
  backend: 'cap' | 'tcpdump';
  buffer_size: number;
  buffer_label: string;
  snaplen: number | null;
  immediate: boolean;
  rate: number | 'top';
  repeat: number;
  status: 'ok' | 'failed' | 'skipped';
  note?: string;
  sent: number | null;
  send_failed: number | null;
  send_seconds: number | null;
  send_pps: number | null;
  delivered: number | null;
  kernel_received: number | null;
  kernel_dropped: number | null;
  if_dropped: number | null;
  /** Lost between tcpreplay and the packet tap: veth/backlog drops (not the backend's fault). */
  dropped_before_capture: number | null;
  lost_packets: number | null;
  loss_pct: number | null;
  failures_found: number | null;
  failures_truth: number;
  failures_lost: number | null;
  failures_extra: number | null;
  clients_wrong: number | null;
  drain_s: number | null;
}

export interface LiveLossReport {
  when: string;
  skipped: string | null;
  machine: { cpus: number; model: string; kernel: string; node: string; tcpdump: string | null; tcpreplay: string | null };
  capture: { file: string; packets: number; smtp_packets: number; bytes: number; failures: number };
  runs: LiveLossRun[];
  summary: {
    backend: string;
    buffer_label: string;
    rate: number | 'top';
    runs: number;
    runs_failed: number;
    best_loss_pct: number | null;
    worst_loss_pct: number | null;
    worst_failures_lost: number | null;
  }[];
}

const MiB = 1024 * 1024;

/**
 * tcpdump: libpcap's usual snapshot length (262144) and smaller one (1960, smtpstrike's default),
 * immediate mode (smtpstrike's default) and not; cap as it comes (immediate, 65535).
 */
export const DEFAULT_CONFIGS: LiveLossConfig[] = [
  { backend: 'tcpdump', bufferSize: 128 * MiB, snaplen: 262144 },
  { backend: 'tcpdump', bufferSize: 0, snaplen: 262144 },
  { backend: 'tcpdump', bufferSize: 128 * MiB, snaplen: 1960 },
  { backend: 'tcpdump', bufferSize: 0, snaplen: 1960 },
  { backend: 'tcpdump', bufferSize: 128 * MiB, snaplen: 262144, immediate: false },
  { backend: 'tcpdump', bufferSize: 0, snaplen: 262144, immediate: false },
  { backend: 'cap', bufferSize: 10 * MiB },
  { backend: 'cap', bufferSize: 128 * MiB },
];

function bufLabel(c: LiveLossConfig): string {
  let l = c.bufferSize === 0 ? 'default 2 MiB' : c.bufferSize % MiB === 0 ? `${c.bufferSize / MiB} MiB` : `${c.bufferSize} B`;
  if (c.snaplen !== undefined) l += ` -s ${c.snaplen}`;
  if (c.immediate === false) l += ' no-immediate';
  return l;
}

export function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export function firstLine(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) return null;
  return `${r.stdout}${r.stderr}`.trim().split('\n')[0] ?? null;
}

export function sh(cmd: string, args: string[], check = true): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (check && r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

/** rx_dropped of a link plus the tx end's tx_dropped: frames lost inside veth. */
function vethDrops(ns: string, dev: string): number {
  try {
    const j = JSON.parse(sh('ip', ['-n', ns, '-s', '-j', 'link', 'show', 'dev', dev])) as {
      stats64?: { rx?: { dropped?: number }; tx?: { dropped?: number } };
    }[];
    const s = j[0]?.stats64;
    return (s?.rx?.dropped ?? 0) + (s?.tx?.dropped ?? 0);
  } catch {
    return 0;
  }
}

/** Sum of the per-CPU backlog drops (/proc/net/softnet_stat, 2nd column): machine-wide, read only. */
function softnetDrops(): number {
  try {
    return readFileSync('/proc/net/softnet_stat', 'utf8')
      .trim()
      .split('\n')
      .reduce((a, l) => a + parseInt(l.trim().split(/\s+/)[1] ?? '0', 16), 0);
  } catch {
    return 0;
  }
}

export function ensureCapture(file: string, sizeMb: number, regen: boolean, log: (s: string) => void): Truth {
  const tf = file.replace(/\.pcap$/, '') + '.truth.json';
  let ok = !regen && existsSync(file) && existsSync(tf);
  if (ok) {
    try {
      const t = JSON.parse(readFileSync(tf, 'utf8')) as Truth;
      if (statSync(file).size !== t.totals.bytes || t.totals.packets !== t.totals.smtp_packets) ok = false;
    } catch {
      ok = false;
    }
  }
  if (!ok) {
    log(`live-loss: generating ${file} (${sizeMb} MB, SMTP only)`);
    mkdirSync(dirname(file), { recursive: true });
    const r = spawnSync(process.execPath, [join(here, 'gen.js'), '--size-mb', String(sizeMb), '--bg-share', '0', '--out', file, '--quiet'], {
      stdio: 'inherit',
    });
    if (r.status !== 0) throw new Error('generator failed');
  }
  return JSON.parse(readFileSync(tf, 'utf8')) as Truth;
}

/** Reads JSON lines from a child's stdout; `next(type)` resolves with the next object of that type. */
class JsonLines {
  private buf = '';
  private readonly seen: Record<string, unknown>[] = [];
  private waiters: (() => void)[] = [];
  ended = false;
  constructor(child: ChildProcess) {
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        try {
          this.seen.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          /* not ours */
        }
      }
      this.wake();
    });
    child.once('close', () => {
      this.ended = true;
      this.wake();
    });
  }
  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  async next(types: string[], timeoutMs: number): Promise<Record<string, unknown> | null> {
    const t0 = Date.now();
    for (;;) {
      const i = this.seen.findIndex((o) => types.includes(String(o.type)));
      if (i >= 0) return this.seen.splice(i, 1)[0]!;
      if (this.ended || Date.now() - t0 > timeoutMs) return null;
      await new Promise<void>((r) => {
        const t = setTimeout(r, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
}

export function parseTcpreplay(text: string): { sent: number | null; failed: number | null; seconds: number | null; pps: number | null } {
  const num = (re: RegExp): number | null => {
    const m = re.exec(text);
    return m ? Number(m[1]) : null;
  };
  return {
    sent: num(/Successful packets:\s+(\d+)/),
    failed: num(/Failed packets:\s+(\d+)/),
    seconds: num(/sent in ([\d.]+) seconds/),
    pps: num(/Rated:.*?([\d.]+) pps/),
  };
}

export function waitClose(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((res) => {
    const t = setTimeout(() => res(false), ms);
    child.once('close', () => {
      clearTimeout(t);
      res(true);
    });
  });
}

export async function runLiveLoss(o: LiveLossOptions): Promise<LiveLossReport> {
  const log = o.log ?? ((s: string) => process.stdout.write(s + '\n'));
  const file = resolve(root, o.file ?? 'bench/out/live.pcap');
  const resultsPath = resolve(root, o.results ?? 'bench/out/live-loss.json');
  const rates = o.rates ?? [60000, 120000, 'top'];
  const configs: LiveLossConfig[] = o.configs ?? DEFAULT_CONFIGS;
  const repeat = o.repeat ?? 1;
  const report: LiveLossReport = {
    when: new Date().toISOString(),
    skipped: null,
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? '?',
      kernel: firstLine('uname', ['-r']) ?? '?',
      node: process.version,
      tcpdump: firstLine('tcpdump', ['--version']),
      tcpreplay: firstLine('tcpreplay', ['--version']),
    },
    capture: { file, packets: 0, smtp_packets: 0, bytes: 0, failures: 0 },
    runs: [],
    summary: [],
  };
  const finish = (): LiveLossReport => {
    mkdirSync(dirname(resultsPath), { recursive: true });
    writeFileSync(resultsPath, JSON.stringify(report, null, 1) + '\n');
    return report;
  };
  if (process.getuid?.() !== 0) {
    report.skipped = 'needs root (network namespaces, packet capture)';
    log(`live-loss: SKIPPED: ${report.skipped}`);
    return finish();
  }
  if (!have('tcpreplay') || !have('tcpdump')) {
    log('live-loss: tcpreplay/tcpdump missing; running scripts/install-deps.sh bench');
    spawnSync('bash', [join(root, 'scripts', 'install-deps.sh'), 'bench'], { stdio: 'inherit' });
    report.machine.tcpdump = firstLine('tcpdump', ['--version']);
    report.machine.tcpreplay = firstLine('tcpreplay', ['--version']);
    if (!have('tcpreplay') || !have('tcpdump')) {
      report.skipped = 'tcpreplay or tcpdump not installed (apt-get install tcpreplay tcpdump)';
      log(`live-loss: SKIPPED: ${report.skipped}`);
      return finish();
    }
  }
  if (!existsSync(childScript)) throw new Error(`${childScript} missing: build first (npx tsc -p .)`);
  const truth = ensureCapture(file, o.sizeMb ?? 50, o.regen ?? false, log);
  report.capture = { file, packets: truth.totals.packets, smtp_packets: truth.totals.smtp_packets, bytes: truth.totals.bytes, failures: truth.totals.failures };

  let capOk: boolean;
  {
    const r = spawnSync(process.execPath, ['-e', "import('cap').then(() => process.exit(0), () => process.exit(1))"], { cwd: root });
    capOk = r.status === 0;
  }

  const tag = `ssll${process.pid % 100000}`;
  const TX = `${tag}-tx`,
    RX = `${tag}-rx`,
    TXIF = `${tag}t`,
    RXIF = `${tag}r`;
  const children = new Set<ChildProcess>();
  const cleanup = (): void => {
    for (const c of children)
      if (c.exitCode === null && c.signalCode === null && c.pid) {
        try {
          process.kill(c.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    for (const ns of [TX, RX]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  };
  const onSignal = (): void => {
    cleanup();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    sh('ip', ['netns', 'add', TX]);
    sh('ip', ['netns', 'add', RX]);
    sh('ip', ['link', 'add', TXIF, 'netns', TX, 'type', 'veth', 'peer', 'name', RXIF, 'netns', RX]);
    for (const [ns, dev] of [
      [TX, TXIF],
      [RX, RXIF],
    ] as const) {
      spawnSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'], { stdio: 'ignore' });
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      sh('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    }
    log(
      `live-loss: ${file}: ${truth.totals.packets} SMTP packets, ${truth.totals.failures} 535s; namespaces ${TX} -> ${RX}; cap ${capOk ? 'built' : 'NOT available'}`,
    );
    log('backend  buffer                         rate     sent     delivered  k.recv   k.drop  pre-cap  lost%    535 found/truth  lost  wrong-clients');
    for (const rate of rates) {
      for (const cfg of configs) {
        for (let rep = 1; rep <= repeat; rep++) {
          const run: LiveLossRun = {
            backend: cfg.backend,
            buffer_size: cfg.bufferSize,
            buffer_label: bufLabel(cfg),
            snaplen: cfg.snaplen ?? null,
            immediate: cfg.immediate !== false,
            rate,
            repeat: rep,
            status: 'ok',
            sent: null,
            send_failed: null,
            send_seconds: null,
            send_pps: null,
            delivered: null,
            kernel_received: null,
            kernel_dropped: null,
            if_dropped: null,
            dropped_before_capture: null,
            lost_packets: null,
            loss_pct: null,
            failures_found: null,
            failures_truth: truth.totals.failures,
            failures_lost: null,
            failures_extra: null,
            clients_wrong: null,
            drain_s: null,
          };
          report.runs.push(run);
          if (cfg.backend === 'cap' && !capOk) {
            run.status = 'skipped';
            run.note = 'cap not built (npm rebuild cap)';
            log(`${cfg.backend.padEnd(8)} ${run.buffer_label.padEnd(30)} SKIPPED: ${run.note}`);
            continue;
          }
          await oneRun(run);
        }
      }
    }
  } finally {
    cleanup();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }

  const groups = new Map<string, LiveLossRun[]>();
  for (const r of report.runs) {
    const k = `${r.backend}|${r.buffer_label}|${r.rate}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r);
  }
  for (const rs of groups.values()) {
    const ok = rs.filter((r) => r.status === 'ok');
    report.summary.push({
      backend: rs[0]!.backend,
      buffer_label: rs[0]!.buffer_label,
      rate: rs[0]!.rate,
      runs: ok.length,
      runs_failed: rs.filter((r) => r.status === 'failed').length,
      best_loss_pct: ok.length ? Math.min(...ok.map((r) => r.loss_pct ?? 0)) : null,
      worst_loss_pct: ok.length ? Math.max(...ok.map((r) => r.loss_pct ?? 0)) : null,
      worst_failures_lost: ok.length ? Math.max(...ok.map((r) => r.failures_lost ?? 0)) : null,
    });
  }
  log(`live-loss: results in ${resultsPath}`);
  return finish();

  async function oneRun(run: LiveLossRun): Promise<void> {
    const preVeth = vethDrops(RX, RXIF) + vethDrops(TX, TXIF);
    const preSoftnet = softnetDrops();
    const extra = [...(run.snaplen !== null ? ['--snaplen', String(run.snaplen)] : []), ...(run.immediate ? [] : ['--no-immediate'])];
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        RX,
        process.execPath,
        childScript,
        '--backend',
        run.backend,
        '--iface',
        RXIF,
        '--buffer-size',
        String(run.buffer_size),
        '--drain-max-ms',
        '120000',
        ...extra,
      ],
      { stdio: ['pipe', 'pipe', 'pipe'], cwd: root },
    );
    children.add(child);
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 4000) stderr += d;
    });
    const lines = new JsonLines(child);
    try {
      const ready = await lines.next(['ready', 'error'], 30_000);
      if (!ready || ready.type !== 'ready') {
        run.status = 'failed';
        run.note = `capture did not start: ${ready ? String(ready.message) : stderr.trim().slice(-300)}`;
        log(`${run.backend.padEnd(8)} ${run.buffer_label.padEnd(30)} FAILED: ${run.note}`);
        return;
      }
      await new Promise((r) => setTimeout(r, 300));
      const rateArgs = run.rate === 'top' ? ['--topspeed'] : [`--pps=${run.rate}`];
      const tr = spawn('ip', ['netns', 'exec', TX, 'tcpreplay', '-q', '--preload-pcap', ...rateArgs, '-i', TXIF, file], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.add(tr);
      let trOut = '';
      tr.stdout.setEncoding('utf8').on('data', (d: string) => {
        trOut += d;
      });
      tr.stderr.setEncoding('utf8').on('data', (d: string) => {
        trOut += d;
      });
      await waitClose(tr, 600_000);
      children.delete(tr);
      const t = parseTcpreplay(trOut);
      run.sent = t.sent;
      run.send_failed = t.failed;
      run.send_seconds = t.seconds;
      run.send_pps = t.pps !== null ? Math.round(t.pps) : t.sent !== null && t.seconds ? Math.round(t.sent / t.seconds) : null;
      if (tr.exitCode !== 0 || t.sent === null) {
        run.status = 'failed';
        run.note = `tcpreplay failed: ${trOut.trim().split('\n').slice(-3).join(' ')}`;
      }
      child.stdin.end();
      const res = await lines.next(['result', 'error'], 180_000);
      await waitClose(child, 10_000);
      if (!res || res.type !== 'result') {
        run.status = 'failed';
        run.note = `${run.note ?? ''} capture child gave no result: ${res ? String(res.message) : stderr.trim().slice(-300)}`.trim();
        return;
      }
      const stats = res.stats as { received: number | null; dropped: number | null; ifDropped: number | null; delivered: number };
      const failures = res.failures as Record<string, number>;
      run.delivered = stats.delivered;
      run.kernel_received = stats.received;
      run.kernel_dropped = stats.dropped;
      run.if_dropped = stats.ifDropped;
      run.drain_s = Number(res.drain_s);
      run.dropped_before_capture = vethDrops(RX, RXIF) + vethDrops(TX, TXIF) - preVeth + (softnetDrops() - preSoftnet);
      if (run.sent !== null) {
        run.lost_packets = Math.max(0, run.sent - stats.delivered);
        run.loss_pct = Math.round((run.lost_packets / run.sent) * 1e5) / 1e3;
      }
      let found = 0,
        lost = 0,
        extra = 0,
        wrong = 0;
      const ips = new Set([...Object.keys(truth.clients), ...Object.keys(failures)]);
      for (const ip of ips) {
        const want = truth.clients[ip]?.failures ?? 0;
        const got = failures[ip] ?? 0;
        found += got;
        if (got < want) lost += want - got;
        if (got > want) extra += got - want;
        if (got !== want) wrong++;
      }
      run.failures_found = found;
      run.failures_lost = lost;
      run.failures_extra = extra;
      run.clients_wrong = wrong;
      if (typeof res.capture_error === 'string' && res.capture_error) run.note = `capture error: ${res.capture_error}`;
      const n = (x: number | null): string => (x === null ? '?' : String(x));
      log(
        `${run.backend.padEnd(8)} ${run.buffer_label.padEnd(30)} ${String(run.rate === 'top' ? `top(${n(run.send_pps)})` : run.rate).padEnd(8)} ` +
          `${n(run.sent).padEnd(8)} ${n(run.delivered).padEnd(10)} ${n(run.kernel_received).padEnd(8)} ${n(run.kernel_dropped).padEnd(7)} ` +
          `${n(run.dropped_before_capture).padEnd(8)} ${n(run.loss_pct).padEnd(8)} ${`${found}/${truth.totals.failures}`.padEnd(16)} ${String(lost).padEnd(5)} ${wrong}`,
      );
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        if (!(await waitClose(child, 5000))) child.kill('SIGKILL');
      }
      children.delete(child);
    }
  }
}

async function main(): Promise<number> {
  const { values: v } = parseArgs({
    options: {
      file: { type: 'string' },
      'size-mb': { type: 'string', default: '50' },
      rates: { type: 'string', default: '60000,120000,top' },
      configs: { type: 'string' },
      repeat: { type: 'string', default: '1' },
      results: { type: 'string' },
      regen: { type: 'boolean', default: false },
    },
  });
  const opts: LiveLossOptions = {
    sizeMb: Number(v['size-mb']),
    rates: v.rates.split(',').map((s) => (s.trim() === 'top' ? 'top' : Number(s))),
    repeat: Number(v.repeat),
    regen: v.regen,
  };
  if (v.file) opts.file = v.file;
  if (v.results) opts.results = v.results;
  if (v.configs) {
    opts.configs = v.configs.split(',').map((c) => {
      const [b, n, ...flags] = c.split(':');
      if (b !== 'cap' && b !== 'tcpdump') throw new Error(`bad config ${c} (backend:bytes[:sSNAPLEN][:noimm])`);
      const cfg: LiveLossConfig = { backend: b, bufferSize: Number(n ?? 0) };
      for (const f of flags) {
        if (/^s\d+$/.test(f)) cfg.snaplen = Number(f.slice(1));
        else if (f === 'noimm') cfg.immediate = false;
        else throw new Error(`bad config flag ${f} in ${c}`);
      }
      return cfg;
    });
  }
  const r = await runLiveLoss(opts);
  return r.skipped ? 0 : r.runs.every((x) => x.status !== 'failed') ? 0 : 3;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().then(
    (c) => {
      process.exitCode = c;
    },
    (e: unknown) => {
      process.stderr.write(`live-loss: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 3;
    },
  );
}
