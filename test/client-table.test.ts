import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { expectedClient, generateManyClients } from '../bench/many-clients.js';
import { formatIpv6 } from '../src/net/ip-text.js';
import { strikeKey } from '../src/strikes/address-key.js';
import { packIp, unpackIp } from '../src/net/ip-pack.js';
import type { AuthEvent, WireSnapshot } from '../src/events.js';
import { countsOnlyLimits, ReplayTally } from '../src/replay-output/client-tally.js';
import { renderText, textChunks } from '../src/replay-output/text-report.js';
import { Output } from '../src/io/output.js';
import { Writable } from 'node:stream';
import type { Coverage } from '../src/pipeline.js';
import { smtpstrike } from './support/cli.js';
import { tempDir } from './support/synth.js';

const NO_INFERRED = { failures: 0, successes: 0, tempfails: 0 };

const wire = {} as WireSnapshot;
function auth(type: AuthEvent['type'], client: string, user: string | null = null): AuthEvent {
  return {
    type,
    ts: 1,
    flow: 1,
    client,
    clientPort: 1,
    server: '192.0.2.25',
    serverPort: 25,
    code: 535,
    mech: 'PLAIN',
    user,
    text: '',
    matched: false,
    inferred: null,
    wire,
  };
}

test('packIp/unpackIp: every text form the flow table prints comes back identical', () => {
  const b = new Uint8Array(16);
  const w = new Uint32Array(4);
  let seed = 7;
  const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
  for (let n = 0; n < 5000; n++) {
    for (let i = 0; i < 16; i++) b[i] = rnd();
    // zero runs of every length and place, and v4-mapped addresses
    const zs = rnd() % 9;
    const zl = rnd() % 9;
    for (let g = zs; g < Math.min(8, zs + zl); g++) b[2 * g] = b[2 * g + 1] = 0;
    if (n % 50 === 0) {
      b.fill(0, 0, 10);
      b[10] = 0xff;
      b[11] = 0xff;
    }
    const text = formatIpv6(b);
    assert.equal(packIp(text, w), 6, text);
    assert.equal(unpackIp(6, w[0]!, w[1]!, w[2]!, w[3]!), text);
  }
  for (const v4 of ['0.0.0.0', '255.255.255.255', '198.51.100.7', '10.0.0.1']) {
    assert.equal(packIp(v4, w), 4);
    assert.equal(unpackIp(4, w[0]!, 0, 0, 0), v4);
  }
  assert.equal(packIp('::', w), 6);
  assert.deepEqual([...w], [0, 0, 0, 0]);
  assert.equal(packIp('2001:DB8::1', w), 6);
  assert.deepEqual([...w], [0x20010db8, 0, 0, 1]);
  for (const bad of ['', 'x', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '1:2', '1:::2', '1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0']) {
    assert.equal(packIp(bad, w), 0, bad);
  }
});

test('client table: exact counts, distinct users and first-seen order for 50,000 clients, v4 and v6 apart', () => {
  const t = new ReplayTally(null, countsOnlyLimits);
  const ips: string[] = [];
  for (let i = 0; i < 25_000; i++) ips.push(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, `2001:db8::${(i + 1).toString(16)}`);
  // Three rounds, interleaved: client k fails (k % 4) + 1 times, succeeds k % 2 times.
  for (let round = 0; round < 4; round++) {
    ips.forEach((ip, k) => {
      if (round <= k % 4) t.event(auth('auth_failure', ip, `u${(k + round) % 3}`));
      if (round === 0 && k % 2) t.event(auth('auth_success', ip, 'u0'));
    });
  }
  t.event(auth('auth_tempfail', '::ffff:10.0.0.1'));
  assert.equal(t.clients.size, 50_001);
  const counts = t.counts();
  assert.deepEqual(Object.keys(counts).slice(0, 4), ['10.0.0.0', '2001:db8::1', '10.0.0.1', '2001:db8::2']);
  ips.forEach((ip, k) => {
    const users = [...new Set(Array.from({ length: (k % 4) + 1 }, (_, r) => `u${(k + r) % 3}`).concat(k % 2 ? ['u0'] : []))].sort();
    assert.deepEqual(counts[ip], { failures: (k % 4) + 1, successes: k % 2, tempfails: 0, users, inferred: NO_INFERRED }, ip);
  });
  // A v4-mapped client is its own row, not 10.0.0.1's.
  assert.deepEqual(counts['::ffff:10.0.0.1'], { failures: 0, successes: 0, tempfails: 1, users: [], inferred: NO_INFERRED });
  assert.equal(t.clients.get('10.0.0.1')?.failures, 3); // k = 2
  assert.equal(t.clients.get('10.9.9.9'), undefined);
});

test('client table: usernames capped per client', () => {
  const t = new ReplayTally(null, { ...countsOnlyLimits, usersPerClient: 3 });
  for (let i = 0; i < 10; i++) t.event(auth('auth_failure', '192.0.2.1', `user${i}`));
  t.event(auth('auth_failure', '192.0.2.2', 'x'));
  assert.deepEqual(t.counts()['192.0.2.1'], { failures: 10, successes: 0, tempfails: 0, users: ['user0', 'user1', 'user2'], inferred: NO_INFERRED });
  assert.deepEqual(t.counts()['192.0.2.2']!.users, ['x']);
});

