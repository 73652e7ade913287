/**
 * Log-side benchmark: `smtpstrike accounts` on a generated mixed log.
 *
 *   node dist/bench/logs.js [--lines 1000000] [--seed 1] [--out bench/out/mixed-1m.log] [--regen]
 *                           [--repeat 3] [--product-cli dist/src/cli.js] [--results bench/out/logs-results.json]
 *
 * Writes (once, deterministic) a log of every supported format interleaved line by line — sshd
 * (classic syslog and RFC 3339), Postfix, Dovecot, Exim's main log, Apache access log and
 * OpenWebMail — with successes, failures and the everyday noise between them, and its ground
 * truth (successes and failures per service). Then times, best of --repeat, on the same file:
 *   smtpstrike accounts --json -g 0 FILE      (parsing and grouping; the summary gives the counts)
 *   smtpstrike accounts -q FILE               (the default run: text report, embedded GeoIP)
 *   grep -c -F -e 'Accepted ' -e 'Login: ' ... FILE   (the floor: one pass, no parsing)
 * and checks the product's per-file counts against the truth. Target: ≥ 500,000 lines/s.
 *
 * From bench/run.ts: `import { runLogBench } from './logs.js'; const r = await runLogBench({});`
 * Exit status (standalone): 0 counts exact, 1 counts wrong, 3 the product failed.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Rng } from './rng.js';

const here = dirname(fileURLToPath(import.meta.url)); // <root>/dist/bench
const root = resolve(here, '..', '..');

export const LOG_GEN_VERSION = 3;
export const TARGET_LINES_PER_S = 1_000_000; // issue 11 item 7, issue 15 item 4

/** A generated log written in ~1 MiB pieces; `finish` closes it and writes its truth beside it. */
class LogFileWriter {
  private readonly fd: number;
  private buf = '';

  constructor(private readonly file: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.fd = openSync(file, 'w');
  }

  line(l: string): void {
    this.buf += l + '\n';
    if (this.buf.length > 1 << 20) {
      writeSync(this.fd, this.buf);
      this.buf = '';
    }
  }

  finish(truth: Truth): void {
    writeSync(this.fd, this.buf);
    closeSync(this.fd);
    writeFileSync(`${this.file}.truth.json`, JSON.stringify(truth, null, 2) + '\n');
  }
}

export interface LogBenchOptions {
  lines?: number;
  seed?: number;
  out?: string;
  regen?: boolean;
  repeat?: number;
  cli?: string;
  results?: string;
  log?: (s: string) => void;
  /** `mixed` (every format interleaved, default) or `exim` (an Exim main log alone). */
  format?: 'mixed' | 'exim';
}

interface Truth {
  version: number;
  lines: number;
  seed: number;
  successes: number;
  failures: number;
  by_service: Record<string, { successes: number; failures: number }>;
}

