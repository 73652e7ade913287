/**
 * Node processes inside test network namespaces, shared by the blocker tests against the real kernel
 * (test/blocker-e2e.test.ts, test/services-e2e.test.ts): a listener that greets on its ports (220 for
 * SMTP, `* OK` on 143, `+OK` on 110) and an agent that opens connections from a chosen source
 * address on request. Both run as `ip netns exec NS node -e SCRIPT`, so a child's PID is node's and
 * can be killed by PID.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { stdio: 'ignore' }).status === 0;
}

export function sh(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** argv: JSON list of ports, then the address to bind ('0.0.0.0' or '::'). Prints `ready`. */
export const LISTENER = `
const net = require('net');
const [ports, host] = [JSON.parse(process.argv[1]), process.argv[2] || '0.0.0.0'];
let up = 0;
for (const p of ports) {
  net.createServer((s) => {
    s.on('error', () => {});
    s.write(p === 143 || p === 993 ? '* OK imap\\r\\n' : p === 110 || p === 995 ? '+OK pop3\\r\\n' : '220 smtpstrike test listener\\r\\n');
    s.on('data', () => s.write('250 ok\\r\\n'));
  }).listen(p, host, () => { if (++up === ports.length) console.log('ready'); });
}`;

/**
 * One JSON request per line on stdin, one answer per line on stdout ({id, result}): `probe` (connect
 * from src, wait for the greeting: ok — or `port=N` when the greeting names its port —, refused, reset, timeout, closed), `open` (the same, but keep the
 * socket under `key`), `poke` (write to a kept socket: data, reset, closed, timeout).
 */
export const AGENT = `
const net = require('net');
const held = new Map();
const reply = (id, result) => process.stdout.write(JSON.stringify({ id, result }) + '\\n');
const greeting = (s) => s.startsWith('220') || s.startsWith('* OK') || s.startsWith('+OK');
// A listener that names its port ("220 port=2626": test/tarpit-redirect-e2e.test.ts) is answered with it.
const answer = (s) => { const g = /^220 (port=\\d+)\\r\\n/.exec(s); return g ? g[1] : greeting(s) ? 'ok' : 'unexpected'; };
require('readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const m = JSON.parse(line);
  if (m.op === 'probe' || m.op === 'open') {
    let done = false, buf = '';
    const s = net.connect({ host: m.dst, port: m.port, localAddress: m.src });
    const fin = (r) => {
      if (done) return;
      done = true; clearTimeout(t);
      if (m.op === 'open' && (r === 'ok' || r.startsWith('port='))) held.set(m.key, s); else s.destroy();
      reply(m.id, r);
    };
    const t = setTimeout(() => fin('timeout'), 2000);
    s.on('data', (d) => { buf += d; if (buf.includes('\\n')) fin(answer(buf)); });
    s.on('error', (e) => fin(e.code === 'ECONNREFUSED' ? 'refused' : e.code === 'ECONNRESET' ? 'reset' : 'error:' + e.code));
    s.on('close', () => fin('closed'));
  } else if (m.op === 'poke') {
    const s = held.get(m.key);
    if (!s) return reply(m.id, 'nosocket');
    held.delete(m.key);
    let done = false;
    for (const ev of ['data', 'error', 'close']) s.removeAllListeners(ev);
    const fin = (r) => { if (done) return; done = true; clearTimeout(t); s.destroy(); reply(m.id, r); };
    const t = setTimeout(() => fin('timeout'), 2000);
    s.on('data', () => fin('data'));
    s.on('error', (e) => fin(e.code === 'ECONNRESET' ? 'reset' : 'error:' + e.code));
    s.on('close', () => fin('closed'));
    s.write('NOOP\\r\\n');
  }
});
console.log('ready');`;

/** The node children a test started, killed by PID at its tear-down. */
export class NodeChildren {
  private readonly children: ChildProcess[] = [];

  /** Starts `node -e SCRIPT ARGS` inside NS and waits (10 s at most) for its `ready`. */
  async start(ns: string, script: string, args: string[]): Promise<{ child: ChildProcess; lines: AsyncIterator<string> }> {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.children.push(child);
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    let timer: NodeJS.Timeout | undefined;
    const first = await Promise.race([
      lines.next(),
      new Promise<{ value: string }>((r) => {
        timer = setTimeout(() => r({ value: 'no answer in 10 s' }), 10_000);
      }),
    ]);
    clearTimeout(timer);
    if (first.value !== 'ready') throw new Error(`node in ${ns} did not start (${String(first.value)})`);
    return { child, lines };
  }

  killAll(): void {
    for (const c of this.children.splice(0)) if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) c.kill('SIGKILL');
  }
}

/** The client side of AGENT; `server` is the default destination. */
export class Agent {
  private next = 1;
  private readonly waiting = new Map<number, (r: string) => void>();

  constructor(
    private readonly child: ChildProcess,
    lines: AsyncIterator<string>,
    private readonly server: string,
  ) {
    void (async () => {
      for (let l = await lines.next(); !l.done; l = await lines.next()) {
        const m = JSON.parse(l.value) as { id: number; result: string };
        this.waiting.get(m.id)?.(m.result);
        this.waiting.delete(m.id);
      }
    })();
  }

  private call(msg: Record<string, unknown>): Promise<string> {
    const id = this.next++;
    return new Promise((res) => {
      this.waiting.set(id, res);
      this.child.stdin!.write(`${JSON.stringify({ ...msg, id })}\n`);
    });
  }

  probe(src: string, port: number, dst = this.server): Promise<string> {
    return this.call({ op: 'probe', src, dst, port });
  }
  open(key: string, src: string, port: number, dst = this.server): Promise<string> {
    return this.call({ op: 'open', key, src, dst, port });
  }
  poke(key: string): Promise<string> {
    return this.call({ op: 'poke', key });
  }
}
