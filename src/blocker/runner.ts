/**
 * Runs firewall tools without a shell: argument arrays, scripts on stdin, optionally inside a
 * network namespace (`ip netns exec NS cmd …`). Failures an admin can fix (missing binary, no
 * privilege, missing namespace) become BlockerErrors naming the fix.
 */
import { isNetnsName } from '../net/netns-name.js';
import { spawn } from 'node:child_process';
import { BlockAddressError, BlockerError } from './types.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandRunner {
  /**
   * Runs `cmd args…` (inside the namespace, if any), `input` on stdin. A non-zero exit of the tool
   * resolves (the caller reads code and stderr); a tool that could not run at all (missing binary,
   * missing namespace, no privilege to enter it) rejects with a BlockerError.
   */
  run(cmd: string, args: readonly string[], input?: string): Promise<RunResult>;
  /** The namespace commands run in (for messages). */
  readonly netns: string | undefined;
}

const PACKAGE: Record<string, string> = {
  nft: 'nftables',
  ipset: 'ipset',
  iptables: 'iptables',
  ip6tables: 'iptables',
  'iptables-restore': 'iptables',
  'ip6tables-restore': 'iptables',
  ip: 'iproute2',
};

export function missingBinary(cmd: string): BlockerError {
  const pkg = PACKAGE[cmd] ?? cmd;
  return new BlockerError('missing-binary', `${cmd} not found: install it with "apt-get install ${pkg}" (Debian/Ubuntu)`);
}

export const PRIVILEGE_HINT = 'run as root (sudo) or give the process CAP_NET_ADMIN (e.g. systemd AmbientCapabilities=CAP_NET_ADMIN)';

const PERMISSION = /Operation not permitted|Permission denied|you must be root|must be run as root/i;

/**
 * Turns a failed command into the most useful error: missing binary, privilege, namespace;
 * otherwise a 'command' error carrying the tool's stderr.
 */
export function failure(cmd: string, r: RunResult, what: string, netns: string | undefined): BlockerError {
  const err = r.stderr.trim();
  const exec = /exec of "([^"]+)" failed: No such file or directory/.exec(err);
  if (exec) return missingBinary(exec[1]!);
  if (/Cannot open network namespace/.test(err)) {
    return new BlockerError('netns', `network namespace "${netns ?? ''}" does not exist (see "ip netns list")`, err);
  }
  if (/setting the network namespace .* failed/.test(err) || PERMISSION.test(err)) {
    return new BlockerError('permission', `${cmd}: not permitted to ${what}: ${PRIVILEGE_HINT}`, err);
  }
  const short = err.split('\n').filter(Boolean).slice(0, 8).join(' | ');
  return new BlockerError('command', `${cmd} failed to ${what} (exit ${r.code}): ${short || 'no message'}`, err);
}

/**
 * Network namespace names accepted by --netns (what `ip netns add` allows, minus oddities): checked
 * here, where the name becomes an argument of `ip netns exec`.
 */
export function checkNetnsName(ns: string): string {
  if (!isNetnsName(ns)) {
    throw new BlockAddressError(`bad network namespace name: ${JSON.stringify(ns)}`);
  }
  return ns;
}

const NETNS_FAILURE = /^(Cannot open network namespace|setting the network namespace|exec of ")/m;

export interface SpawnRunnerOptions {
  netns?: string;
  /** Kill a command still running after this long (default 120 s). */
  timeoutMs?: number;
}

export class SpawnRunner implements CommandRunner {
  readonly netns: string | undefined;
  private readonly timeoutMs: number;

  constructor(opts: SpawnRunnerOptions = {}) {
    this.netns = opts.netns === undefined ? undefined : checkNetnsName(opts.netns);
    this.timeoutMs = opts.timeoutMs ?? 120_000;
  }

  run(cmd: string, args: readonly string[], input?: string): Promise<RunResult> {
    const [file, argv] = this.netns === undefined ? [cmd, [...args]] : ['ip', ['netns', 'exec', this.netns, cmd, ...args]];
    return new Promise((resolve, reject) => {
      const child = spawn(file, argv, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, this.timeoutMs);
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.stdin.on('error', () => {
        /* EPIPE when the tool exits early: its exit code and stderr tell why */
      });
      child.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (e.code === 'ENOENT') reject(missingBinary(file));
        else reject(new BlockerError('command', `cannot run ${file}: ${e.message}`));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const stderr = Buffer.concat(err).toString('utf8');
        // `ip netns exec` itself failed (no such namespace, no privilege, no such binary): the
        // tool never ran, so its exit code means nothing to the caller.
        if (this.netns !== undefined && NETNS_FAILURE.test(stderr)) {
          reject(failure(cmd, { code: code ?? 255, stdout: '', stderr }, 'enter the network namespace', this.netns));
          return;
        }
        resolve({
          code: code ?? 128,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: timedOut ? `${stderr}\n(killed after ${this.timeoutMs} ms)` : signal ? `${stderr}\n(killed by ${signal})` : stderr,
        });
      });
      child.stdin.end(input ?? '');
    });
  }
}
