/**
 * `replay --json`'s lines written on another core (issue 15 item 6; json-offload.ts): the events
 * packed into shared chunks read back as events whose lines are byte for byte the lines of the
 * originals (every shipped capture, hostile texts, long texts, the text table starting over,
 * chunk after chunk); the formatter thread's output equals the in-place writer's, handed back as
 * bytes or written to the output's file descriptor; a formatter held back holds the replay back
 * (at most four chunks); a failed write is reported, not thrown; and the CLI's `--json` is the
 * same whether the lines were formatted on the main thread (`--threads 2`) or on the formatter.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import type { PipelineEvent, RejectEvent, StrikeEvent } from '../src/events.js';
import { defaultPipelineOptions, type PipelineOptions } from '../src/pipeline.js';
import { eventJsonLine, JsonLinesWriter, type JsonLinesOut } from '../src/replay-output/json-lines.js';
import { CHUNK_BYTES } from '../src/replay-output/json-pack-format.js';
import { JsonEventPacker } from '../src/replay-output/json-pack.js';
import { JsonEventUnpacker } from '../src/replay-output/json-unpack.js';
import { replayFiles } from '../src/replay.js';
import { manyFailuresCapture } from './support/big-inputs.js';
import { hostileUnit, sampleAuthAndStrike } from './support/json-samples.js';
import { CLI } from './support/cli.js';
import { EventLog, tempDir } from './support/synth.js';
import { truthFiles, type Truth } from './support/truth.js';

async function shippedEvents(): Promise<PipelineEvent[]> {
  const all: PipelineEvent[] = [];
  for (const tf of truthFiles('pcaps')) {
    const t = JSON.parse(readFileSync(tf, 'utf8')) as Truth;
    const files = (Array.isArray(t.capture) ? t.capture : [t.capture]).map((c) => join(dirname(tf), c));
    for (const patterns of [[], ['authentication']]) {
      const o: PipelineOptions = defaultPipelineOptions();
      if (t.ports) o.ports = t.ports;
      o.patterns = patterns;
      const log = new EventLog();
      await replayFiles(files, o, log);
      all.push(...log.events);
    }
  }
  return all;
}

const lineOf = (e: PipelineEvent | string): string | null => (typeof e === 'string' ? e : eventJsonLine(e));

/**
 * Packs `events` chunk after chunk (a chunk read back as soon as it is full, as the formatter does)
 * and returns the lines of the events read back (each made at once: the reader writes over its event).
 */
function roundTrip(events: readonly (PipelineEvent | string)[], maxTexts?: number): (string | null)[] {
  const packer = new JsonEventPacker(maxTexts);
  const unpacker = new JsonEventUnpacker();
  const back: (string | null)[] = [];
  let chunks = 0;
  const readBack = (): void => {
    unpacker.use(packer.f.buffer as SharedArrayBuffer, packer.n, packer.strings);
    for (let ev = unpacker.next(); ev !== null; ev = unpacker.next()) back.push(lineOf(ev));
    chunks++;
    packer.use(new SharedArrayBuffer(CHUNK_BYTES));
  };
  packer.use(new SharedArrayBuffer(CHUNK_BYTES));
  for (const ev of events) {
    if (typeof ev === 'string') packer.line(ev);
    else packer.pack(ev);
    if (packer.full) readBack();
  }
  readBack();
  assert.ok(chunks >= 1);
  return back;
}

test('packed JSON events read back give the same lines: every event of every shipped capture, chunk after chunk, the text table starting over', async () => {
  const events = await shippedEvents();
  const shown = events.filter((e) => e.type !== 'connect' && e.type !== 'flow_end');
  assert.ok(shown.length > 1000, `${shown.length} events`);
  const want = shown.map(eventJsonLine);
  // Many times over, so that chunks fill (a chunk holds ~2,000 records) and the table (bound 24, then the default) starts over.
  const many = Array.from({ length: 6 }, () => events).flat();
  for (const maxTexts of [24, undefined]) {
    const back = roundTrip(many, maxTexts);
    assert.equal(back.length, want.length * 6);
    for (let i = 0; i < back.length; i++) assert.equal(back[i], want[i % want.length], `event ${i} (table bound ${maxTexts})`);
  }
});

