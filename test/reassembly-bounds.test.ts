/** Reassembly against a hostile or unlucky peer (issue 9, item 5): bounds, port reuse, header fields. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FrameList, b64, loginSession, tempDir } from './support/synth.js';
import { replay } from './support/replay.js';

const FAIL = '535 5.7.8 Error: authentication failed: (reason unavailable)\r\n';
const T0 = 1_768_039_200_000_000; // 2026-01-10T10:00:00Z in µs
const S = 1e6; // one second in µs

async function run(build: (f: FrameList) => void, tweak?: Parameters<typeof replay>[1]) {
  const t = tempDir();
  try {
    const f = new FrameList();
    build(f);
    const file = await f.write(join(t.dir, 'x.pcap'));
    return await replay([file], tweak);
  } finally {
    t.cleanup();
  }
}

test('a client reusing its source port from :25 to :587 stays one flow after the :25 flow is forgotten', async () => {
  const r = await run((f) => {
    loginSession(f.conversation('en10mb', '198.51.100.7', 40000, '192.0.2.25', 25), T0, 'alice', FAIL);
    const b = f.conversation('en10mb', '198.51.100.7', 40000, '192.0.2.25', 587, 9000, 7000);
    b.open(T0 + 1 * S);
    b.fromServer('220 hi\r\n', T0 + 2 * S);
    b.fromClient(`AUTH PLAIN ${b64('\0bob\0pw')}\r\n`, T0 + 3 * S);
    // 100 s later: the sweep has forgotten the closed :25 flow (closed linger 30 s)
    b.fromServer(FAIL, T0 + 100 * S);
    b.close(T0 + 101 * S);
  });
  assert.equal(r.coverage.flows, 2);
  assert.equal(r.coverage.midstream_starts, 0);
  assert.deepEqual(r.log.of('auth_failure').map((e) => [e.user, e.serverPort]), [['alice', 25], ['bob', 587]]);
  assert.deepEqual(r.log.of('flow_end').map((e) => [e.serverPort, e.reason]), [[25, 'fin'], [587, 'fin']]);
});
