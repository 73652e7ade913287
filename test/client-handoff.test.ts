/**
 * `replay --json`'s formatter thread also counts the clients (ReplayTally.handOffClients,
 * json-lines.ts; native-notes/replay-output.md, "Sixth round"): what the tally says at the end
 * must be what it says when every event is counted in place — the clients in first-seen order,
 * their counts and usernames, the clients past the cap told apart and counted, the totals —
 * wherever the counting moved, with the client cap and the usernames cap crossed before and after.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import type { AuthEvent, PipelineEvent } from '../src/events.js';
import { defaultPipelineOptions, type PipelineOptions } from '../src/pipeline.js';
import { countsOnlyLimits, ReplayTally, type TallyLimits } from '../src/replay-output/client-tally.js';
import { JsonLinesWriter, type JsonLinesOut } from '../src/replay-output/json-lines.js';
import { replayFiles } from '../src/replay.js';
import { authOutcome } from './support/auth-outcomes.js';
import { manyFailuresCapture } from './support/big-inputs.js';
import { EventLog, tempDir } from './support/synth.js';
import { truthFiles, type Truth } from './support/truth.js';

/** Everything the summary says of a tally, as one text (the clients in the table's order). */
function said(t: ReplayTally): string {
  const rows: string[] = [];
  for (let r = 0; r < t.clients.size; r++) rows.push(`${t.clients.ipOf(r)} ${t.countsJson(r)}`);
  return JSON.stringify({ rows, dropped: t.dropped, totals: t.totals });
}

function countedInPlace(events: readonly PipelineEvent[], limits: TallyLimits): string {
  const t = new ReplayTally(null, limits);
  for (const ev of events) t.event(ev);
  return said(t);
}

const LIMITS: { name: string; limits: TallyLimits }[] = [
  { name: 'JSON limits', limits: countsOnlyLimits },
  { name: '3 clients, 2 usernames each', limits: { ...countsOnlyLimits, maxClients: 3, usersPerClient: 2 } },
  { name: '1 client, no usernames', limits: { ...countsOnlyLimits, maxClients: 1, usersPerClient: 0 } },
];

async function shippedEvents(): Promise<PipelineEvent[]> {
  const all: PipelineEvent[] = [];
  for (const tf of truthFiles('pcaps')) {
    const t = JSON.parse(readFileSync(tf, 'utf8')) as Truth;
    const files = (Array.isArray(t.capture) ? t.capture : [t.capture]).map((c) => join(dirname(tf), c));
    const o: PipelineOptions = defaultPipelineOptions();
    if (t.ports) o.ports = t.ports;
    const log = new EventLog();
    await replayFiles(files, o, log);
    all.push(...log.events);
  }
  return all;
}

/** The tally in front of a writer whose formatter thread starts after `after` events, as replay runs them. */
async function countedWithFormatter(events: readonly PipelineEvent[], limits: TallyLimits, after: number): Promise<{ said: string; offloaded: boolean }> {
  const out: JsonLinesOut = { write: () => assert.fail('bytes expected'), writeBytes: (_b, done) => done() };
  const w = new JsonLinesWriter(out, { after, maxTexts: 100 });
  try {
    const t = new ReplayTally(w, limits);
    for (const ev of events) {
      t.event(ev);
      const r = w.ready();
      if (r) await r;
    }
    await w.end();
    return { said: said(t), offloaded: w.offloaded };
  } finally {
    w.close();
  }
}

test('the clients counted on the formatter thread are the clients counted in place: every shipped capture, the caps crossed, the counting moved at the first event, the 8th and the 301st', async () => {
  const events = await shippedEvents();
  const auths = events.filter((e) => e.type.startsWith('auth_')).length;
  assert.ok(auths > 600, `${auths} outcomes: the counting moves before most of them`);
  for (const { name, limits } of LIMITS) {
    const want = countedInPlace(events, limits);
    for (const after of [0, 7, 300]) {
      const got = await countedWithFormatter(events, limits, after);
      assert.ok(got.offloaded, 'the formatter thread ran');
      assert.equal(got.said, want, `${name}, the counting moved after ${after} events`);
    }
  }
});

test('thousands of clients past the cap on the formatter thread: the kept ones in first-seen order, the dropped ones told apart', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const log = new EventLog();
  await replayFiles([await manyFailuresCapture(join(dir, 'clients.pcap'), 5000)], defaultPipelineOptions(), log);
  for (const maxClients of [1000, 4500, 1_000_000]) {
    const limits = { ...countsOnlyLimits, maxClients };
    const want = countedInPlace(log.events, limits);
    const got = await countedWithFormatter(log.events, limits, 2000);
    assert.ok(got.offloaded);
    assert.equal(got.said, want, `maxClients ${maxClients}`);
    // Dropped clients are told apart up to maxClients of them (ReplayTally.drop): past that, inexact.
    const { dropped } = JSON.parse(want) as { dropped: { clients: number; exact: boolean } };
    const over = Math.max(0, 5000 - maxClients);
    assert.deepEqual([dropped.clients, dropped.exact], [Math.min(over, maxClients), over <= maxClients], 'the run crossed the cap as meant');
  }
});

test('handed off and taken back anywhere, across any caps: the same tally (generated outcomes, no thread)', () => {
  const outcome = fc.record({
    type: fc.constantFrom<AuthEvent['type']>('auth_failure', 'auth_success', 'auth_tempfail'),
    client: fc.constantFrom('192.0.2.1', '192.0.2.2', '2001:db8::1', '198.51.100.7', '203.0.113.9'),
    user: fc.option(fc.constantFrom('admin', 'info', 'root', 'ü', ''), { nil: null }),
    inferred: fc.boolean(),
  });
  fc.assert(
    fc.property(
      fc.array(outcome, { maxLength: 60 }),
      fc.nat(),
      fc.integer({ min: 0, max: 6 }),
      fc.integer({ min: 0, max: 4 }),
      (outs, cut, maxClients, usersPerClient) => {
        const limits = { ...countsOnlyLimits, maxClients, usersPerClient };
        const events = outs.map((o) => authOutcome(o.type, o.client, o.user, o.inferred));
        const at = outs.length === 0 ? 0 : cut % (outs.length + 1);
        const here = new ReplayTally(null, limits);
        for (const ev of events.slice(0, at)) here.event(ev);
        const there = ReplayTally.restored(here.handOffClients(), limits);
        for (const ev of events.slice(at)) {
          here.event(ev); // the totals stay
          there.client(ev);
        }
        here.takeBackClients(there.handOffClients());
        assert.equal(said(here), countedInPlace(events, limits));
      },
    ),
    { numRuns: 500 },
  );
});