const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DOW = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const p2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** Writes the mixed log and its truth; returns the truth. */
export function generateMixedLog(file: string, lines: number, seed: number): Truth {
  const rng = new Rng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rng.next() * a.length)]!;
  const users = Array.from({ length: 2000 }, (_, i) => (i % 3 === 0 ? `user${i}@example.com` : `user${i}`));
  const ip4 = (): string =>
    `${1 + Math.floor(rng.next() * 222)}.${Math.floor(rng.next() * 256)}.${Math.floor(rng.next() * 256)}.${1 + Math.floor(rng.next() * 254)}`;
  // Each account logs in from one to three usual addresses (home, office, phone) and, now and
  // then, from somewhere else; failures come from a pool of attackers.
  const v6 = (i: number): string => `2001:db8:${(i >> 8).toString(16)}::${(i & 255).toString(16)}`;
  const homes = users.map((_, i) => Array.from({ length: 1 + (i % 3) }, (_, k) => ((i + k) % 10 === 0 ? v6(i * 3 + k) : ip4())));
  const attackers = Array.from({ length: 20_000 }, (_, i) => (i % 10 === 0 ? v6(100_000 + i) : ip4()));
  const roaming = Array.from({ length: 5_000 }, () => ip4());
  const truth: Truth = { version: LOG_GEN_VERSION, lines, seed, successes: 0, failures: 0, by_service: {} };
  const count = (svc: string, ok: boolean): void => {
    const s = (truth.by_service[svc] ??= { successes: 0, failures: 0 });
    if (ok) {
      s.successes++;
      truth.successes++;
    } else {
      s.failures++;
      truth.failures++;
    }
  };
  const out = new LogFileWriter(file);
  const start = Date.UTC(2023, 1, 13, 0, 0, 0) / 1000;
  /** The disconnect lines (after `syslog postfix/submission/smtpd[`) of the login sessions still open. */
  const openSessions: string[] = [];
  for (let i = 0; i < lines; i++) {
    const t = start + Math.floor((i * 86400 * 3) / lines);
    const d = new Date(t * 1000);
    const mo = d.getUTCMonth();
    const day = d.getUTCDate();
    const hms = `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
    const syslog = `${MON[mo]} ${day < 10 ? ' ' : ''}${day} ${hms} mail.example.com`;
    const iso = `${d.getUTCFullYear()}-${p2(mo + 1)}-${p2(day)}`;
    const ui = Math.floor(rng.next() * users.length);
    const u = users[ui]!;
    const home = rng.next() < 0.97 ? pick(homes[ui]!) : pick(roaming);
    const bad = pick(attackers);
    const pid = 1000 + (i % 30000);
    const r = rng.next();
    let line: string;
    if (r < 0.05) {
      line = `${syslog} sshd[${pid}]: Accepted ${rng.next() < 0.5 ? 'password' : 'publickey'} for ${u} from ${home} port ${1024 + (i % 60000)} ssh2${rng.next() < 0.5 ? ': RSA SHA256:kzfjfps/WFgXAdNgzvHBLuI072Y+f+91rpinXJAAvkM' : ''}`;
      count('ssh', true);
    } else if (r < 0.14) {
      line = `${iso}T${hms}.${p2(i % 100)}0000+00:00 mail sshd[${pid}]: Failed password for invalid user ${u} from ${bad} port ${1024 + (i % 60000)} ssh2`;
      count('ssh', false);
    } else if (r < 0.18) {
      line = `${syslog} sshd[${pid}]: Invalid user ${u} from ${bad} port ${1024 + (i % 60000)}`;
      count('ssh', false);
    } else if (r < 0.26) {
      line = `${syslog} sshd[${pid}]: ${pick(['Connection closed by', 'Received disconnect from', 'Disconnected from'])} ${bad} port ${1024 + (i % 60000)} [preauth]`;
    } else if (r < 0.29) {
      line = `${syslog} postfix/submission/smtpd[${pid}]: ${(0x4f1a2b3c4d + i).toString(16).toUpperCase()}: client=unknown[${home}], sasl_method=PLAIN, sasl_username=${u}`;
      openSessions.push(`${pid}]: disconnect from unknown[${home}] ehlo=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=6`);
      count('postfix', true);
    } else if (r < 0.34) {
      line = `${syslog} postfix/smtpd[${pid}]: warning: unknown[${bad}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6`;
      count('postfix', false);
    } else if (r < 0.47) {
      line = pick([
        `${syslog} postfix/qmgr[99]: ${(0x4f1a2b3c4d + i).toString(16).toUpperCase()}: from=<${u}>, size=${1000 + (i % 9000)}, nrcpt=1 (queue active)`,
        `${syslog} postfix/smtpd[${pid}]: connect from unknown[${bad}]`,
        `${syslog} postfix/smtpd[${pid}]: disconnect from unknown[${bad}] ehlo=1 auth=0/1 quit=1 commands=2/3`,
        `${syslog} postfix/cleanup[${pid}]: ${(0x4f1a2b3c4d + i).toString(16).toUpperCase()}: message-id=<${i}@example.com>`,
      ]);
      // A login session ends as Postfix ends it: its disconnect line (auth=1, the login already
      // counted from its sasl_username= line), in place of a qmgr or cleanup line (no draw of
      // the generator, so every other line stays as it was).
      if (openSessions.length > 0 && (line.includes(' postfix/qmgr[') || line.includes(' postfix/cleanup['))) {
        line = `${syslog} postfix/submission/smtpd[${openSessions.shift()!}`;
      }
    } else if (r < 0.52) {
      line = `${syslog} dovecot: ${pick(['imap', 'pop3'])}-login: Login: user=<${u}>, method=PLAIN, rip=${home}, lip=192.0.2.25, mpid=${pid}, TLS, session=<sF+SszFtrD5Q8TzB>`;
      count('dovecot', true);
    } else if (r < 0.57) {
      line = `${syslog} dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<${u}>, method=PLAIN, rip=${bad}, lip=192.0.2.25, TLS, session=<6wzJvinOOLisEQAB>`;
      count('dovecot', false);
    } else if (r < 0.64) {
      line = `${syslog} dovecot: imap(${u})<${pid}><wGrb4J+GCc16C4kE>: Logged out in=166 out=10854 deleted=0 expunged=0 trashed=0`;
    } else if (r < 0.67) {
      line = `${iso} ${hms} 1pRZ3k-000${i % 10}Ab-Cd <= ${u.includes('@') ? u : `${u}@example.com`} H=(laptop) [${home}]:52544 I=[192.0.2.25]:587 P=esmtpsa X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no A=dovecot_plain:${u} S=${1000 + (i % 9000)} id=${i}@laptop`;
      count('exim', true);
    } else if (r < 0.7) {
      line = `${iso} ${hms} dovecot_login authenticator failed for (User) [${bad}]:21298 I=[192.0.2.25]:465: 535 Incorrect authentication data (set_id=${u})`;
      count('exim', false);
    } else if (r < 0.76) {
      line = pick([
        `${iso} ${hms} 1pRZ3k-000${i % 10}Ab-Cd => someone@remote.example R=dnslookup T=remote_smtp H=mx.remote.example [198.51.100.9] X=TLS1.3 C="250 OK"`,
        `${iso} ${hms} 1pRZ3k-000${i % 10}Ab-Cd Completed`,
      ]);
    } else if (r < 0.79) {
      line = `${home} - ${u} [${p2(day)}/${MON[mo]}/${d.getUTCFullYear()}:${hms} +0000] "GET /roundcube/?_task=mail&_uid=${i} HTTP/1.1" 200 ${512 + (i % 4000)} "-" "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0"`;
      count('apache', true);
    } else if (r < 0.8) {
      line = `${bad} - ${u} [${p2(day)}/${MON[mo]}/${d.getUTCFullYear()}:${hms} +0000] "GET /admin/ HTTP/1.1" 401 381 "-" "python-requests/2.31"`;
      count('apache', false);
    } else if (r < 0.985) {
      line = `${home} - - [${p2(day)}/${MON[mo]}/${d.getUTCFullYear()}:${hms} +0000] "GET /static/${i % 977}.css HTTP/1.1" 200 ${100 + (i % 9000)} "https://mail.example.com/" "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"`;
    } else if (r < 0.993) {
      line = `${DOW[d.getUTCDay()]} ${MON[mo]} ${day < 10 ? ' ' : ''}${day} ${hms} ${d.getUTCFullYear()} - [${pid}] (${home}) ${u} - login - /cgi-bin/openwebmail/openwebmail-main.pl`;
      count('openwebmail', true);
    } else {
      line = `${DOW[d.getUTCDay()]} ${MON[mo]} ${day < 10 ? ' ' : ''}${day} ${hms} ${d.getUTCFullYear()} - [${pid}] (${bad}) ${u} - login error - auth_unix.pl, ret -4, Password incorrect`;
      count('openwebmail', false);
    }
    out.line(line);
  }
  out.finish(truth);
  return truth;
}

/**
 * An Exim main log alone (the shape auth_checker.pl reads): arrivals with `A=` (logins),
 * `authenticator failed` lines (failures), deliveries, `Completed`, connection noise and
 * rejections, as Exim writes them (`YYYY-MM-DD HH:MM:SS` prefix, no syslog header).
 */
export function generateEximLog(file: string, lines: number, seed: number): Truth {
  const rng = new Rng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rng.next() * a.length)]!;
  const users = Array.from({ length: 3000 }, (_, i) => `user${i}@example.com`);
  const ip4 = (): string =>
    `${1 + Math.floor(rng.next() * 222)}.${Math.floor(rng.next() * 256)}.${Math.floor(rng.next() * 256)}.${1 + Math.floor(rng.next() * 254)}`;
  const homes = users.map(() => ip4());
  const attackers = Array.from({ length: 20_000 }, (_, i) => (i % 10 === 0 ? `2001:db8:${(i >> 8).toString(16)}::${(i & 255).toString(16)}` : ip4()));
  const truth: Truth = { version: LOG_GEN_VERSION, lines, seed, successes: 0, failures: 0, by_service: { exim: { successes: 0, failures: 0 } } };
  const out = new LogFileWriter(file);
  const start = Date.UTC(2023, 1, 13, 0, 0, 0) / 1000;
  const id = (i: number): string => `1pRZ${(i % 36 ** 2).toString(36).padStart(2, '0')}-000${i % 10}Ab-${String.fromCharCode(65 + (i % 26))}d`;
  for (let i = 0; i < lines; i++) {
    const t = start + Math.floor((i * 86400 * 3) / lines);
    const d = new Date(t * 1000);
    const hms = `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
    const pre = `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())} ${hms}`;
    const ui = Math.floor(rng.next() * users.length);
    const u = users[ui]!;
    const bad = pick(attackers);
    const r = rng.next();
    let line: string;
    if (r < 0.12) {
      line = `${pre} ${id(i)} <= ${u} H=(laptop) [${homes[ui]}]:${1024 + (i % 60000)} I=[192.0.2.25]:587 P=esmtpsa X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no A=${pick(['dovecot_plain', 'dovecot_login', 'plain'])}:${u} S=${1000 + (i % 9000)} id=${i}@laptop`;
      truth.successes++;
      truth.by_service.exim!.successes++;
    } else if (r < 0.3) {
      line = `${pre} ${pick(['dovecot_login', 'dovecot_plain'])} authenticator failed for (User) [${bad}]:${1024 + (i % 60000)} I=[192.0.2.25]:${pick(['465', '587', '25'])}: 535 Incorrect authentication data (set_id=${u})`;
      truth.failures++;
      truth.by_service.exim!.failures++;
    } else if (r < 0.45) {
      line = `${pre} ${id(i)} <= bounce-${i}@lists.example.org H=mx.lists.example.org [198.51.100.${i % 250}]:41234 I=[192.0.2.25]:25 P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no S=${2000 + (i % 50000)} id=${i}.list@lists.example.org`;
    } else if (r < 0.62) {
      line = `${pre} ${id(i)} => ${u} <${u}> R=local_user T=dovecot_lmtp C="250 2.0.0 <${u}> Saved"`;
    } else if (r < 0.77) {
      line = `${pre} ${id(i)} Completed`;
    } else if (r < 0.85) {
      line = `${pre} SMTP connection from (${pick(['User', 'ylmf-pc', 'WIN-ABC'])}) [${bad}]:${1024 + (i % 60000)} I=[192.0.2.25]:25 lost D=${i % 30}s`;
    } else if (r < 0.92) {
      line = `${pre} H=(${pick(['User', 'ylmf-pc'])}) [${bad}]:${1024 + (i % 60000)} I=[192.0.2.25]:25 rejected RCPT <${u}>: relay not permitted`;
    } else if (r < 0.96) {
      line = `${pre} no host name found for IP address ${bad}`;
    } else {
      line = `${pre} ${id(i)} => someone@remote.example R=dnslookup T=remote_smtp H=mx.remote.example [198.51.100.9] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes C="250 2.0.0 OK id=${i}"`;
    }
    out.line(line);
  }
  out.finish(truth);
  return truth;
}