test('past --max-clients: later clients are counted as dropped (distinct, per outcome), listed ones stay exact', () => {
  const t = new ReplayTally(null, { ...countsOnlyLimits, maxClients: 3 });
  for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.4', '10.0.0.1']) t.event(auth('auth_failure', ip));
  t.event(auth('auth_success', '10.0.0.5'));
  assert.deepEqual(Object.keys(t.counts()), ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  assert.equal(t.counts()['10.0.0.1']!.failures, 2);
  assert.deepEqual(t.dropped, { clients: 2, exact: true, failures: 3, successes: 1, tempfails: 0, inferred: 0 });
  assert.equal(t.totals.failures, 7);
  const text = renderText({ tally: t, blocks: [], coverage: { skipped: {}, evictions: {} } as unknown as Coverage, files: [], summaryOnly: true });
  assert.match(text, /clients past --max-clients, not listed \(counted in totals only\): 2 \(failures 3, successes 1, temporary failures 0\)/);
  // The set that tells dropped clients apart is capped as well; past it the count is a lower bound.
  for (let i = 10; i < 20; i++) t.event(auth('auth_failure', `10.0.1.${i}`));
  assert.equal(t.dropped.clients, 3);
  assert.equal(t.dropped.exact, false);
});

test('text report: most failures first, then by address in numeric order', () => {
  const t = new ReplayTally(null, countsOnlyLimits);
  for (const ip of ['10.0.0.1', '9.0.0.1', '2001:db8::1', '9.0.0.1', '10.0.0.2']) t.event(auth('auth_failure', ip));
  const text = renderText({ tally: t, blocks: [], coverage: { skipped: {}, evictions: {} } as unknown as Coverage, files: [], summaryOnly: true });
  const order = [...text.matchAll(/^(\S+): \d+ failure/gm)].map((m) => m[1]);
  assert.deepEqual(order, ['9.0.0.1', '10.0.0.1', '10.0.0.2', '2001:db8::1']);
});

test('replay --max-clients N --json: the summary lists N clients exactly and says how many it dropped', () => {
  const t = tempDir();
  try {
    for (const family of [4, 6] as const) {
      const file = join(t.dir, `c${family}.pcap`);
      generateManyClients({ clients: 300, family, spanS: 600, out: file });
      const r = smtpstrike(['replay', '--json', '--summary-only', '--no-progress', '--max-clients', '200', file]);
      assert.equal(r.status, 0, r.stderr);
      const s = r.summary as typeof r.summary & { clients_dropped: Record<string, unknown>; totals: { failures: number }; options: { max_clients: number } };
      assert.equal(Object.keys(s.clients).length, 200);
      for (let i = 0; i < 200; i++) {
        const e = expectedClient(i, family);
        assert.deepEqual(s.clients[e.ip], { failures: 1, successes: 0, tempfails: 0, users: e.users, inferred: NO_INFERRED }, e.ip);
      }
      assert.deepEqual(s.clients_dropped, { clients: 100, exact: true, failures: 100, successes: 0, tempfails: 0, inferred: 0 });
      assert.equal(s.totals.failures, 300);
      assert.equal(s.options.max_clients, 200);
    }
  } finally {
    t.cleanup();
  }
});

test('formatIpv6 agrees with the WHATWG URL serializer (RFC 5952); strikeKey masks IPv6 to its prefix', () => {
  const b = new Uint8Array(16);
  let seed = 11;
  const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
  for (let n = 0; n < 5000; n++) {
    for (let i = 0; i < 16; i++) b[i] = rnd() < 100 ? 0 : rnd();
    if (b[10] === 0xff && b[11] === 0xff) continue; // v4-mapped: we print dotted, URL prints hex
    const g: string[] = [];
    for (let k = 0; k < 16; k += 2) g.push(((b[k]! << 8) | b[k + 1]!).toString(16));
    assert.equal(formatIpv6(b), new URL(`http://[${g.join(':')}]/`).hostname.slice(1, -1));
  }
  assert.equal(strikeKey('2001:db8:1:2:8003:4:5:6', 64), '2001:db8:1:2::/64');
  assert.equal(strikeKey('2001:db8:1:2:8003:4:5:6', 65), '2001:db8:1:2:8000::/65');
  assert.equal(strikeKey('2001:db8:1:2:8003:4:5:6', 48), '2001:db8:1::/48');
  assert.equal(strikeKey('2001:db8:1:2:8003:4:5:6', 128), '2001:db8:1:2:8003:4:5:6');
  assert.equal(strikeKey('::ffff:192.0.2.1', 64), '192.0.2.1');
  assert.equal(strikeKey('fe80::1%eth0', 64), 'fe80::/64');
});

test('report pieces wait for a slow reader: never more than one gathered chunk queued in the stream', async () => {
  let most = 0;
  const slow = new Writable({
    highWaterMark: 1024,
    write(_chunk, _enc, done) {
      most = Math.max(most, slow.writableLength);
      setImmediate(done);
    },
  });
  const t = new ReplayTally(null, countsOnlyLimits);
  for (let i = 0; i < 20_000; i++) t.event(auth('auth_failure', `10.0.${i >> 8}.${i & 255}`, 'u'));
  const chunks = [...textChunks({ tally: t, blocks: [], coverage: { skipped: {}, evictions: {} } as unknown as Coverage, files: [], summaryOnly: true })];
  assert.ok(chunks.length > 10);
  await Output.of(slow).writeAll(chunks);
  await Output.of(slow).end();
  most = Math.max(most, slow.writableLength);
  await new Promise<void>((done) => slow.end(done));
  assert.ok(most <= 64 * 1024 + Math.max(...chunks.map((c) => c.length)), `queued ${most} bytes`);
  assert.equal(
    chunks.join(''),
    renderText({ tally: t, blocks: [], coverage: { skipped: {}, evictions: {} } as unknown as Coverage, files: [], summaryOnly: true }),
  );
});
