/** `smtpstrike accounts --json` on a generated log in `dir`: fixed zone and year, no config, no GeoIP. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const CLI = resolve('dist/src/cli.js');

export interface AccountsJson {
  /** The group lines (everything before the summary), as printed. */
  body: string[];
  /** The summary line without its `run` timings. */
  summary: Record<string, unknown>;
  /** The summary's `run` object (timings, threads used). */
  run: { elapsed_s: number; lines_per_s: number; threads: number };
}

export function accountsJson(dir: string, name: string, extra: string[] = []): AccountsJson {
  const r = spawnSync(process.execPath, [CLI, 'accounts', '--json', '-g', '0', '-c', '/dev/null', '--tz', 'UTC', '--year', '2023', ...extra, name], {
    cwd: dir,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    env: { ...process.env, TZ: 'UTC' },
  });
  assert.equal(r.status, 0, r.stderr);
  const body = r.stdout.trimEnd().split('\n');
  const summary = JSON.parse(body.pop()!) as Record<string, unknown>;
  const run = summary.run as AccountsJson['run'];
  delete summary.run;
  return { body, summary, run };
}
