/**
 * `--on-block` / `--on-unblock` programs (src/watch/block-hooks.ts): the block as arguments and
 * environment, never a shell; at most N at once, a bounded queue (overflow counted), a timeout that
 * kills, a failing or missing program logged and counted — never thrown.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BlockHooks, type BlockHookEvent } from '../src/watch/block-hooks.js';
import { waitFor } from './support/wait.js';

function script(dir: string, name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

function logger(): { warn: (o: Record<string, unknown>, m: string) => void; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { lines, warn: (o) => lines.push(o) };
}

const BLOCK: BlockHookEvent = { event: 'block', address: '203.0.113.7', key: '203.0.113.7', rule: 'auth', until: 1790001200 };

test('the block reaches the program as arguments and environment, hostile text stays text', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hooks-'));
  try {
    const out = join(dir, 'out');
    const prog = script(
      dir,
      'hook',
      `printf '%s\\n' "$@" > "${out}"; printf '%s|%s|%s|%s|%s\\n' "$SMTPSTRIKE_EVENT" "$SMTPSTRIKE_ADDRESS" "$SMTPSTRIKE_KEY" "$SMTPSTRIKE_RULE" "$SMTPSTRIKE_UNTIL" >> "${out}"`,
    );
    const log = logger();
    const hooks = new BlockHooks({ onBlock: [prog, '--fixed'], onUnblock: null, log });
    hooks.fire(BLOCK);
    hooks.fire({ ...BLOCK, event: 'unblock' }); // no unblock program: nothing runs
    await hooks.drained();
    assert.equal(readFileSync(out, 'utf8'), '--fixed\nblock\n203.0.113.7\n203.0.113.7\nauth\n1790001200\nblock|203.0.113.7|203.0.113.7|auth|1790001200\n');
    assert.deepEqual([hooks.stats.started, hooks.stats.succeeded, hooks.stats.failed], [1, 1, 0]);

    const evil = `$(touch ${join(dir, 'pwned')}); touch ${join(dir, 'pwned2')}`;
    const hooks2 = new BlockHooks({ onBlock: null, onUnblock: [prog], log });
    hooks2.fire({ event: 'unblock', address: evil, key: '2001:db8:1::/64', rule: 'manual', until: 0 });
    await hooks2.drained();
    assert.equal(readFileSync(out, 'utf8').split('\n')[1], evil, 'the address arrives as one literal argument');
    assert.ok(!existsSync(join(dir, 'pwned')) && !existsSync(join(dir, 'pwned2')), 'no shell ran it');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('at most maxRunning at once, maxQueued waiting, the rest dropped and counted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hooks-'));
  try {
    const release = join(dir, 'release');
    const prog = script(dir, 'hook', `touch "${dir}/running.$$"; while [ ! -e "${release}" ]; do sleep 0.05; done; rm "${dir}/running.$$"`);
    const log = logger();
    const hooks = new BlockHooks({ onBlock: [prog], onUnblock: null, maxRunning: 3, maxQueued: 5, log });
    for (let i = 0; i < 10; i++) hooks.fire({ ...BLOCK, address: `203.0.113.${i}`, key: `203.0.113.${i}` });
    await waitFor(() => readdirSync(dir).filter((f) => f.startsWith('running.')).length === 3, 'three hooks running', 20_000);
    assert.deepEqual([hooks.stats.running, hooks.stats.queued, hooks.stats.dropped], [3, 5, 2]);
    assert.equal(log.lines.filter((l) => l.event === 'hook_dropped').length, 2);
    writeFileSync(release, '');
    await hooks.drained();
    assert.deepEqual([hooks.stats.started, hooks.stats.succeeded, hooks.stats.running, hooks.stats.queued], [8, 8, 0, 0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a program past its timeout is killed; a failing or missing one is logged; none throws', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hooks-'));
  try {
    const log = logger();
    const slow = new BlockHooks({ onBlock: [script(dir, 'slow', 'sleep 60')], onUnblock: null, timeoutMs: 300, log });
    slow.fire(BLOCK);
    await slow.drained();
    assert.deepEqual([slow.stats.timedOut, slow.stats.succeeded], [1, 0]);
    const bad = new BlockHooks({ onBlock: [script(dir, 'bad', 'exit 3')], onUnblock: [join(dir, 'no-such-program')], log });
    bad.fire(BLOCK);
    bad.fire({ ...BLOCK, event: 'unblock' });
    await bad.drained();
    assert.equal(bad.stats.failed, 2);
    const failed = log.lines.filter((l) => l.event === 'hook_failed');
    assert.equal(failed.length, 3);
    assert.ok(failed.some((l) => l.code === 3));
    assert.ok(failed.some((l) => typeof l.error === 'string' && /ENOENT/.test(l.error)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
