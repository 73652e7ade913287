/**
 * CPU of `watch` on the live path (issue 15 item 7): `node dist/bench/live-cpu.js` (root).
 *
 *   node dist/bench/live-cpu.js [--file bench/out/live.pcap] [--size-mb 50] [--rate 120000]
 *       [--backends tcpdump,cap] [--repeat 3] [--cli dist/src/cli.js] [--profile DIR]
 *       [--steady-mb 150] [--busy N [--busy-nice 0]]
 *       [--results bench/out/live-cpu.json]
 *
 * The test bed of bench/live-loss.ts: two network namespaces made for the run (tx, rx) joined by a
 * veth pair; `tcpreplay --preload-pcap --pps=RATE` sends the SMTP-only capture (bench/gen.ts
 * --bg-share 0, ground truth beside it) into the tx end. On the rx end runs the real product:
 * `smtpstrike watch -i RXIF --capture-backend B --dry-run` (its own state and log file in a scratch
 * directory; started with `ip netns exec`, which execs node in place, so the PID is watch's). Frames
 * carry foreign MAC addresses, so the rx IP stack drops them after the packet taps.
 *
 * Measured per run, from /proc/PID/stat (utime + stime, clock ticks): watch's CPU and its tcpdump
 * child's, from just before tcpreplay starts until both are idle again (what watch still had queued
 * when tcpreplay ended is counted). Reported as CPU seconds, µs per packet watch received, and % of one core
 * at the nominal rate (µs per packet × rate). From watch's own exit stats line: packets,
 * kernel received/dropped (tcpdump); from its log, the `auth_failure` lines against the truth's 535s.
 * Other work on the machine makes the figures noisy: repeat and take the best (the lowest CPU).
 *
 * A run of a 50 MB capture lasts 3 s at 120,000 pkt/s, and what watch spends once — V8 compiling
 * the hot path (about 0.3 s of CPU on its background threads), the first state file — weighs
 * about a fifth of it. `--steady-mb N` (e.g. 150) also sends an N MB capture
 * (bench/out/live-N.pcap, made like the first) in every round, and reports the CPU of the packets
 * the larger capture has in addition: (CPU_large − CPU_small) / (packets_large − packets_small)
 * over the best run of each — what a sustained flood costs per packet, per-second work (state
 * file, ticks) included, what is paid once left out.
 *
 * `--busy N` runs N busy loops (node processes, nice `--busy-nice`, default 0) beside every run:
 * a loaded machine, where a consumer that waits (coalesced reads) could lose packets; the `k.drop`
 * column says whether it did.
 *
 * --profile DIR runs watch with `--cpu-prof --cpu-prof-dir DIR` (one run per backend is enough);
 * `node dist/bench/cpu-profile-summary.js DIR/*.cpuprofile` prints where the time went.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, setPriority, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureCapture, firstLine, have, parseTcpreplay, sh, waitClose } from './live-loss.js';

const here = dirname(fileURLToPath(import.meta.url)); // <root>/dist/bench
const root = resolve(here, '..', '..');
const MiB = 1024 * 1024;
const TICK = 100; // USER_HZ: /proc/PID/stat's clock ticks per second on Linux

export interface LiveCpuOptions {
  file?: string;
  sizeMb?: number;
  rate?: number;
  backends?: ('tcpdump' | 'cap')[];
  repeat?: number;
  cli?: string;
  /** Directory for `--cpu-prof` profiles of watch (none when absent). */
  profile?: string;
  /** Also a capture of this many MB, for the CPU per additional packet (a sustained flood). */
  steadyMb?: number;
  /**
   * Busy loops to run beside every run (each a node process spinning at nice `busyNice`): a
   * loaded machine, to see whether watch still loses nothing (the soak of coalesced reads).
   */
  busy?: number;
  busyNice?: number;
  results?: string;
  log?: (s: string) => void;
}

