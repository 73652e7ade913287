/**
 * `smtpstrike watch` with a stand-in tcpdump (test/support/fake-watch.ts): what it does when the
 * capture dies, when its state file is damaged, and with a flood from a blocked address. No root.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyPcap, startWatch } from './support/fake-watch.js';
import { tempDir } from './support/synth.js';

test('watch: tcpdump exiting is logged fatal and watch exits 2 (systemd restarts it), the state saved', async () => {
  const t = tempDir();
  const w = startWatch({ mode: 'dies', pcap: emptyPcap(t.dir) });
  try {
    const status = await w.exitWithin();
    assert.equal(status, 2, `exit status (stderr: ${w.stderr()})`);
    const fatal = w.log().find((l) => l.level === 60);
    assert.ok(fatal, `a fatal line in ${JSON.stringify(w.log())}`);
    assert.equal(fatal.event, 'capture_failed');
    assert.match(String(fatal.msg), /capture lost.*tcpdump on "fake0" ended \(exit status 1\).*interface went down/);
    assert.match(w.stderr(), /capture lost: tcpdump on "fake0" ended/);
    assert.ok(w.log().some((l) => l.event === 'stop'), 'pending blocks applied and state saved on the way out');
  } finally {
    w.cleanup();
    t.cleanup();
  }
});

test('watch: a damaged or hand-edited state file costs only its bad entries (warned), never the start', async () => {
  const t = tempDir();
  const now = Math.floor(Date.now() / 1000);
  const block = (key: string, until: number): Record<string, unknown> => ({ key, client: key, rule: 'auth', from: now - 10, until, rejects: 0 });
  const good = { key: '198.51.100.1', last_seen: now - 10, auth: [now - 12, now - 11, now - 10], conn: [], block: block('198.51.100.1', now + 600) };
  const farAhead = { key: '198.51.100.2', last_seen: now - 10, auth: [now - 10], conn: [], block: block('198.51.100.2', 1e15) };
  const state = {
    version: 1, saved_at: now - 5,
    entries: [
      good,
      null,
      { key: 'not an address', last_seen: now, auth: [], conn: [], block: null },
      { key: '198.51.100.3', last_seen: now, auth: 'x', conn: [], block: null },
      { key: '198.51.100.4', last_seen: now, auth: [now], conn: [], block: { ...block('198.51.100.4', now + 60), until: 'soon' } },
      { key: '2001:DB8::/64', last_seen: now, auth: [now], conn: [], block: null },
      farAhead,
    ],
  };
  const w = startWatch({ mode: 'runs', pcap: emptyPcap(t.dir), state: JSON.stringify(state) });
  try {
    await w.waitLog((l) => l.event === 'start', 'watch started');
    const warn = w.log().find((l) => l.event === 'state_entries_skipped');
    assert.ok(warn, 'the skipped entries are warned about');
    assert.equal(warn.level, 40);
    assert.equal(warn.skipped, 4);
    assert.deepEqual((warn.first as { index: number }[]).map((s) => s.index), [1, 2, 3, 4]);
    const restored = w.log().find((l) => l.event === 'state_restored');
    assert.equal(restored?.entries, 3, 'the good entries, a hand-written 2001:DB8::/64 as 2001:db8::/64');
    assert.equal(restored?.blocks, 2);
    await w.waitLog((l) => l.backend === 'dry-run' && l.addr === '198.51.100.1', 'the good block re-applied');
    const cut = await w.waitLog((l) => l.backend === 'dry-run' && l.addr === '198.51.100.2', 'the far-ahead block re-applied');
    assert.equal(cut.timeout_s, 2_147_483, 'cut to the longest timeout the kernel takes');
    w.child.kill('SIGTERM');
    assert.equal(await w.exitWithin(), 0, w.stderr());
    assert.doesNotMatch(w.stderr(), /TypeError/);
  } finally {
    w.cleanup();
    t.cleanup();
  }
});