interface Timed {
  seconds: number;
  status: number | null;
  stdout: string;
  stderr: string;
}

function timed(cmd: string, args: string[]): Timed {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, TZ: 'UTC' } });
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function best(n: number, f: () => Timed): Timed {
  let b: Timed | null = null;
  for (let i = 0; i < n; i++) {
    const r = f();
    if (!b || r.seconds < b.seconds) b = r;
  }
  return b!;
}

export interface LogBenchResult {
  format: 'mixed' | 'exim';
  file: string;
  lines: number;
  product_json_g0: { seconds: number; lines_per_s: number } | null;
  /** The same run with `--threads 1`. */
  product_one_thread: { seconds: number; lines_per_s: number } | null;
  /** Threads the default run used (its summary's run.threads). */
  threads: number | null;
  product_default: { seconds: number; lines_per_s: number } | null;
  grep: { seconds: number; lines_per_s: number; count: number } | null;
  counts_exact: boolean | null;
  target_lines_per_s: number;
  problems: string[];
}

export async function runLogBench(o: LogBenchOptions): Promise<LogBenchResult> {
  const log = o.log ?? ((s: string) => process.stdout.write(s + '\n'));
  const lines = o.lines ?? 1_000_000;
  const seed = o.seed ?? 1;
  const format = o.format ?? 'mixed';
  const file = resolve(root, o.out ?? `bench/out/${format}-${lines >= 1e6 && lines % 1e6 === 0 ? `${lines / 1e6}m` : lines}.log`);
  const repeat = o.repeat ?? 3;
  const cli = resolve(root, o.cli ?? 'dist/src/cli.js');
  let truth: Truth | null = null;
  if (!o.regen && existsSync(file) && existsSync(`${file}.truth.json`)) {
    const t = JSON.parse(readFileSync(`${file}.truth.json`, 'utf8')) as Truth;
    if (t.version === LOG_GEN_VERSION && t.lines === lines && t.seed === seed) truth = t;
  }
  if (!truth) {
    log(`generating ${lines} lines → ${file}`);
    truth = format === 'exim' ? generateEximLog(file, lines, seed) : generateMixedLog(file, lines, seed);
  }
  readFileSync(file); // into the page cache
  const problems: string[] = [];
  const res: LogBenchResult = {
    format,
    file,
    lines,
    product_json_g0: null,
    product_one_thread: null,
    threads: null,
    product_default: null,
    grep: null,
    counts_exact: null,
    target_lines_per_s: TARGET_LINES_PER_S,
    problems,
  };

  const j = best(repeat, () => timed(process.execPath, [cli, 'accounts', '--json', '-g', '0', '-c', '/dev/null', file]));
  if (j.status !== 0) problems.push(`product --json run failed (${j.status}): ${j.stderr.slice(-500)}`);
  else {
    res.product_json_g0 = { seconds: j.seconds, lines_per_s: Math.round(lines / j.seconds) };
    const summary = JSON.parse(j.stdout.trim().split('\n').pop()!) as {
      files: { lines: number; successes: number; failures: number; unparseable: number }[];
      run: { threads: number };
    };
    const f = summary.files[0]!;
    res.threads = summary.run.threads;
    res.counts_exact = f.lines === lines && f.successes === truth.successes && f.failures === truth.failures && f.unparseable === 0;
    if (!res.counts_exact)
      problems.push(`counts: product ${JSON.stringify(f)} vs truth ${truth.successes} successes, ${truth.failures} failures, ${lines} lines, 0 unparseable`);
  }
  // The same on one thread: the scaling (the default uses every core on a large plain log).
  const one = best(repeat, () => timed(process.execPath, [cli, 'accounts', '--json', '-g', '0', '-c', '/dev/null', '--threads', '1', file]));
  if (one.status !== 0) problems.push(`product --threads 1 run failed (${one.status}): ${one.stderr.slice(-500)}`);
  else {
    res.product_one_thread = { seconds: one.seconds, lines_per_s: Math.round(lines / one.seconds) };
    if (j.status === 0 && one.stdout.trim().split('\n').slice(0, -1).join('\n') !== j.stdout.trim().split('\n').slice(0, -1).join('\n')) {
      problems.push('the one-thread run listed other groups than the default run');
    }
  }
  const d = best(repeat, () => timed(process.execPath, [cli, 'accounts', '-q', '-c', '/dev/null', file]));
  if (d.status !== 0) problems.push(`product default run failed (${d.status}): ${d.stderr.slice(-500)}`);
  else res.product_default = { seconds: d.seconds, lines_per_s: Math.round(lines / d.seconds) };
  const g = best(repeat, () => timed('grep', ['-c', '-F', '-e', 'Accepted ', '-e', 'Login: ', '-e', ' A=', '-e', 'sasl_username=', '-e', ' - login - ', file]));
  if (g.status === 0) res.grep = { seconds: g.seconds, lines_per_s: Math.round(lines / g.seconds), count: Number(g.stdout.trim()) };
  else problems.push(`grep failed (${g.status})`);

  const row = (name: string, r: { seconds: number; lines_per_s: number } | null): string =>
    r ? `${name.padEnd(44)} ${r.seconds.toFixed(3).padStart(8)} s ${r.lines_per_s.toLocaleString('en-US').padStart(12)} lines/s` : `${name.padEnd(44)} failed`;
  log(`\nlog bench (${format}): ${lines.toLocaleString('en-US')} lines, ${file} (best of ${repeat})`);
  log(row(`smtpstrike accounts --json -g 0 (${res.threads ?? '?'} threads)`, res.product_json_g0));
  log(row('smtpstrike accounts --json -g 0 --threads 1', res.product_one_thread));
  log(row('smtpstrike accounts -q (embedded GeoIP)', res.product_default));
  log(row('grep -c -F (floor)', res.grep));
  if (res.product_json_g0) {
    const ok = res.product_json_g0.lines_per_s >= TARGET_LINES_PER_S;
    log(`target ≥ ${TARGET_LINES_PER_S.toLocaleString('en-US')} lines/s: ${ok ? 'PASS' : 'FAIL'}`);
  }
  log(`counts vs truth: ${res.counts_exact === null ? 'n/a' : res.counts_exact ? 'exact' : 'WRONG'}`);
  for (const p of problems) log(`problem: ${p}`);
  const out = resolve(root, o.results ?? 'bench/out/logs-results.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(res, null, 2) + '\n');
  return res;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      lines: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      regen: { type: 'boolean' },
      repeat: { type: 'string' },
      'product-cli': { type: 'string' },
      results: { type: 'string' },
      format: { type: 'string' },
    },
  });
  const r = await runLogBench({
    lines: values.lines ? Number(values.lines) : undefined,
    seed: values.seed ? Number(values.seed) : undefined,
    out: values.out,
    regen: values.regen,
    repeat: values.repeat ? Number(values.repeat) : undefined,
    cli: values['product-cli'],
    results: values.results,
    format: values.format === 'exim' ? 'exim' : 'mixed',
  });
  process.exitCode = r.product_json_g0 === null ? 3 : r.counts_exact ? 0 : 1;
}