export interface LiveCpuRun {
  backend: 'tcpdump' | 'cap';
  /** Which capture: the usual one, or the larger one of --steady-mb. */
  capture: 'base' | 'steady';
  repeat: number;
  status: 'ok' | 'failed' | 'skipped';
  note?: string;
  sent: number | null;
  send_seconds: number | null;
  send_pps: number | null;
  /** CPU seconds (user + sys) over the window: watch (node), its tcpdump child, both. */
  watch_cpu_s: number | null;
  watch_user_s: number | null;
  watch_sys_s: number | null;
  tcpdump_cpu_s: number | null;
  total_cpu_s: number | null;
  /** Wall seconds from tcpreplay's start until watch was idle again. */
  window_s: number | null;
  /** CPU per packet watch received, µs (watch alone, and with tcpdump). */
  watch_us_per_packet: number | null;
  total_us_per_packet: number | null;
  /** % of one core at the nominal rate: µs per packet × rate. */
  watch_pct_core: number | null;
  total_pct_core: number | null;
  /**
   * Times watch's main thread went to sleep and was woken (voluntary context switches) per 1,000
   * packets: how many reads the packets took, whatever the machine's speed.
   */
  wakeups_per_kpacket: number | null;
  /** From watch's exit stats line. */
  packets: number | null;
  kernel_received: number | null;
  kernel_dropped: number | null;
  /** `auth_failure` lines in watch's log against the truth's 535 replies. */
  failures_logged: number | null;
  failures_truth: number;
  log_lines: number | null;
}

export interface LiveCpuReport {
  when: string;
  skipped: string | null;
  machine: { cpus: number; model: string; kernel: string; node: string; tcpdump: string | null; tcpreplay: string | null; loadavg_start: string };
  /** Busy loops run beside every run (`--busy`), and their nice value. */
  busy: { loops: number; nice: number };
  capture: { file: string; packets: number; failures: number };
  rate: number;
  runs: LiveCpuRun[];
  best: {
    backend: string;
    runs: number;
    watch_pct_core: number | null;
    total_pct_core: number | null;
    watch_us_per_packet: number | null;
    total_us_per_packet: number | null;
  }[];
  /**
   * --steady-mb: the CPU of the packets the larger capture has in addition (best run of each),
   * per backend; µs per packet and % of one core at the rate.
   */
  steady: {
    backend: string;
    file: string;
    watch_us_per_packet: number | null;
    total_us_per_packet: number | null;
    watch_pct_core: number | null;
    total_pct_core: number | null;
  }[];
}

/** utime + stime of a process, in ticks (null when it is gone). */
function cpuTicks(pid: number): { user: number; sys: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state): utime is field 14, stime 15.
    return { user: Number(f[11]), sys: Number(f[12]) };
  } catch {
    return null;
  }
}

