/**
 * `smtpstrike accounts` against auth_checker.pl, account-day by account-day, on a generated Exim
 * main log (issue 15 item 4):
 *
 *   node dist/bench/auth-checker.js --auth-checker /path/to/auth_checker.pl [--lines 2000000]
 *        [--seed 1] [--out bench/out/exim-ac-2m.log] [--product-cli dist/src/cli.js] [--keep]
 *
 * auth_checker.pl is GPL and not part of this repository: name your copy (version 2.03 reads
 * Exim's main log by default). Both are run with every address counted and no GeoIP
 * (`-l -1 -g 0`; smtpstrike also `--tz UTC -c /dev/null --json`), and each account-day's
 * addresses with their login counts, its Last address and Last time are compared.
 *
 * The log is made for the comparison: what both read right. Logins (`<=` with `A=plain`,
 * `A=dovecot_plain`, `A=dovecot_login`) from IPv4 clients only and without Exim's `I=[server]`
 * field (auth_checker.pl drops IPv6 clients and takes the last bracketed address before `A=`, the
 * server's when `I=` is logged: docs/accounts.md "What auth_checker.pl got wrong"); 5,000 accounts
 * with one to three usual addresses each, 3 % of logins from elsewhere, and now and then a second
 * login of the same account from another of its addresses in the same second (a phone and a
 * laptop): the case where the two tools once disagreed on Last. The rest is Exim's everyday noise.
 *
 * Exit status: 0 every account-day agrees, 1 some differ, 3 a tool failed.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Rng } from './rng.js';

const here = dirname(fileURLToPath(import.meta.url)); // <root>/dist/bench
const root = resolve(here, '..', '..');

const p2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** Writes the comparison's Exim main log (7 days); returns the number of same-second pairs written. */
export function generateComparisonLog(file: string, lines: number, seed: number): number {
  const rng = new Rng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rng.next() * a.length)]!;
  const ip4 = (): string =>
    `${1 + Math.floor(rng.next() * 222)}.${Math.floor(rng.next() * 256)}.${Math.floor(rng.next() * 256)}.${1 + Math.floor(rng.next() * 254)}`;
  const users = Array.from({ length: 5000 }, (_, i) => `user${i}@example.com`);
  const homes = users.map((_, i) => Array.from({ length: 1 + (i % 3) }, () => ip4()));
  const elsewhere = Array.from({ length: 5000 }, () => ip4());
  const attackers = Array.from({ length: 20_000 }, () => ip4());
  mkdirSync(dirname(file), { recursive: true });
  const fd = openSync(file, 'w');
  let buf = '';
  let pairs = 0;
  const start = Date.UTC(2023, 1, 13, 0, 0, 0) / 1000;
  const days = 7;
  for (let i = 0; i < lines; i++) {
    const t = start + Math.floor((i * 86400 * days) / lines);
    const d = new Date(t * 1000);
    const pre = `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
    const id = `1pRZ${(i % 1296).toString(36).padStart(2, '0')}-000${i % 10}Ab-${String.fromCharCode(65 + (i % 26))}d`;
    const ui = Math.floor(rng.next() * users.length);
    const u = users[ui]!;
    const r = rng.next();
    const login = (ip: string, k: number): string =>
      `${pre} ${id}${k} <= ${u} H=(laptop) [${ip}]:${1024 + (i % 60000)} P=esmtpsa X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no A=${pick(['dovecot_plain', 'dovecot_login', 'plain'])}:${u} S=${1000 + (i % 9000)} id=${i}.${k}@laptop`;
    if (r < 0.12) {
      const mine = homes[ui]!;
      const ip = rng.next() < 0.03 ? pick(elsewhere) : pick(mine);
      buf += login(ip, 0) + '\n';
      if (mine.length > 1 && rng.next() < 0.003) {
        // The same account again in the same second, from another of its addresses.
        const other = mine[(mine.indexOf(ip) + 1) % mine.length]!;
        buf += login(other === ip ? mine[0]! : other, 1) + '\n';
        pairs++;
        i++;
      }
    } else if (r < 0.3) {
      buf += `${pre} ${pick(['dovecot_login', 'dovecot_plain'])} authenticator failed for (User) [${pick(attackers)}]:${1024 + (i % 60000)}: 535 Incorrect authentication data (set_id=${u})\n`;
    } else if (r < 0.45) {
      buf += `${pre} ${id} <= bounce-${i}@lists.example.org H=mx.lists.example.org [198.51.100.${i % 250}]:41234 P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no S=${2000 + (i % 50000)} id=${i}.list@lists.example.org\n`;
    } else if (r < 0.62) {
      buf += `${pre} ${id} => ${u} <${u}> R=local_user T=dovecot_lmtp C="250 2.0.0 <${u}> Saved"\n`;
    } else if (r < 0.8) {
      buf += `${pre} ${id} Completed\n`;
    } else if (r < 0.9) {
      buf += `${pre} SMTP connection from (${pick(['User', 'ylmf-pc', 'WIN-ABC'])}) [${pick(attackers)}]:${1024 + (i % 60000)} lost D=${i % 30}s\n`;
    } else {
      buf += `${pre} H=(User) [${pick(attackers)}]:${1024 + (i % 60000)} rejected RCPT <${u}>: relay not permitted\n`;
    }
    if (buf.length > 1 << 20) {
      writeSync(fd, buf);
      buf = '';
    }
  }
  writeSync(fd, buf);
  closeSync(fd);
  return pairs;
}

interface AccountDay {
  ips: Map<string, number>;
  lastIp: string;
  lastTime: string;
}

/** auth_checker.pl's report: `DATE -> account USER: N IPs (Last: IP @ TIME)`, then `COUNT IP` lines. */
function readAuthChecker(text: string): Map<string, AccountDay> {
  const out = new Map<string, AccountDay>();
  let cur: AccountDay | null = null;
  for (const line of text.split('\n')) {
    const h = /^(\S+) -> account (\S+): \d+ IPs \(Last: (\S+) @ (\S+)\)$/.exec(line);
    if (h) {
      cur = { ips: new Map(), lastIp: h[3]!, lastTime: h[4]! };
      out.set(`${h[1]} ${h[2]}`, cur);
      continue;
    }
    const e = /^\s+(\d+)\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(line);
    if (e && cur) cur.ips.set(e[2]!, Number(e[1]));
  }
  return out;
}

interface JsonGroup {
  type: string;
  day: string;
  user: string;
  last: { ip: string; ts: number };
  entries: { ip: string; count: number }[];
}

function readProduct(text: string): Map<string, AccountDay> {
  const out = new Map<string, AccountDay>();
  for (const line of text.trimEnd().split('\n')) {
    const g = JSON.parse(line) as JsonGroup;
    if (g.type !== 'account') continue;
    const lastTime = new Date(g.last.ts * 1000).toISOString().slice(11, 19);
    out.set(`${g.day} ${g.user}`, { ips: new Map(g.entries.map((e) => [e.ip, e.count])), lastIp: g.last.ip, lastTime });
  }
  return out;
}

function same(a: AccountDay, b: AccountDay): string | null {
  if (a.lastIp !== b.lastIp || a.lastTime !== b.lastTime) return `Last ${a.lastIp} @ ${a.lastTime} vs ${b.lastIp} @ ${b.lastTime}`;
  if (a.ips.size !== b.ips.size) return `${a.ips.size} vs ${b.ips.size} addresses`;
  for (const [ip, n] of a.ips) if (b.ips.get(ip) !== n) return `${ip}: ${n} vs ${b.ips.get(ip) ?? 'none'} logins`;
  return null;
}

function timed(cmd: string, args: string[]): { seconds: number; status: number | null; stdout: string; stderr: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, TZ: 'UTC' } });
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      'auth-checker': { type: 'string' },
      lines: { type: 'string', default: '2000000' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string' },
      'product-cli': { type: 'string', default: 'dist/src/cli.js' },
      keep: { type: 'boolean', default: false },
    },
  });
  const checker = values['auth-checker'];
  if (!checker || !existsSync(checker)) {
    process.stderr.write('usage: node dist/bench/auth-checker.js --auth-checker /path/to/auth_checker.pl [--lines N] [--seed N]\n');
    process.exit(3);
  }
  const lines = Number(values.lines);
  const file = resolve(root, values.out ?? `bench/out/exim-ac-${lines}.log`);
  const pairs = generateComparisonLog(file, lines, Number(values.seed));
  const log = (s: string): boolean => process.stdout.write(s + '\n');
  log(`${lines.toLocaleString('en-US')} lines → ${file} (${pairs} same-second login pairs of one account from two addresses)`);
  const ac = timed('perl', [checker, '-l', '-1', '-g', '0', '-m', 'exim', file]);
  const pr = timed(process.execPath, [
    resolve(root, values['product-cli']),
    'accounts',
    '--json',
    '-g',
    '0',
    '-l',
    '-1',
    '--tz',
    'UTC',
    '-c',
    '/dev/null',
    file,
  ]);
  if (!values.keep) rmSync(file, { force: true });
  if (ac.status !== 0 || pr.status !== 0) {
    log(`failed: auth_checker.pl ${ac.status} ${ac.stderr.slice(-300)}; smtpstrike ${pr.status} ${pr.stderr.slice(-300)}`);
    process.exit(3);
  }
  const a = readAuthChecker(ac.stdout);
  const b = readProduct(pr.stdout);
  let agree = 0;
  const diffs: string[] = [];
  for (const [k, x] of a) {
    const y = b.get(k);
    const why = y ? same(x, y) : 'missing in smtpstrike';
    if (why === null) agree++;
    else diffs.push(`${k}: ${why} (auth_checker.pl vs smtpstrike)`);
  }
  for (const k of b.keys()) if (!a.has(k)) diffs.push(`${k}: missing in auth_checker.pl`);
  const rate = (s: number): string => `${s.toFixed(2)} s = ${Math.round(lines / s).toLocaleString('en-US')} lines/s`;
  log(`auth_checker.pl: ${rate(ac.seconds)}; smtpstrike accounts: ${rate(pr.seconds)} (one run each, node's start included)`);
  log(`account-days: ${agree} of ${Math.max(a.size, b.size)} agree (auth_checker.pl ${a.size}, smtpstrike ${b.size})`);
  for (const d of diffs.slice(0, 20)) log(`  differs: ${d}`);
  process.exitCode = diffs.length === 0 ? 0 : 1;
}
