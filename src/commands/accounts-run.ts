import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { parseZone, type Zone } from '../accounts/clock.js';
import { candidateLogs, defaultLogs } from '../accounts/default-logs.js';
import { scanSplit } from '../accounts/parallel-scan.js';
import { LogScanner } from '../accounts/parse-logs.js';
import { AccountGroups, groupJson, renderText } from '../accounts/account-groups.js';
import type { FileCounters, Mode } from '../accounts/types.js';
import { emptyWhitelist, Whitelist, type WhitelistConfig } from '../accounts/whitelist.js';
import { ConfigError, loadAccountsConfig } from '../config/config-file.js';
import { defaultGeoFiles, GeoIp, type GeoInfo } from '../geoip/geoip.js';
import { Output } from '../io/output.js';

/**
 * `smtpstrike accounts [LOG...]` (the command and its options: accounts.ts) — who logged in successfully from where (the seed's
 * auth_checker.pl, rewritten from its behaviour): successful logins per day and account from
 * Exim, Postfix, Dovecot, sshd, Apache/nginx and OpenWebMail logs, accounts seen from at least
 * --limit addresses that are not whitelisted, each address with its GeoIP place.
 *
 * Exit status: 0 the report was made (whether or not anything matched); 1 bad usage or config;
 * 2 a log could not be read to its end (the report of everything read is still printed).
 */

export { DEFAULT_CONFIG } from '../options/watch.js';
export const EXIT_READ_ERROR = 2;
export const NOTHING_FOUND = 'No matching authentications found!';

export interface AccountsFlags {
  config: string;
  mode: Mode;
  limit: number;
  quiet: boolean;
  user: string[];
  userRegex?: string;
  nodate: boolean;
  nouser: boolean;
  geoip: number;
  geoipDb: string[];
  logs: string[];
  json: boolean;
  tz: string;
  year?: number;
  stats: boolean;
  threads: number;
}

interface Resolved {
  flags: AccountsFlags;
  whitelist: WhitelistConfig;
}

/** Command line, else config file (`accounts:`), else defaults. */
function resolve(cmd: Command): Resolved {
  const opts = cmd.opts<AccountsFlags>();
  let whitelist = emptyWhitelist();
  const configGiven = cmd.getOptionValueSource('config') === 'cli';
  let logs: string[] = [];
  if (configGiven || existsSync(opts.config)) {
    const acc = loadAccountsConfig(opts.config);
    whitelist = acc.whitelist;
    for (const [option, value] of acc.options) {
      if (option === 'logs') {
        logs = value as string[];
        continue;
      }
      const src = cmd.getOptionValueSource(option);
      if (src === undefined || src === 'default') cmd.setOptionValueWithSource(option, value, 'config');
    }
  }
  const flags = cmd.opts<AccountsFlags>();
  flags.logs = logs;
  return { flags, whitelist };
}