/** Voluntary context switches of a process's main thread (null when it is gone). */
function wakeups(pid: number): number | null {
  try {
    const m = /voluntary_ctxt_switches:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Child PIDs of `pid` (all its threads' children). */
function childPids(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      const c = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim();
      if (c) out.push(...c.split(/\s+/).map(Number));
    }
  } catch {
    /* gone */
  }
  return out;
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function loadavg(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return '?';
  }
}

export async function runLiveCpu(o: LiveCpuOptions): Promise<LiveCpuReport> {
  const log = o.log ?? ((s: string) => process.stdout.write(s + '\n'));
  const file = resolve(root, o.file ?? 'bench/out/live.pcap');
  const resultsPath = resolve(root, o.results ?? 'bench/out/live-cpu.json');
  const cli = resolve(root, o.cli ?? 'dist/src/cli.js');
  const rate = o.rate ?? 120000;
  const backends = o.backends ?? ['tcpdump', 'cap'];
  const repeat = o.repeat ?? 3;
  const report: LiveCpuReport = {
    when: new Date().toISOString(),
    skipped: null,
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? '?',
      kernel: firstLine('uname', ['-r']) ?? '?',
      node: process.version,
      tcpdump: firstLine('tcpdump', ['--version']),
      tcpreplay: firstLine('tcpreplay', ['--version']),
      loadavg_start: loadavg(),
    },
    capture: { file, packets: 0, failures: 0 },
    busy: { loops: o.busy ?? 0, nice: o.busyNice ?? 0 },
    rate,
    runs: [],
    best: [],
    steady: [],
  };
  const finish = (): LiveCpuReport => {
    mkdirSync(dirname(resultsPath), { recursive: true });
    writeFileSync(resultsPath, JSON.stringify(report, null, 1) + '\n');
    return report;
  };
  if (process.getuid?.() !== 0) {
    report.skipped = 'needs root (network namespaces, packet capture)';
    log(`live-cpu: SKIPPED: ${report.skipped}`);
    return finish();
  }
  if (!have('tcpreplay') || !have('tcpdump')) {
    report.skipped = 'tcpreplay or tcpdump not installed (scripts/install-deps.sh bench)';
    log(`live-cpu: SKIPPED: ${report.skipped}`);
    return finish();
  }
  if (!existsSync(cli)) throw new Error(`${cli} missing: build first (npm run build)`);
  const truth = ensureCapture(file, o.sizeMb ?? 50, false, log);
  report.capture = { file, packets: truth.totals.packets, failures: truth.totals.failures };
  const labelWidth = o.steadyMb ? 14 : 8;
  const captures: { kind: 'base' | 'steady'; file: string; truth: typeof truth }[] = [{ kind: 'base', file, truth }];
  if (o.steadyMb) {
    const big = resolve(root, `bench/out/live-${o.steadyMb}.pcap`);
    captures.push({ kind: 'steady', file: big, truth: ensureCapture(big, o.steadyMb, false, log) });
  }
  if (o.profile) mkdirSync(resolve(o.profile), { recursive: true });

  const tag = `sslc${process.pid % 100000}`;
  const TX = `${tag}-tx`,
    RX = `${tag}-rx`,
    TXIF = `${tag}t`,
    RXIF = `${tag}r`;
  const scratch = mkdtempSync(join(tmpdir(), 'live-cpu-'));
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
    for (const ns of [TX, RX]) sh('ip', ['netns', 'del', ns], false);
    rmSync(scratch, { recursive: true, force: true });
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
      sh('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'], false);
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      sh('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    }
    for (const c of captures) log(`live-cpu: ${c.file}: ${c.truth.totals.packets} SMTP packets at ${rate} pkt/s`);
    for (let i = 0; i < (o.busy ?? 0); i++) {
      const hog = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
      children.add(hog);
      if (hog.pid) setPriority(hog.pid, o.busyNice ?? 0);
    }
    if (o.busy) log(`live-cpu: ${o.busy} busy loop(s) at nice ${o.busyNice ?? 0} beside every run`);
    log(`live-cpu: watch --dry-run in ${RX}; load ${report.machine.loadavg_start}`);
    log(
      `${'backend'.padEnd(labelWidth)} run  sent     pps      window  watch cpu (usr+sys)   tcpdump  total   watch %core  total %core  µs/pkt  packets  k.drop  wake/kpkt 535 logged/truth`,
    );
    for (let rep = 1; rep <= repeat; rep++) {
      for (const backend of backends)
        for (const cap of captures) {
          const run: LiveCpuRun = {
            backend,
            capture: cap.kind,
            repeat: rep,
            status: 'ok',
            sent: null,
            send_seconds: null,
            send_pps: null,
            watch_cpu_s: null,
            watch_user_s: null,
            watch_sys_s: null,
            tcpdump_cpu_s: null,
            total_cpu_s: null,
            window_s: null,
            watch_us_per_packet: null,
            total_us_per_packet: null,
            watch_pct_core: null,
            total_pct_core: null,
            wakeups_per_kpacket: null,
            packets: null,
            kernel_received: null,
            kernel_dropped: null,
            failures_logged: null,
            failures_truth: cap.truth.totals.failures,
            log_lines: null,
          };
          report.runs.push(run);
          await oneRun(run, rep, cap.file, cap.truth.totals.failures);
        }
    }
  } finally {
    cleanup();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  for (const backend of backends) {
    const ok = report.runs.filter((r) => r.backend === backend && r.capture === 'base' && r.status === 'ok' && r.watch_cpu_s !== null);
    const min = (f: (r: LiveCpuRun) => number | null): number | null => {
      const v = ok.map(f).filter((x): x is number => x !== null);
      return v.length ? Math.min(...v) : null;
    };
    report.best.push({
      backend,
      runs: ok.length,
      watch_pct_core: min((r) => r.watch_pct_core),
      total_pct_core: min((r) => r.total_pct_core),
      watch_us_per_packet: min((r) => r.watch_us_per_packet),
      total_us_per_packet: min((r) => r.total_us_per_packet),
    });
  }
  for (const b of report.best) {
    log(
      `live-cpu best of ${b.runs} (${b.backend}): watch ${b.watch_pct_core ?? '?'} % of one core, with tcpdump ${b.total_pct_core ?? '?'} % ` +
        `(${b.watch_us_per_packet ?? '?'} / ${b.total_us_per_packet ?? '?'} µs per packet) at ${rate} pkt/s`,
    );
  }
  if (captures.length > 1) {
    const r2 = (x: number): number => Math.round(x * 100) / 100;
    for (const backend of backends) {
      const bestOf = (kind: 'base' | 'steady'): LiveCpuRun | null =>
        report.runs
          .filter((r) => r.backend === backend && r.capture === kind && r.status === 'ok' && r.watch_cpu_s !== null && r.packets !== null)
          .sort((a, b) => a.watch_cpu_s! / a.packets! - b.watch_cpu_s! / b.packets!)[0] ?? null;
      const a = bestOf('base');
      const b = bestOf('steady');
      const dp = a && b ? b.packets! - a.packets! : 0;
      const per = (x: number | null, y: number | null): number | null => (x !== null && y !== null && dp > 0 ? ((y - x) / dp) * 1e6 : null);
      const w = per(a?.watch_cpu_s ?? null, b?.watch_cpu_s ?? null);
      const t = per(a?.total_cpu_s ?? null, b?.total_cpu_s ?? null);
      const st = {
        backend,
        file: captures[1]!.file,
        watch_us_per_packet: w === null ? null : r2(w),
        total_us_per_packet: t === null ? null : r2(t),
        watch_pct_core: w === null ? null : r2((w * rate) / 1e4),
        total_pct_core: t === null ? null : r2((t * rate) / 1e4),
      };
      report.steady.push(st);
      log(
        `live-cpu steady (${backend}; the packets of the ${o.steadyMb} MB capture beyond the 50 MB one): watch ${st.watch_us_per_packet ?? '?'} µs per packet = ` +
          `${st.watch_pct_core ?? '?'} % of one core at ${rate} pkt/s; with tcpdump ${st.total_us_per_packet ?? '?'} µs = ${st.total_pct_core ?? '?'} %`,
      );
    }
  }
  log(`live-cpu: results in ${resultsPath}`);
  return finish();

  /** The backend, and the size of the larger capture on its runs. */
  function label(run: LiveCpuRun): string {
    return (run.capture === 'steady' ? `${run.backend}/${o.steadyMb}MB` : run.backend).padEnd(labelWidth);
  }

  async function oneRun(run: LiveCpuRun, rep: number, file: string, truthFailures: number): Promise<void> {
    const dir = join(scratch, `${run.backend}-${run.capture}-${rep}`);
    mkdirSync(dir, { recursive: true });
    const logFile = join(dir, 'watch.log');
    writeFileSync(join(dir, 'none.yaml'), '{}\n'); // no config file of the host's
    const nodeArgs = o.profile
      ? ['--cpu-prof', '--cpu-prof-dir', resolve(o.profile), '--cpu-prof-name', `watch-${run.backend}-${run.capture}-${rep}-${process.pid}.cpuprofile`]
      : [];
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        RX,
        process.execPath,
        ...nodeArgs,
        cli,
        'watch',
        '-i',
        RXIF,
        '--capture-backend',
        run.backend,
        '--buffer-size',
        String(128 * MiB),
        '--dry-run',
        '--state-file',
        join(dir, 'state.json'),
        '--log-file',
        logFile,
        '--stats-interval',
        '3600',
        '--config',
        join(dir, 'none.yaml'),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir },
    );
    children.add(child);
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 4000) stderr += d;
    });
    const readLog = (): string => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    };
    const n = (x: number | null, d = 0): string => (x === null ? '?' : x.toFixed(d));
    try {
      const t0 = Date.now();
      while (!/"event":"start"/.test(readLog())) {
        if (child.exitCode !== null || Date.now() - t0 > 30_000) {
          run.status = 'failed';
          run.note = `watch did not start: ${stderr.trim().slice(-300) || readLog().slice(-300)}`;
          log(`${label(run)} ${String(rep).padEnd(4)} FAILED: ${run.note}`);
          return;
        }
        await sleep(100);
      }
      await sleep(500);
      const pid = child.pid!;
      const tdPid = run.backend === 'tcpdump' ? (childPids(pid).find((p) => commOf(p) === 'tcpdump') ?? null) : null;
      const w0 = cpuTicks(pid);
      const d0 = tdPid !== null ? cpuTicks(tdPid) : null;
      const v0 = wakeups(pid);
      const wall0 = Date.now();
      const tr = spawn('ip', ['netns', 'exec', TX, 'tcpreplay', '-q', '--preload-pcap', `--pps=${rate}`, '-i', TXIF, file], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.add(tr);
      let trOut = '';
      tr.stdout.setEncoding('utf8').on('data', (d: string) => (trOut += d));
      tr.stderr.setEncoding('utf8').on('data', (d: string) => (trOut += d));
      await waitClose(tr, 600_000);
      children.delete(tr);
      const t = parseTcpreplay(trOut);
      run.sent = t.sent;
      run.send_seconds = t.seconds;
      run.send_pps = t.pps !== null ? Math.round(t.pps) : null;
      if (tr.exitCode !== 0 || t.sent === null) {
        run.status = 'failed';
        run.note = `tcpreplay failed: ${trOut.trim().split('\n').slice(-3).join(' ')}`;
        return;
      }
      // Idle again: neither process used a tick in 300 ms (or 60 s passed).
      let prev = -1;
      let wall1 = Date.now();
      for (const tEnd = Date.now() + 60_000; Date.now() < tEnd;) {
        const a = cpuTicks(pid);
        const b = tdPid !== null ? cpuTicks(tdPid) : null;
        const sum = (a ? a.user + a.sys : 0) + (b ? b.user + b.sys : 0);
        if (sum === prev) break;
        prev = sum;
        wall1 = Date.now();
        await sleep(300);
      }
      const w1 = cpuTicks(pid);
      const d1 = tdPid !== null ? cpuTicks(tdPid) : null;
      const v1 = wakeups(pid);
      if (w0 && w1) {
        run.watch_user_s = (w1.user - w0.user) / TICK;
        run.watch_sys_s = (w1.sys - w0.sys) / TICK;
        run.watch_cpu_s = run.watch_user_s + run.watch_sys_s;
      }
      run.tcpdump_cpu_s = d0 && d1 ? (d1.user + d1.sys - d0.user - d0.sys) / TICK : run.backend === 'cap' ? 0 : null;
      run.total_cpu_s = run.watch_cpu_s !== null && run.tcpdump_cpu_s !== null ? run.watch_cpu_s + run.tcpdump_cpu_s : null;
      run.window_s = (wall1 - wall0) / 1000;
      child.kill('SIGTERM');
      if (!(await waitClose(child, 30_000))) child.kill('SIGKILL');
      const lines = readLog().split('\n').filter(Boolean);
      run.log_lines = lines.length;
      let failures = 0;
      for (const l of lines) {
        if (l.includes('"event":"auth_failure"')) failures++;
        else if (l.includes('"event":"stats"')) {
          const s = JSON.parse(l) as { packets?: number; capture?: { received?: number | string; dropped?: number | string } };
          run.packets = s.packets ?? null;
          run.kernel_received = typeof s.capture?.received === 'number' ? s.capture.received : null;
          run.kernel_dropped = typeof s.capture?.dropped === 'number' ? s.capture.dropped : null;
        }
      }
      run.failures_logged = failures;
      // Per packet watch received (its pipeline's count; under load the kernel may drop some, which
      // then cost nothing here), and as % of one core at the nominal rate: µs/packet × rate.
      const per = run.packets !== null && run.packets > 0 ? run.packets : t.sent;
      const r2 = (x: number): number => Math.round(x * 100) / 100;
      if (run.watch_cpu_s !== null) {
        run.watch_us_per_packet = r2((run.watch_cpu_s / per) * 1e6);
        run.watch_pct_core = r2((run.watch_cpu_s / per) * rate * 100);
      }
      if (run.total_cpu_s !== null) {
        run.total_us_per_packet = r2((run.total_cpu_s / per) * 1e6);
        run.total_pct_core = r2((run.total_cpu_s / per) * rate * 100);
      }
      if (v0 !== null && v1 !== null && per) run.wakeups_per_kpacket = r2(((v1 - v0) / per) * 1000);
      log(
        `${label(run)} ${String(rep).padEnd(4)} ${n(run.sent).padEnd(8)} ${n(run.send_pps).padEnd(8)} ${n(run.window_s, 1).padEnd(7)} ` +
          `${`${n(run.watch_cpu_s, 2)} (${n(run.watch_user_s, 2)}+${n(run.watch_sys_s, 2)})`.padEnd(21)} ${n(run.tcpdump_cpu_s, 2).padEnd(8)} ${n(run.total_cpu_s, 2).padEnd(7)} ` +
          `${n(run.watch_pct_core, 1).padEnd(12)} ${n(run.total_pct_core, 1).padEnd(12)} ${n(run.total_us_per_packet, 2).padEnd(7)} ` +
          `${n(run.packets).padEnd(8)} ${n(run.kernel_dropped).padEnd(7)} ${n(run.wakeups_per_kpacket, 1).padEnd(9)} ${failures}/${truthFailures}`,
      );
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        if (!(await waitClose(child, 10_000))) child.kill('SIGKILL');
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
      rate: { type: 'string', default: '120000' },
      backends: { type: 'string', default: 'tcpdump,cap' },
      repeat: { type: 'string', default: '3' },
      cli: { type: 'string' },
      profile: { type: 'string' },
      results: { type: 'string' },
      'steady-mb': { type: 'string' },
      busy: { type: 'string' },
      'busy-nice': { type: 'string' },
    },
  });
  const backends = v.backends.split(',').map((b) => {
    if (b !== 'tcpdump' && b !== 'cap') throw new Error(`bad backend ${b} (tcpdump, cap)`);
    return b;
  });
  const opts: LiveCpuOptions = { sizeMb: Number(v['size-mb']), rate: Number(v.rate), backends, repeat: Number(v.repeat) };
  if (v.file) opts.file = v.file;
  if (v.cli) opts.cli = resolve(v.cli);
  if (v.profile) opts.profile = resolve(v.profile);
  if (v.results) opts.results = v.results;
  if (v['steady-mb']) opts.steadyMb = Number(v['steady-mb']);
  if (v.busy) opts.busy = Number(v.busy);
  if (v['busy-nice']) opts.busyNice = Number(v['busy-nice']);
  const r = await runLiveCpu(opts);
  return r.skipped ? 0 : r.runs.every((x) => x.status !== 'failed') ? 0 : 3;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().then(
    (c) => {
      process.exitCode = c;
    },
    (e: unknown) => {
      process.stderr.write(`live-cpu: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 3;
    },
  );
}
