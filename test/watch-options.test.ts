/**
 * watch's options: every number on the command line is range-checked exactly as the config file
 * checks the same key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_KEYS, ConfigError, parseConfig } from '../src/config/config-file.js';
import { watchCommand } from '../src/commands/watch.js';
import { CLI } from './support/cli.js';

test('every number option of watch refuses on the command line what the config file refuses, and takes the same limits', () => {
  const cmd = watchCommand();
  let checked = 0;
  for (const [key, spec] of Object.entries(CONFIG_KEYS)) {
    if (spec.kind !== 'int' && spec.kind !== 'bytes') continue;
    const opt = cmd.options.find((o) => o.attributeName() === spec.option);
    assert.ok(opt?.parseArg, `--${key} has a parser`);
    const parse = (v: string): unknown => opt.parseArg!(v, undefined);
    for (const bad of ['abc', '', '-1', String(spec.min! - 1), String(spec.max! + 1), '1.5']) {
      assert.throws(() => parse(bad), `${opt.long} ${JSON.stringify(bad)} refused`);
      assert.throws(() => parseConfig(`${key}: ${bad === '' ? '""' : bad}\n`), ConfigError, `${key}: ${bad} refused in the file`);
    }
    for (const good of [spec.min!, spec.max!]) {
      assert.equal(parse(String(good)), good, `${opt.long} ${good}`);
      assert.equal(parseConfig(`${key}: ${good}\n`).get(spec.option), good);
    }
    checked++;
  }
  assert.ok(checked >= 10, `${checked} number options checked`);
});

test('watch --stats-interval abc / 0 is refused before anything starts (no 1 ms statistics storm)', () => {
  // Should the check ever be missing, watch must not touch anything real: no config, a throw-away state file.
  const safe = ['--config', '/dev/null', '--state-file', join(tmpdir(), `smtpstrike-never-${process.pid}.json`), '-i', 'lo'];
  for (const [v, why] of [
    ['abc', /expected a whole number, got "abc"/],
    ['0', /must be between 1 and 86400/],
  ] as const) {
    const r = spawnSync(process.execPath, [CLI, 'watch', ...safe, '--dry-run', '--stats-interval', v], { encoding: 'utf8', timeout: 30_000 });
    assert.notEqual(r.status, 0, r.stdout);
    assert.match(r.stderr, /--stats-interval/);
    assert.match(r.stderr, why);
    assert.doesNotMatch(r.stdout, /"event":"start"/);
  }
  const big = spawnSync(process.execPath, [CLI, 'watch', ...safe, '--dry-run', '--buffer-size', '4GiB'], { encoding: 'utf8', timeout: 30_000 });
  assert.notEqual(big.status, 0);
  assert.match(big.stderr, /--buffer-size.*must be between 1048576 and 2147483647 bytes/);
});
