/**
 * Live capture sources (src/live). Without root: option handling, error classification and the
 * tcpdump pipe backend driven by a fake tcpdump (a shell script that speaks tcpdump's stderr and
 * writes a real capture to stdout). As root: both backends inside network namespaces with the real
 * Postfix + Dovecot test bed (scripts/testbed/lib.sh) and swaks clients — live capture, the replay
 * pipeline, exact 535 counts per client — plus bad filter / missing interface / no permission
 * errors, and proof that cap's failed open() no longer takes the process down. Root-only parts
 * say SKIPPED loudly when they cannot run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultPipelineOptions, Pipeline } from '../src/pipeline.js';
import { countsOnlyLimits, ReplayTally } from '../src/replay-output/client-tally.js';
import { CAP_MISSING, capLoadError, CapSource, capLinktype } from '../src/live/cap-source.js';
import { bpfForPorts, capAvailable, createLiveSource, DEFAULT_LIVE_BACKEND, LiveCaptureError } from '../src/live/index.js';
import { classifyPcapError, DEFAULT_SNAPLEN, type LiveSourceOptions } from '../src/live/live-source.js';
import { tcpdumpArgs, TcpdumpSource } from '../src/live/tcpdump-source.js';
import { MAX_RATE, ReadCoalescer, READ_COALESCE_MS } from '../src/live/read-coalescer.js';
import { CaptureFileReader } from '../src/source/capture-file.js';
import type { PacketRecord } from '../src/source/packet-record.js';
import { waitFor } from './support/wait.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const childScript = join(root, 'dist', 'test', 'support', 'capture-child.js');
const isRoot = process.getuid?.() === 0;
const MiB = 1024 * 1024;

function loudSkip(t: { skip: (m: string) => void }, why: string): void {
  process.stderr.write(`SKIPPED LOUDLY: live-capture: ${why}\n`);
  t.skip(why);
}

function newPipeline(): { pipeline: Pipeline; tally: ReplayTally } {
  const tally = new ReplayTally(null, countsOnlyLimits);
  return { pipeline: new Pipeline(defaultPipelineOptions(), tally), tally };
}

function failuresOf(tally: ReplayTally): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [ip, c] of tally.clients) if (c.failures > 0) out[ip] = c.failures;
  return out;
}

async function rejection(p: Promise<unknown>): Promise<LiveCaptureError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof LiveCaptureError, `a LiveCaptureError, got ${(e as Error).stack}`);
    return e;
  }
  assert.fail('expected a rejection');
}

// ------------------------------------------------------------------------------------------------
// no root needed

test('bpfForPorts builds the filter from --ports', () => {
  assert.equal(bpfForPorts([25, 587]), 'tcp port 25 or tcp port 587');
  assert.equal(bpfForPorts([465]), 'tcp port 465');
  assert.equal(bpfForPorts([25, 25, 587]), 'tcp port 25 or tcp port 587');
  assert.throws(() => bpfForPorts([0]), RangeError);
  assert.throws(() => bpfForPorts([70000]), RangeError);
});

test('tcpdump argument list: -U, immediate mode, -B in KiB, snaplen, filter after --', () => {
  const o: LiveSourceOptions = { iface: 'eth0', filter: 'tcp port 25', bufferSize: 128 * MiB };
  assert.deepEqual(tcpdumpArgs(o), [
    '-U',
    '--immediate-mode',
    '-n',
    '-i',
    'eth0',
    '-B',
    '131072',
    '-s',
    String(DEFAULT_SNAPLEN),
    '-w',
    '-',
    '--',
    'tcp port 25',
  ]);
  assert.deepEqual(tcpdumpArgs({ ...o, bufferSize: 0, filter: '', snaplen: 262144, immediate: false }), ['-U', '-n', '-i', 'eth0', '-s', '262144', '-w', '-']);
  assert.ok(tcpdumpArgs({ ...o, bufferSize: 1000 * 1024 + 1 }).includes('1001'), '-B rounds up');
  // a filter that looks like an option stays a filter
  assert.deepEqual(tcpdumpArgs({ ...o, filter: '-r /etc/passwd' }).slice(-2), ['--', '-r /etc/passwd']);
});

test('options are validated', () => {
  assert.throws(() => new TcpdumpSource({ iface: '', filter: '', bufferSize: 0 }), LiveCaptureError);
  assert.throws(() => new TcpdumpSource({ iface: '-w', filter: '', bufferSize: 0 }), LiveCaptureError);
  assert.throws(() => new TcpdumpSource({ iface: 'eth0', filter: '', bufferSize: 1000 }), RangeError);
  assert.throws(() => new TcpdumpSource({ iface: 'eth0', filter: '', bufferSize: 0, netns: 'a b' }), LiveCaptureError);
  assert.throws(() => createLiveSource('pf_ring' as 'cap', { iface: 'eth0', filter: '', bufferSize: 0 }), RangeError);
  assert.ok(DEFAULT_LIVE_BACKEND === 'tcpdump' || DEFAULT_LIVE_BACKEND === 'cap');
});

test('libpcap / tcpdump errors are classified with the fix in the message', () => {
  const perm = classifyPcapError(
    'tcpdump',
    'eth0',
    'tcp',
    "eth0: You don't have permission to perform this capture on that device (socket: Operation not permitted)",
  );
  assert.equal(perm.kind, 'permission');
  assert.match(perm.message, /AmbientCapabilities|setcap/);
  const capPerm = classifyPcapError('cap', 'eth0', 'tcp', 'socket: Operation not permitted');
  assert.equal(capPerm.kind, 'permission');
  assert.match(capPerm.message, /setcap cap_net_raw,cap_net_admin\+eip/);
  const dev = classifyPcapError('cap', 'nosuch0', 'tcp', 'No such device exists');
  assert.equal(dev.kind, 'interface');
  assert.match(dev.message, /no such interface "nosuch0"/);
  const filt = classifyPcapError('tcpdump', 'eth0', 'tcp port 25 andd', "can't parse filter expression: syntax error");
  assert.equal(filt.kind, 'filter');
  assert.match(filt.message, /bad capture filter "tcp port 25 andd": can't parse filter expression: syntax error/);
});

test('cap link type names map to LINKTYPE numbers', () => {
  assert.equal(capLinktype('ETHERNET'), 1);
  assert.equal(capLinktype('LINKTYPE_LINUX_SLL'), 113);
  assert.equal(capLinktype('RAW'), 101);
  assert.equal(capLinktype('NULL'), 0);
  assert.equal(capLinktype('Unknown linktype 276'), 276);
});

test('a cap that does not load: the error says how to get it, per case', () => {
  const absent = capLoadError("Cannot find package 'cap' imported from /x/dist/src/live/cap-source.js");
  assert.equal(absent.kind, 'module');
  assert.match(absent.message, /optional native module `cap`.*apt-get install libpcap-dev python3 make g\+\+ && npm install .*--capture-backend tcpdump/);
  const unbuilt = capLoadError("Cannot find module '../build/Release/cap.node'");
  assert.ok(unbuilt.message.startsWith(CAP_MISSING), unbuilt.message);
  assert.equal(
    CAP_MISSING,
    'live capture with the cap backend needs the optional native module `cap`: apt-get install libpcap-dev python3 make g++ && npm rebuild cap — or use --capture-backend tcpdump',
  );
  assert.match(capLoadError('was compiled against a different Node.js version using NODE_MODULE_VERSION 115').message, /npm rebuild cap/);
  assert.match(capLoadError('libpcap.so.0.8: cannot open shared object file').message, /apt-get install libpcap0\.8/);
});

test('cap refuses a network namespace it is not in, before touching libpcap', async () => {
  const src = new CapSource({ iface: 'eth0', filter: '', bufferSize: 0, netns: 'smtpstrike-no-such-ns' });
  const e = await rejection(src.start(() => undefined));
  assert.equal(e.kind, 'netns');
  assert.match(e.message, /ip netns exec smtpstrike-no-such-ns node/);
});

/** A stand-in for tcpdump: tcpdump's stderr lines, a real capture on stdout, stats on SIGUSR1 and at exit. */
function fakeTcpdump(dir: string, mode: 'capture' | 'badfilter' | 'nodevice' | 'dies'): string {
  const pcap = join(root, 'pcaps', 'testbed', 'login-587.pcap');
  const body = {
    capture: [
      'trap \'echo "tcpdump: 40 packets captured, 41 packets received by filter, 1 packet dropped by kernel" >&2\' USR1',
      'trap \'printf "\\n40 packets captured\\n41 packets received by filter\\n1 packet dropped by kernel\\n2 packets dropped by interface\\n" >&2; exit 0\' INT',
      'echo "tcpdump: listening on fake0, link-type EN10MB (Ethernet), snapshot length 1960 bytes" >&2',
      `cat '${pcap}'`,
      'while :; do sleep 0.05; done',
    ],
    badfilter: ['echo "tcpdump: can\'t parse filter expression: syntax error" >&2', 'exit 1'],
    nodevice: ['echo "tcpdump: fake0: No such device exists" >&2', 'echo "(SIOCGIFHWADDR: No such device)" >&2', 'exit 1'],
    dies: [
      'echo "tcpdump: listening on fake0, link-type EN10MB (Ethernet), snapshot length 1960 bytes" >&2',
      'sleep 0.2',
      'echo "tcpdump: pcap_loop: The interface disappeared" >&2',
      'exit 1',
    ],
  }[mode];
  const f = join(dir, `tcpdump-${mode}`);
  writeFileSync(f, ['#!/bin/bash', ...body, ''].join('\n'));
  chmodSync(f, 0o755);
  return f;
}