test('packed JSON events: hostile and long usernames, replies, mechanisms, prefixes and addresses read back exactly (lone surrogates, any unit, > 4,096 units)', async () => {
  const { auth, strike } = await sampleAuthAndStrike();
  const unit = hostileUnit;
  const text = fc.oneof(
    fc.array(unit, { maxLength: 12 }).map((a) => a.join('')),
    fc.tuple(unit, fc.integer({ min: 4090, max: 9000 })).map(([u, n]) => u.repeat(n)),
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(text, fc.option(text), fc.option(text), text, fc.boolean()), { minLength: 1, maxLength: 30 }), (rows) => {
      const evs: (PipelineEvent | string)[] = [];
      for (const [t, user, mech, other, reject] of rows) {
        evs.push({ ...auth, text: t, user, mech, client: other });
        evs.push({ ...auth, text: t, user, mech }); // the same texts again: sent as "the same as last"
        const s: StrikeEvent = { ...strike, prefix: other, client: other, key: t, wire: { ...strike.wire, iface: other, src: t } };
        evs.push(s);
        if (reject) {
          const r: RejectEvent = {
            type: 'reject',
            ts: strike.ts,
            client: t,
            key: other,
            rule: 'conn',
            prefix: other,
            wire: strike.wire,
            block: { level: 2, until: 1e9 },
          };
          evs.push(r);
        }
        evs.push(`{"type":"mark","t":${JSON.stringify(t)}}\n`);
      }
      const back = roundTrip(evs, 16);
      assert.deepEqual(back, evs.map(lineOf));
    }),
    { seed: 15, numRuns: 300 },
  );
});

/** What the in-place writer makes of `events`. */
function inPlace(events: readonly PipelineEvent[]): string {
  let text = '';
  const w = new JsonLinesWriter({ write: (s: string) => (text += s) });
  for (const ev of events) w.event(ev);
  w.flush();
  return text;
}

test('the formatter thread writes what the in-place writer writes: bytes handed back, from the first event or after some in place', async (t) => {
  const events = await shippedEvents();
  const many = Array.from({ length: 4 }, () => events).flat();
  const want = inPlace(many);
  for (const after of [0, 5, 3000]) {
    const got: Buffer[] = [];
    const out: JsonLinesOut = { write: () => assert.fail('bytes expected'), writeBytes: (b, done) => (got.push(Buffer.from(b)), done()) };
    const w = new JsonLinesWriter(out, { after, maxTexts: 100 });
    t.after(() => w.close());
    for (const ev of many) {
      w.event(ev);
      const r = w.ready();
      if (r) await r;
    }
    await w.end();
    assert.equal(Buffer.concat(got).toString('utf8'), want, `formatter after ${after} events`);
  }
});

test("the formatter thread writes to the output's file descriptor once it is handed over; until then the replay is held (at most 4 chunks)", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const capture = await manyFailuresCapture(join(dir, 'clients.pcap'), 8000);
  const log = new EventLog();
  await replayFiles([capture], defaultPipelineOptions(), log);
  const want = inPlace(log.events);
  assert.ok(want.length > 3_000_000, 'more than four chunks of records');

  const path = join(dir, 'out.json');
  const fd = openSync(path, 'w');
  t.after(() => closeSync(fd));
  let handOver: ((fd: number) => void) | null = null;
  const inPlaceBytes: Buffer[] = [];
  const out: JsonLinesOut = {
    write: () => assert.fail('bytes expected'),
    writeBytes: (b, done) => (inPlaceBytes.push(Buffer.from(b)), done()),
    fd: () => new Promise<number>((resolve) => (handOver = resolve)),
    failed: (e) => assert.fail(e),
  };
  const w = new JsonLinesWriter(out, { after: 0, chunks: 4 });
  t.after(() => w.close());
  let i = 0;
  let held = false;
  while (i < log.events.length) {
    w.event(log.events[i++]!);
    if (w.ready()) {
      held = true;
      break;
    }
  }
  assert.ok(held, 'ready() waits while the formatter has not been given the descriptor');
  assert.ok(i > 4 * 1000 && i < log.events.length, `held after ${i} events (4 chunks, ~2,000 records each)`);
  assert.ok(handOver !== null);
  (handOver as (fd: number) => void)(fd);
  for (; i < log.events.length; i++) {
    w.event(log.events[i]!);
    const r = w.ready();
    if (r) await r;
  }
  await w.end();
  assert.equal(inPlaceBytes.length, 0, 'nothing went back through the stream');
  assert.equal(readFileSync(path, 'utf8'), want);
});

