/**
 * watch's side of the tarpit: binds the listening socket (as root, if watch is), forks the tarpit
 * child (tarpit-child.ts) as an unprivileged user (default `nobody`, `--tarpit-user`) with a small
 * heap, passes it the socket, and keeps its own copy closed once the child listens. Events come back
 * over IPC. A child that dies is started again after a backoff (1 s, doubling up to 60 s; back to
 * 1 s once a child has lived a minute), and each restart is logged.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import type { TarpitTarget as TarpitAddress } from '../blocker/tarpit-target.js';
import {
  TARPIT_ENDS,
  TARPIT_REFUSALS,
  type ChildMessage,
  type ParentMessage,
  type TarpitConfig,
  type TarpitEnd,
  type TarpitEvent,
  type TarpitRefusal,
} from './tarpit-types.js';

export interface TarpitSettings {
  address: TarpitAddress;
  config: TarpitConfig;
  /** Run the child as this user (when watch is root); '' keeps watch's own user. */
  user: string;
  /** The child's V8 heap limit, MiB (--max-old-space-size). */
  heapMb: number;
}

export interface TarpitLogger {
  info(o: object, msg: string): void;
  warn(o: object, msg: string): void;
  error(o: object, msg: string): void;
}

/** What the metrics read (counted from the child's events). */
export class TarpitCounts {
  readonly sessions = Object.fromEntries(TARPIT_ENDS.map((e) => [e, 0])) as Record<TarpitEnd, number>;
  readonly refused = Object.fromEntries(TARPIT_REFUSALS.map((r) => [r, 0])) as Record<TarpitRefusal, number>;
  authAttempts = 0;
  decoySuccesses = 0;
  heldSeconds = 0;
  connections = 0;
  restarts = 0;

  /** The counts as watch's periodic and exit `stats` line shows them. */
  statsFields(): object {
    return {
      sessions: { ...this.sessions },
      refused: { ...this.refused },
      auth_attempts: this.authAttempts,
      decoy_successes: this.decoySuccesses,
      held_s: Math.round(this.heldSeconds),
      connections: this.connections,
      restarts: this.restarts,
    };
  }
}

/** uid and primary gid of `user` from /etc/passwd; throws when there is no such user. */
export function userIds(user: string, passwd = '/etc/passwd'): { uid: number; gid: number } {
  for (const line of readFileSync(passwd, 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === user && f.length >= 4) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  throw new Error(`--tarpit-user: no user "${user}" in ${passwd}`);
}

const CHILD = new URL('./tarpit-child.js', import.meta.url);
const MAX_BACKOFF_MS = 60_000;
const STABLE_MS = 60_000;

export class TarpitSupervisor {
  readonly counts = new TarpitCounts();
  private child: ChildProcess | null = null;
  private childStarted = 0;
  private backoffMs = 1000;
  private restartTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  /** The port actually bound (port 0: the kernel's choice), kept for restarts. */
  private port: number;

  constructor(
    private readonly s: TarpitSettings,
    private readonly log: TarpitLogger,
    private readonly onEvent: (ev: TarpitEvent) => void = () => undefined,
  ) {
    this.port = s.address.port;
  }

  /** The child's pid (tests kill it), null while none runs. */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Where the tarpit listens (the port the kernel gave for port 0). */
  get address(): TarpitAddress {
    return this.s.address.host === undefined ? { port: this.port } : { host: this.s.address.host, port: this.port };
  }

  private bind(): Promise<Server> {
    return new Promise((resolve, reject) => {
      const srv = createServer();
      // Until the child has it, a connection that reaches watch's own copy is closed.
      srv.on('connection', (sock) => sock.destroy());
      srv.once('error', reject);
      srv.listen({ port: this.port, ...(this.s.address.host !== undefined ? { host: this.s.address.host } : {}), backlog: 511 }, () => {
        srv.removeListener('error', reject);
        this.port = (srv.address() as AddressInfo).port;
        resolve(srv);
      });
    });
  }

  /** Binds, starts the child, resolves once it listens (rejects when the port cannot be bound). */
  async start(): Promise<void> {
    const srv = await this.bind();
    await this.spawn(srv);
  }

  private spawn(srv: Server): Promise<void> {
    const ids = process.getuid?.() === 0 && this.s.user !== '' ? userIds(this.s.user) : null;
    const child = fork(CHILD, [], {
      execArgv: [`--max-old-space-size=${this.s.heapMb}`],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      ...(ids ? { uid: ids.uid, gid: ids.gid } : {}),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production' },
    });
    this.child = child;
    this.childStarted = Date.now();
    return new Promise((resolve, reject) => {
      let listening = false;
      child.on('message', (m: ChildMessage) => {
        if (m.type === 'listening') {
          listening = true;
          srv.close(); // the child's copy of the socket keeps listening
          this.log.info(
            { event: 'tarpit_listening', pid: child.pid, port: this.port, host: this.s.address.host, user: ids ? this.s.user : undefined },
            `tarpit on port ${this.port} (child ${child.pid})`,
          );
          resolve();
        } else if (m.type === 'event') this.event(m.ev);
        else if (m.type === 'stats') this.counts.connections = m.connections;
        else if (m.type === 'failed') this.log.error({ event: 'tarpit_failed', err: m.err }, `tarpit: ${m.err}`);
      });
      child.on('error', (e) => {
        if (!listening) reject(e);
      });
      child.on('exit', (code, signal) => {
        if (this.child === child) this.child = null;
        this.counts.connections = 0;
        if (!listening) {
          srv.close();
          reject(new Error(`the tarpit child exited before listening (code ${code}, signal ${signal})`));
          return;
        }
        if (this.stopping) return;
        this.exited(code, signal);
      });
      child.send({ type: 'listen', config: this.s.config } satisfies ParentMessage, srv);
    });
  }

  private exited(code: number | null, signal: NodeJS.Signals | null): void {
    if (Date.now() - this.childStarted >= STABLE_MS) this.backoffMs = 1000;
    const wait = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    this.log.warn(
      { event: 'tarpit_child_exit', code, signal, restart_in_s: wait / 1000 },
      `tarpit child died (${signal ?? code}); restarting in ${wait / 1000} s`,
    );
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.stopping) return;
      this.counts.restarts++;
      this.start().catch((e: Error) => {
        this.log.error({ event: 'tarpit_restart_failed', err: e.message }, `tarpit restart failed: ${e.message}`);
        if (!this.stopping) this.exited(null, null);
      });
    }, wait);
  }

  private event(ev: TarpitEvent): void {
    const c = this.counts;
    if (ev.event === 'tarpit_refused') c.refused[ev.reason]++;
    else {
      c.sessions[ev.end]++;
      c.authAttempts += ev.auth_attempts;
      c.decoySuccesses += ev.decoy_successes;
      c.heldSeconds += ev.held_s;
    }
    this.onEvent(ev);
  }

  /** Ends every session (each logged `end: 'shutdown'`) and the child. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      if (child.connected) child.send({ type: 'shutdown' } satisfies ParentMessage);
      else child.kill('SIGTERM');
    });
  }
}