test('tcpdump pipe backend (fake tcpdump): pcap stream → pipeline, statistics, clean stop', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'smtpstrike-live-'));
  try {
    const src = new TcpdumpSource({ iface: 'fake0', filter: bpfForPorts([25, 587]), bufferSize: 0, drainQuietMs: 300 }, fakeTcpdump(dir, 'capture'));
    const { pipeline, tally } = newPipeline();
    await src.start((rec) => pipeline.packet(rec));
    assert.match(src.listening, /link-type EN10MB/);
    const mid = await src.stats(); // SIGUSR1 → one-line statistics
    assert.equal(mid.received, 41);
    assert.equal(mid.dropped, 1);
    await src.stop();
    await src.stop(); // idempotent
    pipeline.finish();
    assert.deepEqual(failuresOf(tally), { '10.200.0.2': 5 });
    assert.equal(tally.clients.get('10.200.0.2')?.successes, 1);
    const end = await src.stats(); // from the statistics tcpdump prints at exit
    assert.deepEqual({ ...end, delivered: 0 }, { received: 41, dropped: 1, ifDropped: 2, delivered: 0 });
    assert.equal(end.delivered, pipeline.packets);
    assert.ok(pipeline.packets > 0 && pipeline.packets === pipeline.smtpPackets);
    assert.ok(pipeline.firstTs > 1e9, 'timestamps come from the pcap records');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('coalesced reads: wait only after a small read, with nothing buffered, at a low rate, never twice in a row', () => {
  const c = new ReadCoalescer(READ_COALESCE_MS);
  assert.equal(c.afterRead(2, 300, 0, 0), READ_COALESCE_MS, 'a packet or two: wait');
  assert.equal(c.afterRead(1, 150, 0, 1.1), 0, 'the first read after a wait never waits');
  assert.equal(c.afterRead(3, 450, 0, 1.2), READ_COALESCE_MS, '4 packets in 1.2 ms: wait again');
  assert.equal(c.afterRead(1, 100, 0, 2.3), 0, 'the first read after a wait never waits');
  assert.equal(c.afterRead(32, 4000, 0, 2.5), 0, '32 packets in one read: they are piling up, read on at once');
  assert.equal(c.afterRead(20, 32 * 1024, 0, 2.6), 0, '32 KiB in one read (large frames): read on at once');
  assert.equal(c.afterRead(2, 300, 1, 2.7), 0, 'data already buffered: no wait');
  // 200 packets a millisecond in small reads: above MAX_RATE, never a wait however long it lasts.
  const fast = new ReadCoalescer(1);
  assert.equal(fast.afterRead(2, 300, 0, 0), 1);
  assert.equal(fast.afterRead(1, 150, 0, 1), 0);
  assert.equal(fast.afterRead(200, 30000, 0, 1.05), 0, 'what piled up during the wait: a large read');
  let waits = 0;
  for (let t = 1.1; t < 40; t += 0.1) waits += fast.afterRead(20, 3000, 0, t) > 0 ? 1 : 0;
  assert.equal(waits, 0, `more than ${MAX_RATE} packets/ms: no wait`);
  // When the flood ends, the next small reads wait again.
  let later = 0;
  for (let t = 41; t < 60; t += 1) later += fast.afterRead(2, 300, 0, t) > 0 ? 1 : 0;
  assert.ok(later >= 8, `slow again: waits resume (${later})`);
  const off = new ReadCoalescer(0);
  assert.equal(off.afterRead(1, 100, 0, 0), 0, 'coalesceMs 0 turns it off');
  assert.throws(() => new TcpdumpSource({ iface: 'fake0', filter: '', bufferSize: 0, coalesceMs: 11 }), /coalesceMs must be an integer from 0 to 10/);
  assert.throws(() => new TcpdumpSource({ iface: 'fake0', filter: '', bufferSize: 0, coalesceMs: -1 }), /coalesceMs/);
});

test('tcpdump pipe backend: a capture trickled packet by packet arrives whole and in order, reads coalesced or not', async () => {
  const pcap = join(root, 'pcaps', 'report', 'report.pcap');
  const want: string[] = [];
  const file = await CaptureFileReader.open(pcap);
  for (;;) {
    while (file.next()) want.push(packetKey(file.rec));
    if (!(await file.refill())) break;
  }
  await file.close();
  assert.ok(want.length > 300, `the capture has packets (${want.length})`);
  const dir = mkdtempSync(join(tmpdir(), 'smtpstrike-trickle-'));
  try {
    const fake = join(dir, 'tcpdump');
    writeFileSync(fake, `#!/bin/sh\nexec '${process.execPath}' '${join(root, 'dist', 'test', 'support', 'trickle-tcpdump.js')}' '${pcap}' "$@"\n`);
    chmodSync(fake, 0o755);
    for (const coalesceMs of [READ_COALESCE_MS, 0, 3]) {
      const got: string[] = [];
      const src = new TcpdumpSource({ iface: 'fake0', filter: '', bufferSize: 0, drainQuietMs: 300, coalesceMs }, fake);
      await src.start((rec) => got.push(packetKey(rec)));
      await waitFor(() => got.length >= want.length, `all ${want.length} packets (coalesceMs ${coalesceMs})`, 60_000, 20);
      await src.stop();
      assert.deepEqual(got, want, `coalesceMs ${coalesceMs}: every packet, in order, byte for byte`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** One packet as a comparable string: its time, lengths and bytes. */
function packetKey(rec: PacketRecord): string {
  return `${rec.tsSec}.${rec.tsNsec} ${rec.caplen}/${rec.origlen} ${rec.buf.toString('hex', rec.off, rec.off + rec.caplen)}`;
}

test('tcpdump pipe backend: start errors are clear, an unexpected end is reported', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'smtpstrike-live-'));
  try {
    const o: LiveSourceOptions = { iface: 'fake0', filter: 'tcp port 25 andd', bufferSize: 0 };
    const bad = await rejection(new TcpdumpSource(o, fakeTcpdump(dir, 'badfilter')).start(() => undefined));
    assert.equal(bad.kind, 'filter');
    assert.match(bad.message, /bad capture filter "tcp port 25 andd": can't parse filter expression/);
    const nodev = await rejection(new TcpdumpSource(o, fakeTcpdump(dir, 'nodevice')).start(() => undefined));
    assert.equal(nodev.kind, 'interface');
    assert.match(nodev.message, /no such interface "fake0"/);
    const missing = await rejection(new TcpdumpSource(o, join(dir, 'no-tcpdump-here')).start(() => undefined));
    assert.equal(missing.kind, 'tool');
    assert.match(missing.message, /apt-get install tcpdump/);

    let reported: LiveCaptureError | null = null;
    const dies = new TcpdumpSource(
      {
        ...o,
        onError: (e) => {
          reported = e;
        },
      },
      fakeTcpdump(dir, 'dies'),
    );
    await dies.start(() => undefined);
    for (let i = 0; i < 50 && reported === null; i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(reported !== null, 'onError called');
    assert.match((reported as LiveCaptureError).message, /ended \(exit status 1\).*interface disappeared/);
    await dies.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ------------------------------------------------------------------------------------------------
// root: the real test bed

/** Bash side of the test bed: brings it up, runs swaks on request, tears it down on "quit" or EOF. */
const TESTBED_CTL = String.raw`
set -u
. scripts/testbed/lib.sh
trap tb_down EXIT
tb_up >&2 || exit 1
tb_mail_up 0 >&2 || exit 1
echo "UP $TB_SRV_NS $TB_SRV_IF $TB_CLI_NS"
while read -r cmd a b c d e; do
  case $cmd in
    swaks) tb_swaks --port "$a" --local-interface "$b" --auth "$c" --auth-user "$d" --auth-password "$e" --quit-after AUTH >/dev/null 2>&1; echo "RC $?" ;;
    quit) break ;;
  esac
done
`;

class Testbed {
  srvNs = '';
  srvIf = '';
  private buf = '';
  private waiters: ((line: string) => void)[] = [];
  private lines: string[] = [];
  private constructor(private readonly ctl: ChildProcess) {
    ctl.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const l = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        const w = this.waiters.shift();
        if (w) w(l);
        else this.lines.push(l);
      }
    });
    ctl.once('close', () => {
      for (const w of this.waiters.splice(0)) w('CLOSED');
    });
  }
  static async up(): Promise<Testbed> {
    const ctl = spawn('bash', ['-c', TESTBED_CTL], {
      cwd: root,
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, TB_PREFIX: `sstlv${process.pid % 100000}` },
    });
    const tb = new Testbed(ctl);
    const up = await tb.line(120_000);
    const m = /^UP (\S+) (\S+) (\S+)$/.exec(up);
    if (!m) {
      await tb.down();
      throw new Error(`test bed did not come up: ${up}`);
    }
    tb.srvNs = m[1]!;
    tb.srvIf = m[2]!;
    return tb;
  }
  private line(timeoutMs: number): Promise<string> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    return new Promise((res) => {
      const t = setTimeout(() => res('TIMEOUT'), timeoutMs);
      this.waiters.push((x) => {
        clearTimeout(t);
        res(x);
      });
    });
  }
  /** One swaks AUTH attempt; resolves to swaks's exit code (28 = auth failed, 0 = ok). */
  async swaks(port: number, from: string, mech: string, user: string, pass: string): Promise<number> {
    this.ctl.stdin!.write(`swaks ${port} ${from} ${mech} ${user} ${pass}\n`);
    const r = await this.line(90_000);
    return Number(/^RC (\d+)$/.exec(r)?.[1] ?? -1);
  }
  async down(): Promise<void> {
    if (this.ctl.exitCode !== null || this.ctl.signalCode !== null) return;
    this.ctl.stdin!.end('quit\n');
    await new Promise<void>((res) => {
      const t = setTimeout(() => {
        this.ctl.kill('SIGTERM');
        res();
      }, 60_000);
      this.ctl.once('close', () => {
        clearTimeout(t);
        res();
      });
    });
  }
}

/** capture-child.js in a namespace (optionally as an unprivileged user); JSON lines out. */
class CaptureChild {
  private buf = '';
  readonly objs: Record<string, unknown>[] = [];
  stderr = '';
  readonly closed: Promise<void>;
  private constructor(readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        try {
          this.objs.push(JSON.parse(this.buf.slice(0, nl)) as Record<string, unknown>);
        } catch {
          /* ignore */
        }
        this.buf = this.buf.slice(nl + 1);
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
    });
    this.closed = new Promise((res) => child.once('close', () => res()));
  }
  static start(ns: string, args: string[], opts: { nobody?: boolean; env?: Record<string, string> } = {}): CaptureChild {
    const prefix = opts.nobody ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all'] : [];
    return new CaptureChild(
      spawn('ip', ['netns', 'exec', ns, ...prefix, process.execPath, '--expose-gc', childScript, ...args], {
        cwd: root,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, ...opts.env },
      }),
    );
  }
  async next(types: string[], timeoutMs = 60_000): Promise<Record<string, unknown>> {
    const t0 = Date.now();
    for (;;) {
      const i = this.objs.findIndex((o) => types.includes(String(o.type)));
      if (i >= 0) return this.objs.splice(i, 1)[0]!;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        await new Promise((r) => setTimeout(r, 50));
        const j = this.objs.findIndex((o) => types.includes(String(o.type)));
        if (j >= 0) return this.objs.splice(j, 1)[0]!;
        assert.fail(`capture child ended (${this.child.exitCode ?? this.child.signalCode}) without ${types.join('/')}: ${this.stderr.slice(-1500)}`);
      }
      if (Date.now() - t0 > timeoutMs) assert.fail(`no ${types.join('/')} from the capture child in ${timeoutMs} ms: ${this.stderr.slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  async finish(): Promise<Record<string, unknown>> {
    this.child.stdin!.end();
    const r = await this.next(['result'], 60_000);
    await this.closed;
    return r;
  }
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/** The attack every backend must count exactly: 4 LOGIN failures on 587, 3 PLAIN failures on 25, 1 success. */
async function attack(tb: Testbed): Promise<void> {
  for (let i = 0; i < 4; i++) assert.equal(await tb.swaks(587, '10.200.0.3', 'LOGIN', 'alice', `wrong${i}`), 28);
  for (let i = 0; i < 3; i++) assert.equal(await tb.swaks(25, '10.200.0.4', 'PLAIN', 'bob', `bad${i}`), 28);
  assert.equal(await tb.swaks(587, '10.200.0.5', 'LOGIN', 'alice', 'secret'), 0);
}
const EXPECTED = { '10.200.0.3': 4, '10.200.0.4': 3 };

test('live capture in network namespaces with a real Postfix + Dovecot: exact 535 counts, clear errors', { timeout: 900_000 }, async (t) => {
  if (!isRoot) {
    loudSkip(t, 'needs root (network namespaces, packet capture); run npm test as root');
    return;
  }
  const haveTools = ['tcpdump', 'swaks', 'postfix', 'dovecot'].every((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);
  if (!haveTools) {
    loudSkip(t, 'tcpdump/swaks/postfix/dovecot missing: scripts/install-deps.sh testbed');
    return;
  }
  const capOk = await capAvailable();
  const tb = await Testbed.up();
  try {
    await t.test('tcpdump backend (ip netns exec … tcpdump): live → pipeline → exact counts, kernel statistics', async () => {
      const src = createLiveSource('tcpdump', { iface: tb.srvIf, filter: bpfForPorts([25, 587]), bufferSize: 8 * MiB, netns: tb.srvNs });
      const { pipeline, tally } = newPipeline();
      pipeline.iface = tb.srvIf;
      await src.start((rec) => pipeline.packet(rec));
      try {
        await attack(tb);
        const mid = await src.stats();
        assert.ok(mid.received !== null && mid.received > 0, `periodic statistics via SIGUSR1: ${JSON.stringify(mid)}`);
      } finally {
        await src.stop();
      }
      pipeline.finish();
      assert.deepEqual(failuresOf(tally), EXPECTED);
      assert.equal(tally.clients.get('10.200.0.5')?.successes, 1);
      const st = await src.stats();
      assert.equal(st.dropped, 0);
      assert.ok(st.received !== null && st.received >= st.delivered, JSON.stringify(st));
      assert.equal(st.delivered, pipeline.packets);
      assert.deepEqual(pipeline.decoder.skippedByReason(), {});
    });

    await t.test('cap backend (node itself in the namespace): live → pipeline → exact counts', async (tt) => {
      if (!capOk) {
        loudSkip(tt, 'the optional module cap is not built (apt-get install libpcap-dev python3 make g++ && npm rebuild cap)');
        return;
      }
      const c = CaptureChild.start(tb.srvNs, ['--backend', 'cap', '--iface', tb.srvIf, '--buffer-size', String(8 * MiB)]);
      try {
        const ready = await c.next(['ready', 'error']);
        assert.equal(ready.type, 'ready', JSON.stringify(ready));
        await attack(tb);
        const r = await c.finish();
        assert.deepEqual(r.failures, EXPECTED);
        const st = r.stats as Record<string, unknown>;
        assert.equal(st.received, null, 'cap cannot tell: null = unknown');
        assert.equal(st.dropped, null);
        assert.equal(st.delivered, r.packets);
      } finally {
        c.kill();
      }
    });

    await t.test('bad filter: a clear error, and the process survives (both backends)', async (tt) => {
      const bad = 'tcp port 25 andd';
      const e = await rejection(createLiveSource('tcpdump', { iface: tb.srvIf, filter: bad, bufferSize: 0, netns: tb.srvNs }).start(() => undefined));
      assert.equal(e.kind, 'filter');
      assert.match(e.message, /bad capture filter "tcp port 25 andd": .*syntax error/);
      if (!capOk) {
        loudSkip(tt, 'cap part: the optional module cap is not built');
        return;
      }
      // Through the probe child (the normal path), then with the probe off so open() fails in-process
      // and the quarantine is what keeps the process alive through forced garbage collection.
      for (const env of [{}, { SMTPSTRIKE_CAP_NO_PROBE: '1' }] as Record<string, string>[]) {
        const c = CaptureChild.start(tb.srvNs, ['--backend', 'cap', '--iface', tb.srvIf, '--filter', bad, '--alive-check'], { env });
        try {
          const err = await c.next(['error', 'ready']);
          assert.equal(err.type, 'error');
          assert.equal(err.kind, 'filter', JSON.stringify(err));
          assert.match(String(err.message), /bad capture filter "tcp port 25 andd": can't parse filter expression: syntax error/);
          const alive = await c.next(['alive']);
          assert.equal(alive.gc, true, 'garbage collection was forced');
          await c.closed;
          assert.equal(c.child.exitCode, 2, `exit status 2, not a crash (signal ${c.child.signalCode}): ${c.stderr}`);
        } finally {
          c.kill();
        }
      }
    });

    await t.test('missing interface: a clear error (both backends)', async (tt) => {
      const e = await rejection(createLiveSource('tcpdump', { iface: 'nosuch0', filter: 'tcp', bufferSize: 0, netns: tb.srvNs }).start(() => undefined));
      assert.equal(e.kind, 'interface');
      assert.match(e.message, /no such interface "nosuch0"/);
      if (!capOk) {
        loudSkip(tt, 'cap part: the optional module cap is not built');
        return;
      }
      for (const env of [{}, { SMTPSTRIKE_CAP_NO_PROBE: '1' }] as Record<string, string>[]) {
        const c = CaptureChild.start(tb.srvNs, ['--backend', 'cap', '--iface', 'nosuch0', '--alive-check'], { env });
        try {
          const err = await c.next(['error', 'ready']);
          assert.equal(err.kind, 'interface', JSON.stringify(err));
          assert.match(String(err.message), new RegExp(`no such interface "nosuch0" \\(interfaces here: .*${tb.srvIf}`));
          await c.next(['alive']);
          await c.closed;
          assert.equal(c.child.exitCode, 2);
        } finally {
          c.kill();
        }
      }
    });

    await t.test('no privilege: a clear error naming the fix (both backends)', async (tt) => {
      for (const backend of ['tcpdump', 'cap'] as const) {
        if (backend === 'cap' && !capOk) {
          loudSkip(tt, 'cap part: the optional module cap is not built');
          continue;
        }
        const c = CaptureChild.start(tb.srvNs, ['--backend', backend, '--iface', tb.srvIf, '--alive-check'], { nobody: true });
        try {
          const err = await c.next(['error', 'ready']);
          assert.equal(err.type, 'error', `${backend} as nobody: ${JSON.stringify(err)}`);
          assert.equal(err.kind, 'permission', JSON.stringify(err));
          assert.match(String(err.message), backend === 'cap' ? /setcap cap_net_raw,cap_net_admin\+eip/ : /AmbientCapabilities/);
          await c.next(['alive']);
          await c.closed;
          assert.equal(c.child.exitCode, 2);
        } finally {
          c.kill();
        }
      }
    });
  } finally {
    await tb.down();
  }
});