export async function runAccounts(files: string[], cmd: Command): Promise<number> {
  let r: Resolved;
  try {
    r = resolve(cmd);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`smtpstrike: bad config: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const { flags } = r;
  const warn = (msg: string): void => {
    if (!flags.quiet || flags.json) process.stderr.write(`smtpstrike accounts: warning: ${msg}\n`);
  };
  let zone: Zone;
  let userRegex: RegExp | null = null;
  let whitelist: Whitelist;
  try {
    zone = parseZone(flags.tz);
    if (flags.userRegex !== undefined) userRegex = new RegExp(flags.userRegex);
    whitelist = new Whitelist(r.whitelist);
  } catch (e) {
    process.stderr.write(`smtpstrike: ${(e as Error).message}\n`);
    return 1;
  }

  let logs = files;
  if (logs.length === 0) logs = flags.logs.length > 0 ? flags.logs : defaultLogs(flags.mode);
  if (logs.length === 0) {
    process.stderr.write(
      `smtpstrike accounts: no log file found for mode ${flags.mode} (looked for ${candidateLogs(flags.mode).join(', ')}); name the files, or "-" for standard input\n`,
    );
    return EXIT_READ_ERROR;
  }

  const started = process.hrtime.bigint();
  const scanner = new LogScanner({ mode: flags.mode, tz: zone, year: flags.year, intern: false });
  const report = new AccountGroups({ limit: flags.limit, nodate: flags.nodate, nouser: flags.nouser, zone, users: flags.user, userRegex }, whitelist);
  let failures = 0;
  let tempfails = 0;
  const counters: FileCounters[] = [];
  let threadsUsed = 1;
  const spec = {
    mode: flags.mode,
    zone,
    year: flags.year,
    limit: flags.limit,
    nodate: flags.nodate,
    nouser: flags.nouser,
    users: flags.user,
    userRegex: userRegex ? { source: userRegex.source, flags: userRegex.flags } : null,
    whitelist: r.whitelist,
  };
  for (const f of logs) {
    const split = flags.threads > 1 ? await scanSplit(f, spec, { threads: flags.threads }) : null;
    if (split) {
      for (const st of split.reports) report.absorb(st);
      failures += split.failures;
      tempfails += split.tempfails;
      counters.push(split.counters);
      threadsUsed = Math.max(threadsUsed, split.exact);
      continue;
    }
    const c = await scanner.scanFile(
      f,
      (ev) => {
        if (ev.outcome === 'success') report.add(ev);
        else if (ev.outcome === 'failure')
          failures += ev.count ?? 1; // Dovecot's `auth failed, 3 attempts`: 3
        else tempfails++;
      },
      true,
    ); // one reused event object: report.add copies what it keeps
    counters.push(c);
    if (c.error) process.stderr.write(`smtpstrike accounts: ${c.error}\n`);
  }

  // GeoIP only when something needs it (the report, or a country/AS/ISP whitelist).
  const needGeo = flags.geoip > 0 || whitelist.needsGeo;
  let geo: GeoIp | null = null;
  if (needGeo && report.matched > 0) {
    const dbFiles = flags.geoipDb.length > 0 ? flags.geoipDb : defaultGeoFiles();
    geo = new GeoIp(dbFiles, warn);
    if (!geo.available) {
      warn('GeoIP is unavailable: addresses are listed without places' + (whitelist.needsGeo ? ', and the country/AS/ISP whitelists cannot apply' : ''));
      geo = null;
    }
  }
  const geoOf = (ip: string): GeoInfo | null => (geo ? geo.lookup(ip) : null);
  const groups = report.result(geoOf);
  if (geo?.failed) {
    warn('GeoIP is unavailable: addresses are listed without places' + (whitelist.needsGeo ? ', and the country/AS/ISP whitelists did not apply' : ''));
    geo = null;
  }
  const geoLevel = geo ? flags.geoip : 0;

  const stdout = Output.of(process.stdout);
  if (flags.json) {
    const out: string[] = groups.map((g) => JSON.stringify(groupJson(g, zone, geoLevel)));
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    const lines = counters.reduce((a, c) => a + c.lines, 0);
    out.push(
      JSON.stringify({
        type: 'summary',
        files: counters,
        totals: {
          lines,
          successes: report.successes,
          failures,
          tempfails,
          sessions_dropped: counters.reduce((a, c) => a + c.sessionsDropped, 0),
          matched_successes: report.matched,
          unparseable: counters.reduce((a, c) => a + c.unparseable, 0),
          groups: groups.length,
        },
        geoip: { level: geoLevel, databases: geo ? geo.files : [], warnings: geo ? geo.warnings : [] },
        options: {
          mode: flags.mode,
          limit: flags.limit,
          nodate: flags.nodate,
          nouser: flags.nouser,
          users: flags.user,
          user_regex: flags.userRegex ?? null,
          tz: flags.tz,
          year: flags.year ?? null,
        },
        run: { elapsed_s: Math.round(elapsed * 1e6) / 1e6, lines_per_s: Math.round(lines / Math.max(elapsed, 1e-9)), threads: threadsUsed },
      }),
    );
    stdout.write(out.join('\n') + '\n');
  } else if (groups.length > 0) {
    stdout.write(renderText(groups, geoLevel, zone, flags.nouser));
  } else if (!flags.quiet) {
    stdout.write(`${NOTHING_FOUND}\n`);
  }
  await stdout.end();
  if (flags.stats) {
    for (const c of counters) {
      process.stderr.write(
        `${c.file}: ${c.lines} lines (${c.compression}), ${c.successes} successes, ${c.failures} failures, ${c.tempfails} temporary failures (454), ${c.ignored} other, ${c.unparseable} unparseable${c.sessionsDropped > 0 ? `, ${c.sessionsDropped} Postfix sessions forgotten (over the cap)` : ''}${c.error ? `, error: ${c.error}` : ''}\n`,
      );
    }
  }
  return counters.some((c) => c.error) ? EXIT_READ_ERROR : 0;
}
