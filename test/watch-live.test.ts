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
