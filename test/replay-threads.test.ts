/**
 * `replay --threads N` gives the one-thread output exactly (src/replay-threads): every shipped
 * capture, replayed on 1, 2 and 3 threads, through the text report, the JSON events and the summary
 * (counts, blocks, coverage), compared as text. The shard key follows the strike key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PacketDecoder } from '../src/decode/packet-decoder.js';
import { defaultPipelineOptions, type PipelineOptions } from '../src/pipeline.js';
import { replayFiles } from '../src/replay.js';
import { countsOnlyLimits, defaultTallyLimits, type TallyLimits } from '../src/replay-output/client-tally.js';
import { JsonLinesWriter } from '../src/replay-output/json-lines.js';
import { textChunks } from '../src/replay-output/text-report.js';
import { shardOf, shardSlots, SLOTS } from '../src/replay-threads/shard-key.js';
import { mainShare } from '../src/replay-threads/threaded-replay.js';
import { splitBound } from '../src/replay-threads/shard-protocol.js';
import { strikeKey } from '../src/strikes/address-key.js';
import { formatIp } from '../src/net/ip-text.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

function captures(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...captures(p));
    else if (/\.(pcap|pcapng)(\.gz)?$/.test(e)) out.push(p);
  }
  return out;
}

/**
 * Everything replay prints, in its forms, minus the run's own time and memory: one run with the
 * text report's limits and the JSON lines behind the tally (the events a tally sees do not depend
 * on its limits; `--json` and `--summary-only` print the same counts).
 */
async function outputs(files: string[], threads: number, options: () => PipelineOptions): Promise<{ text: string; json: string; summary: string }> {
  let lines = '';
  const json = new JsonLinesWriter({ write: (s: string) => (lines += s) });
  const r = await replayFiles(files, options(), json, undefined, defaultTallyLimits, undefined, undefined, threads);
  json.flush();
  const t = r.tally;
  const text = [...textChunks({ tally: t, blocks: r.blocks, coverage: r.coverage, files: r.files, summaryOnly: false })].join('');
  const summaryDoc = JSON.stringify({ clients: t.counts(), totals: t.totals, dropped: t.dropped, blocks: r.blocks, coverage: r.coverage, files: r.files });
  const summaryText = [...textChunks({ tally: t, blocks: r.blocks, coverage: r.coverage, files: r.files, summaryOnly: true })].join('');
  return { text, json: lines, summary: summaryDoc + '\n' + summaryText };
}

const all = captures(join(root, 'pcaps'));

test('replay-threads: there are shipped captures to compare', () => {
  assert.ok(all.length >= 60, `found ${all.length} captures`);
});

test('replay-threads: every shipped capture, 2 threads = 1 thread (text, JSON events, summary)', async () => {
  let events = 0;
  for (const f of all) {
    const one = await outputs([f], 1, defaultPipelineOptions);
    const two = await outputs([f], 2, defaultPipelineOptions);
    assert.equal(two.text, one.text, `${f}: text`);
    assert.equal(two.json, one.json, `${f}: JSON events`);
    assert.equal(two.summary, one.summary, `${f}: summary`);
    events += one.json.length;
  }
  assert.ok(events > 0, 'the captures produce events');
});

test('replay-threads: 3 threads, several files merged, per-address IPv6 keys and a short conn window', async () => {
  const opts = (): PipelineOptions => {
    const o = defaultPipelineOptions();
    o.strikes.ipv6Prefix = 128;
    o.strikes.connHitcount = 2;
    o.strikes.connSeconds = 3600;
    o.flows.idleTimeout = 5;
    return o;
  };
  const groups = [all.filter((f) => f.includes('/testbed/')), all.filter((f) => f.includes('/tls/')), all.filter((f) => f.includes('/report'))];
  for (const g of groups) {
    assert.ok(g.length > 0);
    const one = await outputs(g, 1, opts);
    const three = await outputs(g, 3, opts);
    assert.equal(three.text, one.text, `${g.join(',')}: text`);
    assert.equal(three.json, one.json, `${g.join(',')}: JSON events`);
    assert.equal(three.summary, one.summary, `${g.join(',')}: summary`);
  }
});

/** A summary-only run (nothing behind the tally, counts only: the shards tally, shard-tally.ts): its summary document and text. */
async function summaryOnly(files: string[], threads: number, limits: TallyLimits, options: () => PipelineOptions = defaultPipelineOptions): Promise<string> {
  const r = await replayFiles(files, options(), null, undefined, limits, undefined, undefined, threads);
  const t = r.tally;
  const doc = JSON.stringify({ clients: t.counts(), totals: t.totals, dropped: t.dropped, blocks: r.blocks, coverage: r.coverage, files: r.files });
  return doc + '\n' + [...textChunks({ tally: t, blocks: r.blocks, coverage: r.coverage, files: r.files, summaryOnly: true })].join('');
}

