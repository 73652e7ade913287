/**
 * `smtpstrike watch --replay` with the real nft blocker (root): a network namespace made for this
 * run (named from the PID, deleted at the end), watch's firewall commands run inside it (--netns).
 * The addresses a shipped capture's ground truth blocks land in the kernel's set with the
 * --block-seconds timeout, and stay there after watch exits at the end of the files (as a
 * restart of watch leaves them). Says SKIPPED LOUDLY without root or nft.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI } from './support/cli.js';
import { have, sh } from './support/netns-nodes.js';
import { tempDir } from './support/synth.js';

const NS = `sstwr${process.pid % 100000}`;
let made = false;

function dropNs(): void {
  if (made) sh(['ip', 'netns', 'del', NS]);
  made = false;
}

after(dropNs);

/** The elements of an nft set in the namespace: address → timeout and seconds left. */
function setElements(set: string): Map<string, { timeout: number; expires: number }> {
  const r = sh(['ip', 'netns', 'exec', NS, 'nft', '-j', 'list', 'set', 'inet', 'smtpstrike', set]);
  assert.equal(r.status, 0, r.stderr);
  const out = new Map<string, { timeout: number; expires: number }>();
  const doc = JSON.parse(r.stdout) as { nftables: { set?: { elem?: unknown[] } }[] };
  for (const o of doc.nftables) {
    for (const e of o.set?.elem ?? []) {
      const el = (e as { elem?: { val: string; timeout: number; expires: number } }).elem;
      if (el) out.set(el.val, { timeout: el.timeout, expires: el.expires });
    }
  }
  return out;
}

test("watch --replay with the nft blocker in a namespace: the truth's blocked addresses land in the kernel set, and stay", (t) => {
  if (process.getuid?.() !== 0) {
    process.stderr.write('SKIPPED LOUDLY: watch-replay-e2e needs root (a network namespace, nft); run npm test as root\n');
    t.skip('needs root');
    return;
  }
  if (!have('nft')) {
    process.stderr.write('SKIPPED LOUDLY: watch-replay-e2e needs nft; scripts/install-deps.sh testbed (or apt-get install nftables)\n');
    t.skip('needs nft');
    return;
  }
  const add = sh(['ip', 'netns', 'add', NS]);
  assert.equal(add.status, 0, add.stderr);
  made = true;
  assert.equal(sh(['ip', '-n', NS, 'link', 'set', 'lo', 'up']).status, 0);
  const d = tempDir();
  t.after(d.cleanup);
  const config = join(d.dir, 'config.yaml');
  writeFileSync(config, '');
  const log = join(d.dir, 'watch.log');
  const state = join(d.dir, 'state.json');
  // bruteforce: .66 blocked by the auth rule, .77 by the connection rule (pcaps/crafted/bruteforce.truth.json).
  const r = spawnSync(
    process.execPath,
    [
      CLI,
      'watch',
      '--config',
      config,
      '--replay',
      'pcaps/crafted/bruteforce.pcap',
      '--netns',
      NS,
      '--blocker',
      'nft',
      '--block-seconds',
      '900',
      '--state-file',
      state,
      '--log-file',
      log,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(r.status, 0, `exit 0 at the end of the file (stderr: ${r.stderr})`);
  const lines = readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    lines.filter((l) => l.event === 'block').map((l) => l.key),
    ['198.51.100.66', '198.51.100.77'],
  );
  const stats = lines.find((l) => l.event === 'stats' && l.when === 'exit') as { blocker: { applied: number; failed: number } } | undefined;
  assert.equal(stats?.blocker.failed, 0, 'no block op failed');
  assert.ok((stats?.blocker.applied ?? 0) >= 2, 'the blocks were applied before the exit stats');

  // watch has exited: the blocks stay, with the kernel's (wall-time) timeout of --block-seconds.
  const set4 = setElements('blocked4');
  assert.deepEqual([...set4.keys()].sort(), ['198.51.100.66', '198.51.100.77']);
  for (const [addr, e] of set4) {
    assert.equal(e.timeout, 900, `${addr}: timeout`);
    assert.ok(e.expires > 0 && e.expires <= 900, `${addr}: expires in ${e.expires} s`);
  }
  assert.equal(setElements('blocked6').size, 0);
  const st = JSON.parse(readFileSync(state, 'utf8')) as { entries: { key: string; block: unknown }[] };
  assert.deepEqual(
    st.entries.filter((e) => e.block).map((e) => e.key),
    ['198.51.100.66', '198.51.100.77'],
  );
  dropNs();
});
