/**
 * Fleet benchmark (`node dist/bench/fleet.js`): starts a redis-server on a free loopback port (in a
 * temporary directory, no persistence; stopped by its PID at the end) and measures the fleet module
 * (src/fleet) as watch would drive it:
 *
 *   - serial: one hit at a time, the next sent when the previous reply came → the round trip of
 *     one hit (p50/p99/max), the floor of any budget;
 *   - paced: hits at a fixed rate (default 1,000, 5,000 and 20,000 /s, each for --seconds) sent from
 *     a packet-like loop in bursts every ms → round trip p50/p99 under that load, and whether any
 *     hit missed the budget (the budget is raised here so a miss is seen, not acted upon);
 *   - flood: --n hits as fast as the caller can make them → hits/s until all are in Redis, and the
 *     caller's cost per hit() (µs, what the packet path pays);
 *   - replay: --n hits made before Redis is reached, then replayed by the reconciliation (connect
 *     included) → replayed hits/s.
 * Keys: --keys attackers, each hit for one of them (so thresholds are crossed and blocks published
 * on the stream, as in an attack).
 *
 *   node dist/bench/fleet.js [--n 50000] [--keys 20000] [--serial 5000] [--rates 1000,5000,20000]
 *       [--seconds 3] [--out bench/out/fleet.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg, cpus } from 'node:os';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { RedisFleet } from '../src/fleet/index.js';
import { RedisServer } from '../test/support/redis-server.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '50000' },
    keys: { type: 'string', default: '20000' },
    serial: { type: 'string', default: '5000' },
    rates: { type: 'string', default: '1000,5000,20000' },
    seconds: { type: 'string', default: '3' },
    out: { type: 'string', default: 'bench/out/fleet.json' },
  },
});
const N = Number(values.n);
const KEYS = Number(values.keys);
const SERIAL = Number(values.serial);
const RATES = values.rates.split(',').map(Number);
const SECONDS = Number(values.seconds);

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;

function quantiles(xs: number[]): { p50: number; p99: number; max: number } {
  const s = Float64Array.from(xs).sort();
  const q = (p: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  return { p50: round(q(0.5)), p99: round(q(0.99)), max: round(s[s.length - 1] ?? NaN) };
}

/** Until `total` hits have their reply from Redis (in time or late); fails after two minutes. */
async function landed(f: RedisFleet, total: number): Promise<void> {
  const t0 = Date.now();
  while (f.stats.fleetHits + f.stats.lateReplies < total) {
    if (Date.now() - t0 > 120_000) throw new Error(`hits not landed: ${JSON.stringify(f.stats)} health ${f.health}`);
    await tick();
  }
}

function addr(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

async function makeFleet(url: string, budgetMs: number): Promise<RedisFleet> {
  const f = new RedisFleet({
    url,
    host: `bench-${process.pid}`,
    auth: { hitcount: 3, seconds: 1200 },
    conn: { hitcount: 6, seconds: 60 },
    // The budget and the command timeout are raised so that every hit is counted in Redis however
    // late (the figures show what budget each rate needs), instead of being decided locally.
    redisOptions: { commandTimeout: 600_000 },
    budgetMs,
    latencySamples: Math.max(N, SERIAL, ...RATES.map((r) => r * SECONDS)),
    onThreshold() {},
    onRemoteBlock() {},
    mayBlock: () => true,
  });
  f.start();
  const t0 = Date.now();
  while (f.health !== 'ok') {
    if (Date.now() - t0 > 20_000) throw new Error(`fleet not ok: ${f.health}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return f;
}

/** Round trips of the hits (ms), measured by the module itself from send to reply. */
function latencies(f: RedisFleet): number[] {
  return f.latency.samples();
}

async function main(): Promise<void> {
  const server = await RedisServer.start();
  const results: Record<string, unknown> = { node: process.version, cores: cpus().length, loadavgBefore: loadavg().map((x) => round(x, 2)), n: N, keys: KEYS };
  try {
    // Serial.
    {
      const f = await makeFleet(server.url, 10_000);
      for (let i = 0; i < SERIAL; i++) {
        f.hit('auth', addr(i % KEYS), addr(i % KEYS), Date.now() / 1000);
        await landed(f, i + 1);
      }
      results.serial = { hits: SERIAL, ...quantiles(latencies(f)) };
      await f.close();
    }
    // Paced.
    const paced: unknown[] = [];
    for (const rate of RATES) {
      const f = await makeFleet(server.url, 10_000);
      const total = rate * SECONDS;
      const t0 = performance.now();
      let sent = 0;
      while (sent < total) {
        const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
        for (; sent < due; sent++) f.hit(sent % 7 === 0 ? 'auth' : 'conn', addr(sent % KEYS), addr(sent % KEYS), Date.now() / 1000);
        await new Promise((r) => setTimeout(r, 1));
      }
      await landed(f, total);
      const lat = latencies(f);
      paced.push({ rate, hits: total, ...quantiles(lat), over25ms: lat.filter((x) => x > 25).length, over50ms: lat.filter((x) => x > 50).length });
      await f.close();
    }
    results.paced = paced;
    // Flood.
    {
      const f = await makeFleet(server.url, 60_000);
      const t0 = performance.now();
      let callMs = 0;
      for (let sent = 0; sent < N;) {
        const c0 = performance.now();
        const end = Math.min(N, sent + 1000);
        for (; sent < end; sent++) f.hit('auth', addr(sent % KEYS), addr(sent % KEYS), Date.now() / 1000);
        callMs += performance.now() - c0;
        await tick(); // a packet loop yields between reads: replies are read in between
      }
      await landed(f, N);
      const secs = (performance.now() - t0) / 1000;
      results.flood = {
        hits: N,
        seconds: round(secs),
        hitsPerSecond: Math.round(N / secs),
        hitCallUs: round((callMs * 1000) / N),
        published: f.stats.published,
        ...quantiles(latencies(f)),
      };
      await f.close();
    }
    // Replay: hits made before Redis was reached (decided locally, journaled), then the
    // reconciliation pushes them in pipelines → replayed hits/s.
    {
      const f = new RedisFleet({
        url: server.url,
        host: `bench-replay-${process.pid}`,
        auth: { hitcount: 3, seconds: 1200 },
        conn: { hitcount: 6, seconds: 60 },
        prefix: 'bench-replay', // fresh windows: the flood's hits for the same addresses would add up
        maxJournal: N,
        onThreshold() {},
        onRemoteBlock() {},
        mayBlock: () => true,
      });
      const ts = Date.now() / 1000;
      for (let i = 0; i < N; i++) f.hit('auth', addr(i % KEYS), addr(i % KEYS), ts + i / 1e6);
      const t0 = performance.now();
      f.start();
      const deadline = Date.now() + 120_000;
      while (f.health !== 'ok' || f.queued > 0) {
        if (Date.now() > deadline) throw new Error(`replay not done: ${JSON.stringify(f.stats)}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      const secs = (performance.now() - t0) / 1000;
      results.replay = {
        hits: N,
        seconds: round(secs),
        hitsPerSecond: Math.round(N / secs),
        localBlocks: f.stats.thresholdsLocal,
        reconciledBlocks: f.stats.thresholdsReconciled,
        published: f.stats.published,
      };
      await f.close();
    }
  } finally {
    await server.stop();
  }
  results.loadavgAfter = loadavg().map((x) => round(x, 2));
  console.log(JSON.stringify(results, null, 2));
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, JSON.stringify(results, null, 2) + '\n');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
