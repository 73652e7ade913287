/**
 * `smtpstrike blocks list` shows each block's repeat-offender level from watch's state file
 * (issue 14, must-have 5): real nft blocks in a network namespace of its own (root); and
 * `smtpstrike status` shows the same level (no root).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { smtpstrike } from './support/cli.js';
import { have, sh } from './support/netns-nodes.js';
import { tempDir } from './support/synth.js';

test('blocks list: the level of each block the state file holds; none for others; a missing file is no error', (t) => {
  if (process.getuid?.() !== 0 || !have('nft')) {
    process.stderr.write('SKIPPED LOUDLY: escalation-blocks needs root and nft (a network namespace); run npm test as root, scripts/install-deps.sh testbed\n');
    t.skip('needs root and nft');
    return;
  }
  const ns = `escb${process.pid}`;
  const dir = tempDir();
  assert.equal(sh(['ip', 'netns', 'add', ns]).status, 0);
  try {
    const add = smtpstrike(['blocks', 'add', '--netns', ns, '--timeout', '900', '203.0.113.20', '198.51.100.7']);
    assert.equal(add.status, 0, add.stderr);
    const state = join(dir.dir, 'state.json');
    const block = { key: '203.0.113.20', client: '203.0.113.20', rule: 'auth', from: 990, until: 4_000_000_000, rejects: 2, level: 3 };
    writeFileSync(
      state,
      JSON.stringify({
        version: 1,
        saved_at: 1000,
        entries: [{ key: '203.0.113.20', last_seen: 990, auth: [], conn: [], block }],
        history: [{ key: '203.0.113.20', blocks: [100, 200, 300, 990] }],
      }),
    );
    const json = smtpstrike(['blocks', 'list', '--json', '--netns', ns, '--state-file', state]);
    assert.equal(json.status, 0, json.stderr);
    const doc = json.lines[0] as { blocks: { addr: string; level: number | null }[] };
    assert.deepEqual(
      doc.blocks.map((b) => [b.addr, b.level]),
      [
        ['198.51.100.7', null],
        ['203.0.113.20', 3],
      ],
    );
    const text = smtpstrike(['blocks', 'list', '--netns', ns, '--state-file', state]);
    assert.match(text.stdout, /^203\.0\.113\.20 +\d+ s left level 3$/m);
    assert.match(text.stdout, /^198\.51\.100\.7 +\d+ s left$/m);
    const none = smtpstrike(['blocks', 'list', '--netns', ns, '--state-file', join(dir.dir, 'absent.json')]);
    assert.equal(none.status, 0, none.stderr);
    assert.equal(none.stderr, '');
    assert.doesNotMatch(none.stdout, /level/);
  } finally {
    smtpstrike(['blocks', 'cleanup', '--netns', ns]);
    sh(['ip', 'netns', 'del', ns]);
    dir.cleanup();
  }
});

test('status: each standing block with its level from the state file (0 for a block saved without one)', () => {
  const dir = tempDir();
  try {
    const state = join(dir.dir, 'state.json');
    const until = 4_000_000_000;
    const escalated = { key: '203.0.113.20', client: '203.0.113.20', rule: 'auth', from: 990, until, rejects: 2, level: 3 };
    const first = { key: '198.51.100.7', client: '198.51.100.7', rule: 'conn', from: 995, until: until - 1, rejects: 0 };
    writeFileSync(
      state,
      JSON.stringify({
        version: 1,
        saved_at: 1000,
        entries: [
          { key: '203.0.113.20', last_seen: 990, auth: [], conn: [], block: escalated },
          { key: '198.51.100.7', last_seen: 995, auth: [], conn: [], block: first },
        ],
        history: [{ key: '203.0.113.20', blocks: [100, 200, 300, 990] }],
      }),
    );
    const json = smtpstrike(['status', '--json', '--state-file', state]);
    assert.equal(json.status, 0, json.stderr);
    const doc = json.lines[0] as { blocks: { key: string; level: number }[] };
    assert.deepEqual(
      doc.blocks.map((b) => [b.key, b.level]),
      [
        ['203.0.113.20', 3],
        ['198.51.100.7', 0],
      ],
    );
    const text = smtpstrike(['status', '--state-file', state]);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^  203\.0\.113\.20 +auth since .* 2 connections refused, level 3$/m);
    assert.match(text.stdout, /^  198\.51\.100\.7 +conn since .* 0 connections refused, level 0$/m);
  } finally {
    dir.cleanup();
  }
});
