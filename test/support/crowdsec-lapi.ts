/**
 * A real CrowdSec Local API (Debian's `crowdsec` package, 1.4.6) for tests, owned by the test:
 * a temporary directory with a minimal config.yaml (SQLite in the directory, LAPI on a free
 * loopback port, no agent, no acquisition, no Central API, no hub, no prometheus, logs to a file),
 * `crowdsec -c DIR/config.yaml -no-cs -no-capi` started and killed by its PID. The package's own
 * service and /etc/crowdsec are never used. Machines and bouncers are registered with cscli.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const CROWDSEC_BIN = ['/usr/bin/crowdsec', '/usr/local/bin/crowdsec'].find((p) => existsSync(p)) ?? null;
export const CSCLI_BIN = ['/usr/bin/cscli', '/usr/local/bin/cscli'].find((p) => existsSync(p)) ?? null;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export class TestLapi {
  readonly config: string;
  readonly url: string;
  private child: ChildProcess | null = null;

  constructor(
    readonly dir: string,
    readonly port: number,
  ) {
    this.config = join(dir, 'config.yaml');
    this.url = `http://127.0.0.1:${port}`;
    mkdirSync(join(dir, 'data'), { recursive: true });
    writeFileSync(
      this.config,
      [
        'common:',
        '  daemonize: false',
        '  log_media: stdout',
        '  log_level: info',
        'config_paths:',
        `  config_dir: ${dir}/`,
        `  data_dir: ${dir}/data/`,
        `  simulation_path: ${dir}/simulation.yaml`,
        `  hub_dir: ${dir}/hub/`,
        `  index_path: ${dir}/hub/.index.json`,
        `  notification_dir: ${dir}/notifications/`,
        `  plugin_dir: ${dir}/plugins/`,
        'db_config:',
        '  log_level: warning',
        '  type: sqlite',
        `  db_path: ${dir}/data/crowdsec.db`,
        '  use_wal: true',
        'api:',
        '  client:',
        `    credentials_path: ${dir}/local_api_credentials.yaml`,
        '  server:',
        '    log_level: info',
        `    listen_uri: 127.0.0.1:${port}`,
        `    profiles_path: ${dir}/profiles.yaml`,
        `    console_path: ${dir}/console.yaml`,
        '    trusted_ips: ["127.0.0.1", "::1"]',
        'prometheus:',
        '  enabled: false',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'simulation.yaml'), 'simulation: off\n');
    // The package's default profile (decisions for alerts that bring none); ours bring their own.
    writeFileSync(
      join(dir, 'profiles.yaml'),
      [
        'name: default_ip_remediation',
        'filters:',
        ' - Alert.Remediation == true && Alert.GetScope() == "Ip"',
        'decisions:',
        ' - type: ban',
        '   duration: 4h',
        'on_success: break',
        '',
      ].join('\n'),
    );
    // cscli's own machine, for `cscli decisions list/add/delete` against this LAPI.
    this.cscli(['machines', 'add', 'cscli-test', '--auto', '-f', join(dir, 'local_api_credentials.yaml'), '--url', this.url]);
  }

  cscli(args: string[]): string {
    return execFileSync(CSCLI_BIN!, ['-c', this.config, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  }

  addMachine(id: string, password: string): void {
    this.cscli(['machines', 'add', id, '--password', password, '-f', join(this.dir, `creds-${id}.yaml`)]);
  }

  addBouncer(name: string, key: string): void {
    this.cscli(['bouncers', 'add', name, '-k', key]);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the LAPI and waits until /health answers. */
  async start(): Promise<void> {
    const log = openSync(join(this.dir, 'crowdsec.log'), 'a');
    try {
      this.child = spawn(CROWDSEC_BIN!, ['-c', this.config, '-no-cs', '-no-capi'], { stdio: ['ignore', log, log] });
    } finally {
      closeSync(log);
    }
    const child = this.child;
    const t0 = Date.now();
    for (;;) {
      if (child.exitCode !== null) throw new Error(`crowdsec exited with ${child.exitCode}: ${this.logTail()}`);
      try {
        const r = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(1000) });
        if (r.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() - t0 > 30_000) throw new Error(`crowdsec LAPI did not answer within 30 s: ${this.logTail()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Kills the LAPI by its PID and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(t);
  }

  logTail(): string {
    try {
      return readFileSync(join(this.dir, 'crowdsec.log'), 'utf8').split('\n').slice(-15).join('\n');
    } catch {
      return '(no log)';
    }
  }
}
