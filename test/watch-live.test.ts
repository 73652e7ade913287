/**
 * `smtpstrike watch` with a stand-in tcpdump (test/support/fake-watch.ts): what it does when the
 * capture dies, when its state file is damaged, and with a flood from a blocked address. No root.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { emptyPcap, startWatch } from './support/fake-watch.js';
import { FrameList, loginSession, tempDir } from './support/synth.js';
import { waitFor } from './support/wait.js';

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
    assert.ok(
      w.log().some((l) => l.event === 'stop'),
      'pending blocks applied and state saved on the way out',
    );
  } finally {
    w.cleanup();
    t.cleanup();
  }
});

test('watch: a capture stream that breaks while tcpdump still runs is fatal too (exit 2), tcpdump is stopped', async () => {
  const t = tempDir();
  // A pcap header, then a record header claiming 2 GiB of packet: no reader can go on after it.
  const rec = Buffer.alloc(16);
  rec.writeUInt32LE(Math.floor(Date.now() / 1000), 0);
  rec.writeUInt32LE(0x7fffffff, 8);
  rec.writeUInt32LE(0x7fffffff, 12);
  const pcap = join(t.dir, 'broken.pcap');
  writeFileSync(pcap, Buffer.concat([readFileSync(emptyPcap(t.dir)), rec]));
  const w = startWatch({ mode: 'runs', pcap });
  try {
    assert.equal(await w.exitWithin(), 2, w.stderr());
    const fatal = w.log().find((l) => l.level === 60);
    assert.equal(fatal?.event, 'capture_failed');
    assert.match(String(fatal?.msg), /capture lost, watch is blind: live capture stopped: /);
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
    version: 1,
    saved_at: now - 5,
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
    assert.deepEqual(
      (warn.first as { index: number }[]).map((s) => s.index),
      [1, 2, 3, 4],
    );
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

/** Three failed logins from `client` each, in order, then `syns` new connections from `flooder`. */
async function attackPcap(dir: string, clients: [string, string][], flooder: string, syns: number): Promise<string> {
  const f = new FrameList();
  let t = Date.now() * 1000 - 600e6;
  let port = 40000;
  for (const [client, server] of clients) {
    for (let i = 0; i < 3; i++)
      t = loginSession(f.conversation('en10mb', client, port++, server, 587), t + 1000, 'alice', '535 5.7.8 Error: authentication failed\r\n');
  }
  for (let i = 0; i < syns; i++) f.conversation('en10mb', flooder, 20000 + i, '192.0.2.25', 587).open((t += 1000));
  return f.write(join(dir, 'attack.pcap'));
}

test("watch: loopback and the host's own addresses are never blocked, IPv6 included (::1 is the key ::/64)", async () => {
  const t = tempDir();
  const pcap = await attackPcap(
    t.dir,
    [
      ['::1', '::1'],
      ['127.0.0.2', '127.0.0.1'],
      ['198.51.100.7', '192.0.2.25'],
    ],
    '198.51.100.7',
    0,
  );
  const w = startWatch({ mode: 'runs', pcap });
  try {
    await w.waitLog((l) => l.backend === 'dry-run' && l.addr === '198.51.100.7', 'the stranger blocked');
    const blocks = w
      .log()
      .filter((l) => l.event === 'block')
      .map((l) => l.key);
    assert.deepEqual(blocks, ['::/64', '127.0.0.2', '198.51.100.7'], 'the strike engine counts all three');
    const skipped = w.log().filter((l) => l.event === 'block_skipped');
    assert.deepEqual(
      skipped.map((l) => [l.key, l.own]),
      [
        ['::/64', '::1'],
        ['127.0.0.2', '127.0.0.0/8'],
      ],
    );
    const applied = w
      .log()
      .filter((l) => l.backend === 'dry-run' && l.op === 'add')
      .map((l) => l.addr);
    assert.deepEqual(applied, ['198.51.100.7'], 'only the stranger reaches the firewall');
    w.child.kill('SIGTERM');
    assert.equal(await w.exitWithin(), 0, w.stderr());
  } finally {
    w.cleanup();
    t.cleanup();
  }
});

