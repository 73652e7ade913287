import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Whether a `redis-server` binary is on PATH (scripts/install-deps.sh fleet installs it). */
export function haveRedisServer(): boolean {
  return (process.env.PATH ?? '/usr/bin:/bin').split(':').some((d) => d !== '' && existsSync(join(d, 'redis-server')));
}

/** A free TCP port on 127.0.0.1 (the kernel picks it; we close and hand it to redis-server). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A real redis-server for a test or a benchmark: on a loopback port, in a temporary directory, no
 * persistence (`--save '' --appendonly no`), so a stop + start is a Redis that lost its data. Stopped
 * by the PID we started, never by name.
 */
export interface RedisServerOptions {
  port?: number;
  /** `--requirepass`. */
  password?: string;
  /** TLS only (`--port 0 --tls-port`), with this certificate and key (PEM files); clients need no certificate. */
  tls?: { certFile: string; keyFile: string };
  /** More arguments (`--replicaof HOST PORT`). */
  extraArgs?: string[];
  /** Run as a Sentinel with this configuration text (written to the temporary directory). */
  sentinelConf?: string;
}

export class RedisServer {
  private child: ChildProcess | null = null;
  readonly dir = mkdtempSync(join(tmpdir(), 'smtpstrike-redis-'));

  private constructor(
    readonly port: number,
    private readonly o: RedisServerOptions,
  ) {}

  static async start(o: RedisServerOptions = {}): Promise<RedisServer> {
    const r = new RedisServer(o.port ?? (await freePort()), o);
    await r.start();
    return r;
  }

  get url(): string {
    const auth = this.o.password === undefined ? '' : `:${encodeURIComponent(this.o.password)}@`;
    return `${this.o.tls ? 'rediss' : 'redis'}://${auth}127.0.0.1:${this.port}/0`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts (again, on the same port) and resolves once it accepts connections. */
  async start(): Promise<void> {
    if (this.child) return;
    const t = this.o.tls;
    const listen = t
      ? ['--port', '0', '--tls-port', String(this.port), '--tls-cert-file', t.certFile, '--tls-key-file', t.keyFile, '--tls-auth-clients', 'no']
      : ['--port', String(this.port)];
    const conf = join(this.dir, 'sentinel.conf');
    if (this.o.sentinelConf !== undefined) writeFileSync(conf, `port ${this.port}\nbind 127.0.0.1\n${this.o.sentinelConf}`);
    const child = spawn(
      'redis-server',
      this.o.sentinelConf !== undefined
        ? [conf, '--sentinel', '--dir', this.dir]
        : [
            ...listen,
            '--bind',
            '127.0.0.1',
            '--save',
            '',
            '--appendonly',
            'no',
            '--dir',
            this.dir,
            '--daemonize',
            'no',
            '--loglevel',
            'warning',
            '--logfile',
            '',
            ...(this.o.password === undefined ? [] : ['--requirepass', this.o.password]),
            ...(this.o.extraArgs ?? []),
          ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`redis-server on port ${this.port} did not start: ${out}`)), 20_000);
      const poll = setInterval(() => {
        const probe = answers(this.port, t !== undefined);
        probe.then(
          (ok) => {
            if (!ok) return;
            clearInterval(poll);
            clearTimeout(deadline);
            resolve();
          },
          () => {},
        );
      }, 20);
      child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
      child.once('exit', (code) => {
        clearInterval(poll);
        clearTimeout(deadline);
        reject(new Error(`redis-server exited (${code}): ${out}`));
      });
    });
    child.removeAllListeners('exit');
  }

  /** Kills it (SIGKILL: a crash, nothing flushed) and waits for the exit. */
  async kill(): Promise<void> {
    const c = this.child;
    if (!c) return;
    this.child = null;
    if (c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Whether a Redis answers on the port (a raw RESP PING; +PONG or -NOAUTH both mean it is up). */
async function answers(port: number, tls: boolean): Promise<boolean> {
  const net = await import('node:net');
  const tlsMod = await import('node:tls');
  return new Promise((resolve) => {
    const s = tls ? tlsMod.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : net.connect(port, '127.0.0.1');
    let buf = '';
    s.setTimeout(1000, () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', () => resolve(false));
    s.on(tls ? 'secureConnect' : 'connect', () => s.write('PING\r\n'));
    s.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\r\n')) {
        s.destroy();
        resolve(buf.startsWith('+PONG') || buf.startsWith('-NOAUTH'));
      }
    });
  });
}