test('a failed write on the descriptor is reported once (ENOSPC on /dev/full), and the writer still ends', async (t) => {
  const log = new EventLog();
  await replayFiles(['pcaps/crafted/repeat-offender.pcap.gz'], defaultPipelineOptions(), log);
  const fd = openSync('/dev/full', 'w');
  t.after(() => closeSync(fd));
  const failures: NodeJS.ErrnoException[] = [];
  const out: JsonLinesOut = {
    write: () => assert.fail('bytes expected'),
    writeBytes: (_b, done) => done(),
    fd: () => Promise.resolve(fd),
    failed: (e) => failures.push(e),
  };
  const w = new JsonLinesWriter(out, { after: 0 });
  t.after(() => w.close());
  for (let k = 0; k < 40; k++) for (const ev of log.events) w.event(ev);
  await w.end();
  assert.equal(failures.length, 1);
  assert.equal(failures[0]!.code, 'ENOSPC');
});

test('replay --json: the same bytes whichever thread formats (one thread, with a core to spare: the formatter; --threads 2: the main thread), into a file and into a pipe', async (t) => {
  if (availableParallelism() < 2) {
    t.skip('SKIPPED: one CPU here, so replay formats on the main thread and the formatter thread is not used');
    return;
  }
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  // 6,000 failures and their strikes: far past the 4,096 events replay writes in place first.
  const capture = await manyFailuresCapture(join(dir, 'clients.pcap'), 6000);
  const formatterUsed: boolean[] = [];
  const run = (args: string[], into: 'file' | 'pipe'): string => {
    const file = join(dir, `out-${into}-${args.length}.json`);
    const script =
      into === 'file' ? `"${process.execPath}" "${CLI}" ${args.join(' ')} > "${file}"` : `"${process.execPath}" "${CLI}" ${args.join(' ')} | cat > "${file}"`;
    const r = spawnSync('bash', ['-o', 'pipefail', '-c', script], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
    assert.equal(r.status, 0, r.stderr);
    const text = readFileSync(file, 'utf8');
    const run = /,"run":(\{[^}]*\})/.exec(text);
    assert.ok(run, 'the summary ends with its run object');
    formatterUsed.push((JSON.parse(run[1]!) as { formatter_thread: boolean }).formatter_thread);
    // Without the summary's `run` (elapsed time, RSS, which thread formatted).
    return text.replace(run[0], '');
  };
  const main = run(['replay', '--json', '--threads', '2', capture], 'file');
  const lines = main.split('\n');
  assert.equal(lines.filter((l) => l.startsWith('{"type":"auth_failure"')).length, 6000);
  for (const into of ['file', 'pipe'] as const) assert.equal(run(['replay', '--json', capture], into), main, `into a ${into}`);
  assert.equal(formatterUsed[0], false, '--threads 2 formats on the main thread');
  // One thread uses the formatter only when a core stood idle at the start (replay-run.ts): a
  // machine busy enough to refuse it runs the in-place path, which must be said, not passed quietly.
  if (!formatterUsed[1] || !formatterUsed[2])
    t.diagnostic(
      `NOTE LOUDLY: the formatter thread was not used in ${formatterUsed.slice(1).filter((x) => !x).length} of 2 runs (no idle core at their start); the in-process tests above cover it`,
    );
});