test('watch --kill-established: one ss -K per block, not one per refused SYN (1,000 SYNs from the blocked bot)', async () => {
  const t = tempDir();
  const pcap = await attackPcap(t.dir, [['198.51.100.8', '192.0.2.25']], '198.51.100.8', 1000);
  const w = startWatch({ mode: 'runs', pcap, args: ['--kill-established'] });
  try {
    await waitFor(() => w.log().filter((l) => l.event === 'reject' && l.client === '198.51.100.8').length === 1000, 'the 1,000 SYNs refused', 20_000, 50);
    w.child.kill('SIGTERM');
    assert.equal(await w.exitWithin(), 0, w.stderr());
    const kills = w.log().filter((l) => l.event === 'kill_established');
    assert.equal(kills.length, 1, `ss -K runs: ${kills.length}`);
    assert.match(String(kills[0]!.msg), /ss -K dst 198\.51\.100\.8 \( sport = :25 or sport = :587 \)/);
  } finally {
    w.cleanup();
    t.cleanup();
  }
});

test('watch SIGHUP: live settings take effect (stats_interval, match, ...); the others are named as needing a restart, every time', async () => {
  const t = tempDir();
  const w = startWatch({ mode: 'runs', pcap: emptyPcap(t.dir), config: 'stats_interval: 3600\n' });
  try {
    await w.waitLog((l) => l.event === 'start', 'watch started');
    writeFileSync(w.config, 'stats_interval: 1\nmatch: [custom-deny]\nmax_strike_entries: 100\nmax_flows: 1000\nports: [2525]\nhitcount: 5\ninterface: eth9\n');
    w.child.kill('SIGHUP');
    const r = await w.waitLog((l) => l.event === 'reload', 'the reload');
    assert.deepEqual(r.applied, ['match', 'max_strike_entries', 'stats_interval']);
    assert.deepEqual(r.needs_restart, ['ports', 'hitcount', 'max_flows'], 'interface: the command line (-i) still wins over the file');
    assert.match(String(r.msg), /need a restart to take effect: ports, hitcount, max_flows/);
    await w.waitLog((l) => l.event === 'stats' && l.when === 'periodic', 'a periodic stats line at the new 1 s interval');
    w.child.kill('SIGHUP'); // nothing changed in the file: the restart-only ones still differ from what runs
    await waitFor(() => w.log().filter((l) => l.event === 'reload').length === 2, 'the second reload');
    const again = w.log().filter((l) => l.event === 'reload')[1]!;
    assert.deepEqual(again.applied, []);
    assert.deepEqual(again.needs_restart, ['ports', 'hitcount', 'max_flows']);
    assert.equal(again.level, 40, 'settings that did not take effect are a warning');
    // log_level: warn from now on, so the info lines of the stop are not written.
    writeFileSync(w.config, 'stats_interval: 1\nmatch: [custom-deny]\nmax_strike_entries: 100\nports: [2525]\nlog_level: warn\n');
    w.child.kill('SIGHUP');
    await waitFor(() => w.log().filter((l) => l.event === 'reload').length === 3, 'the third reload (a warning)');
    w.child.kill('SIGTERM');
    assert.equal(await w.exitWithin(), 0, w.stderr());
    assert.ok(!w.log().some((l) => l.event === 'stop'), 'the new log level took effect: no info line at the stop');
  } finally {
    w.cleanup();
    t.cleanup();
  }
});

test('watch: a SIGHUP while it is still starting neither kills it (systemd would call that clean) nor is lost', async () => {
  const t = tempDir();
  const gate = join(t.dir, 'go');
  const w = startWatch({ mode: 'runs', pcap: emptyPcap(t.dir), gate, config: 'stats_interval: 3600\n' });
  try {
    // The dry-run firewall is set up first; the stand-in tcpdump then waits for the gate.
    await w.waitLog((l) => l.backend === 'dry-run', 'watch is starting');
    writeFileSync(w.config, 'stats_interval: 7200\n');
    w.child.kill('SIGHUP'); // uncaught, this ends the process at once
    writeFileSync(gate, '');
    const r = await w.waitLog((l) => l.event === 'reload', 'the reload, once started');
    assert.deepEqual(r.applied, ['stats_interval']);
    assert.ok(w.log().findIndex((l) => l.event === 'start') < w.log().findIndex((l) => l.event === 'reload'), 'applied after the start');
    assert.equal(w.child.signalCode, null);
    w.child.kill('SIGTERM');
    assert.equal(await w.exitWithin(), 0, w.stderr());
  } finally {
    w.cleanup();
    t.cleanup();
  }
});