test('replay-threads: summary-only runs tally in the shards: every capture; all merged with small client and username caps and sweeps', async () => {
  for (const f of all) assert.equal(await summaryOnly([f], 2, countsOnlyLimits), await summaryOnly([f], 1, countsOnlyLimits), `${f}: summary`);
  const caps: TallyLimits[] = [
    countsOnlyLimits,
    { ...countsOnlyLimits, maxClients: 2, usersPerClient: 1 },
    { ...countsOnlyLimits, maxClients: 1, usersPerClient: 0 },
  ];
  const opts = (): PipelineOptions => {
    const o = defaultPipelineOptions();
    o.strikes.ipv6Prefix = 128;
    o.strikes.connHitcount = 2;
    o.strikes.connSeconds = 3600;
    o.flows.idleTimeout = 5;
    return o;
  };
  let dropped = 0;
  for (const limits of caps) {
    const one = await summaryOnly(all, 1, limits, opts);
    assert.equal(await summaryOnly(all, 2, limits, opts), one, `all captures merged, 2 threads, maxClients ${limits.maxClients}`);
    assert.equal(await summaryOnly(all, 3, limits, opts), one, `all captures merged, 3 threads, maxClients ${limits.maxClients}`);
    dropped += (JSON.parse(one.split('\n')[0]!) as { dropped: { clients: number } }).dropped.clients;
  }
  assert.ok(dropped > 0, 'the small caps drop clients');
});

test('replay-threads: the shard follows the strike key (IPv4, IPv4-mapped IPv6, IPv6 prefixes)', () => {
  const d = new PacketDecoder();
  const shardOfText = (ip: string, prefix: number, n: number): number => {
    // A decoder state with only the fields shardOf reads.
    const v6 = ip.includes(':');
    const buf = Buffer.alloc(16);
    if (v6) {
      const parts = ip.split('::');
      const head = parts[0] ? parts[0].split(':') : [];
      const tail = parts[1] !== undefined && parts[1] !== '' ? parts[1].split(':') : [];
      const words: string[] = [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
      words.forEach((w, i) => buf.writeUInt16BE(parseInt(w, 16), 2 * i));
      d.ipVersion = 6;
      d.buf = buf;
      d.srcOff = 0;
    } else {
      d.ipVersion = 4;
      d.src4 = ip.split('.').reduce((a, x) => a * 256 + Number(x), 0);
    }
    return shardOf(d, true, prefix, n);
  };
  for (const n of [2, 3, 7]) {
    for (const prefix of [48, 64, 100, 128]) {
      const byKey = new Map<string, number>();
      for (let i = 0; i < 2000; i++) {
        const a = ((i * 2654435761) >>> 0).toString(16).padStart(8, '0');
        const ips = [
          `2001:db8:${a.slice(0, 4)}:${(i % 3).toString(16)}::${a.slice(4)}`,
          `2001:db8:${a.slice(0, 4)}:${(i % 3).toString(16)}:${(i % 5).toString(16)}::1`,
          `10.${i & 255}.${(i >> 8) & 255}.${i % 7}`,
        ];
        for (const ip of ips) {
          const key = strikeKey(ip, prefix);
          const s = shardOfText(ip, prefix, n);
          const seen = byKey.get(key);
          if (seen === undefined) byKey.set(key, s);
          else assert.equal(s, seen, `${ip} (key ${key}) on shard ${s}, its key's other addresses on ${seen}`);
        }
      }
      const mapped = Buffer.from('00000000000000000000ffffc0000207', 'hex');
      d.ipVersion = 6;
      d.buf = mapped;
      d.srcOff = 0;
      assert.equal(formatIp(mapped, 0, 6).startsWith('::ffff:'), true);
      assert.equal(shardOf(d, true, prefix, n), shardOfText('192.0.2.7', prefix, n), '::ffff:192.0.2.7 counts as 192.0.2.7');
    }
  }
});

test('replay-threads: the slot table gives every slot a shard, shard 0 about its share, the workers the rest evenly', () => {
  for (const n of [2, 3, 4, 8]) {
    for (const first of [0, 0.1, 0.37, 0.5]) {
      const { slots, share } = shardSlots(n, first);
      assert.equal(slots.length, SLOTS);
      for (const s of slots) assert.ok(s < n);
      assert.ok(Math.abs(share.reduce((a, b) => a + b, 0) - 1) < 1e-9);
      assert.ok(Math.abs(share[0]! - first) <= 0.5 / SLOTS + 1e-9, `n ${n}: shard 0 owns ${share[0]} for ${first}`);
      const rest = share.slice(1);
      assert.ok(Math.max(...rest) - Math.min(...rest) <= 1 / SLOTS + 1e-9, `n ${n}: the workers' shares ${rest.join(' ')}`);
    }
  }
  for (const n of [2, 3, 5]) {
    const { share } = shardSlots(n, mainShare(n));
    for (const bound of [100_000, 30_000_000, 7]) {
      const parts = splitBound(bound, share);
      assert.equal(parts.reduce((a, b) => a + b, 0) - parts.filter((x, t) => share[t] === 0).length, bound, `${n} threads: ${bound} split ${parts.join(' ')}`);
    }
  }
  assert.ok(mainShare(2) > 0.2 && mainShare(2) < 0.5, `2 threads: the main thread's share ${mainShare(2)}`);
  assert.equal(mainShare(16), 0, 'many threads: the main thread only reads');
});
