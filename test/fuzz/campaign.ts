/**
 * The fuzz targets as fast-check properties, shared by the quick run in `npm test`
 * (test/fuzz.test.ts) and the long one (`npm run fuzz`, scripts/fuzz.ts). Runs are bounded by
 * iteration count, never by time, and seeded, so a run is the same on every machine; a failure
 * names its seed and path, which replay exactly that case.
 */
import fc from 'fast-check';
import { PcapParser, PcapngParser, PCAPNG_SHB, Step, type RecordParser } from '../../src/source/record-parsers.js';
import { newPacketRecord } from '../../src/source/packet-record.js';
import { applyMutations, mutationArb, mutationsArb } from './mutations.js';
import { captureSeeds, logLines, logSeeds } from './seeds.js';
import { dialogArb, fuzzSmtpDialog } from './smtp-dialog.js';
import {
  fuzzAuthUsername,
  fuzzCapture,
  fuzzCaptureMerge,
  fuzzCli,
  fuzzDumpPrinter,
  fuzzFrame,
  fuzzIpText,
  fuzzLineSplitter,
  fuzzLogFile,
  fuzzLogLine,
} from './targets.js';

export interface TargetContext {
  /** A scratch directory for inputs that must be files (gzip captures, log files). */
  dir: string;
}

type AnyProperty = fc.IRawProperty<unknown, boolean>;

/** Frames of the capture seeds, with their link types (for the decoder target). */
function seedFrames(): { linktype: number; frame: Buffer }[] {
  const out: { linktype: number; frame: Buffer }[] = [];
  for (const s of captureSeeds()) {
    if (s.bytes.length < 4 || s.bytes[0] === 0x1f) continue;
    const parser: RecordParser = s.bytes.readUInt32LE(0) === PCAPNG_SHB ? new PcapngParser() : new PcapParser();
    const rec = newPacketRecord();
    try {
      for (let pos = 0; ;) {
        const st = parser.step(s.bytes, pos, s.bytes.length, rec);
        if (st === Step.NeedMore) break;
        pos += parser.consumed;
        if (st === Step.Packet) out.push({ linktype: rec.linktype, frame: Buffer.from(rec.buf.subarray(rec.off, rec.off + rec.caplen)) });
      }
    } catch {
      // the deliberately broken seeds: the frames before the break are enough
    }
  }
  return out;
}

/** Capture file headers to grow from-scratch inputs from: pcap (both orders, µs and ns) and pcapng. */
const HEADERS = [
  Buffer.from('d4c3b2a1020004000000000000000000ffff000001000000', 'hex'),
  Buffer.from('a1b2c3d4000200040000000000000000000400000000000e', 'hex'),
  Buffer.from('4d3cb2a1020004000000000000000000ffff000071000000', 'hex'),
  Buffer.from('0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c0000000100000014000000010000000000040014000000', 'hex'),
];

/** A generated pcap record (little-endian header) whose caplen is near its data's length. */
const pcapRecordArb: fc.Arbitrary<Buffer> = fc
  .record({ body: fc.uint8Array({ maxLength: 80, size: 'max' }), skew: fc.constantFrom(0, 0, 0, -1, 1, -16, 4096), ts: fc.nat() })
  .map(({ body, skew, ts }) => {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(ts, 0);
    h.writeUInt32LE(ts % 1_000_000, 4);
    h.writeUInt32LE(Math.max(0, body.length + skew), 8);
    h.writeUInt32LE(body.length, 12);
    return Buffer.concat([h, body]);
  });

/**
 * A generated pcapng block of any type (SHB, IDB with options, EPB, SPB, PB, others), short ones
 * included, whose leading and trailing lengths agree unless `skew` says otherwise; its words lean
 * to small numbers, lengths, option codes and byte-order magics.
 */
const pcapngBlockArb: fc.Arbitrary<Buffer> = fc
  .record({
    type: fc.constantFrom(0x0a0d0d0a, 1, 2, 3, 5, 6, 0x80000001),
    words: fc.array(fc.oneof(fc.nat({ max: 64 }), fc.constantFrom(0, 0x1a2b3c4d, 0x00090001, 0x0008000e, 0xffffffff), fc.nat()), { maxLength: 10 }),
    skew: fc.constantFrom(0, 0, 0, 4, -4, 1),
  })
  .map(({ type, words, skew }) => {
    const len = 12 + 4 * words.length;
    const b = Buffer.alloc(len);
    b.writeUInt32LE(type, 0);
    b.writeUInt32LE(len, 4);
    words.forEach((w, i) => b.writeUInt32LE(w >>> 0, 8 + 4 * i));
    b.writeUInt32LE((len + skew) >>> 0, len - 4);
    return b;
  });

/** Generated capture files: pcap header + records, pcapng SHB/IDB + blocks, or a header and noise. */
const scratchCaptureArb: fc.Arbitrary<Buffer> = fc.oneof(
  fc.array(pcapRecordArb, { maxLength: 8 }).map((r) => Buffer.concat([HEADERS[0]!, ...r])),
  fc.array(pcapngBlockArb, { maxLength: 8 }).map((r) => Buffer.concat([HEADERS[3]!, ...r])),
  fc.tuple(fc.nat({ max: HEADERS.length - 1 }), fc.uint8Array({ maxLength: 600, size: 'max' })).map(([h, tail]) => Buffer.concat([HEADERS[h]!, tail])),
);

/** The link types the decoder knows, and two it does not. */
const LINKTYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 2, 65535];

/** A real frame from the shipped captures, mutated, under its own or another link type; or random bytes. */
function frameCaseArb(): fc.Arbitrary<{ linktype: number; frame: Buffer }> {
  const frames = seedFrames();
  const donors = frames.map((f) => f.frame);
  return fc.oneof(
    fc
      .record({ i: fc.nat({ max: frames.length - 1 }), muts: mutationsArb, other: fc.option(fc.constantFrom(...LINKTYPES)) })
      .map(({ i, muts, other }) => ({ linktype: other ?? frames[i]!.linktype, frame: applyMutations(frames[i]!.frame, muts, donors) })),
    fc.record({ linktype: fc.constantFrom(...LINKTYPES), frame: fc.uint8Array({ maxLength: 120, size: 'max' }).map((a) => Buffer.from(a)) }),
  );
}

export const TARGETS: Record<string, (ctx: TargetContext) => AnyProperty> = {
  /** Real captures, mutated: reader (pcap, pcapng, gzip) + decoder + reassembly + SMTP + strikes. */
  capture: (ctx) => {
    const seeds = captureSeeds();
    const donors = seeds.map((s) => s.bytes);
    return fc.asyncProperty(
      fc.nat({ max: seeds.length - 1 }),
      mutationsArb,
      fc.array(fc.integer({ min: 1, max: 3000 }), { maxLength: 3 }),
      async (i, muts, chunks) => {
        await fuzzCapture(applyMutations(seeds[i]!.bytes, muts, donors), chunks, ctx.dir);
      },
    );
  },
  /** Two mutated captures merged in time order, as `replay a b` reads them. */
  'capture-merge': (ctx) => {
    const seeds = captureSeeds();
    const donors = seeds.map((s) => s.bytes);
    const one = fc
      .tuple(fc.nat({ max: seeds.length - 1 }), fc.array(mutationArb, { maxLength: 2 }))
      .map(([i, muts]) => applyMutations(seeds[i]!.bytes, muts, donors));
    return fc.asyncProperty(one, one, async (a, b) => {
      await fuzzCaptureMerge(a, b, ctx.dir);
    });
  },
  /** Generated from scratch: records and blocks, or a valid file header followed by anything. */
  'capture-scratch': (ctx) =>
    fc.asyncProperty(scratchCaptureArb, fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 3 }), async (bytes, chunks) => {
      await fuzzCapture(bytes, chunks, ctx.dir);
    }),
  /** Real frames, mutated, under their own or another link type; and random frames. */
  decoder: () => {
    return fc.property(frameCaseArb(), fc.nat({ max: 8 }), ({ linktype, frame }, lead) => fuzzFrame(linktype, frame, lead));
  },
  /** The dump command's packet printer on the same frames as the decoder. */
  'dump-printer': () => {
    return fc.property(frameCaseArb(), fc.nat({ max: 8 }), ({ linktype, frame }, lead) => fuzzDumpPrinter(linktype, frame, lead));
  },
  /** Address text: IPv6 formatting against the URL parser, parsing back, canonical log addresses. */
  'ip-text': () =>
    fc.property(
      fc.array(fc.oneof(fc.constant(0), fc.constant(0xff), fc.nat({ max: 255 })), { minLength: 16, maxLength: 16 }).map((a) => Uint8Array.from(a)),
      fc.oneof(
        fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF:.%'.split('')), maxLength: 45, size: 'max' }),
        fc.ipV6(),
        fc.ipV4(),
        fc.ipV4Extended(),
        fc.tuple(fc.ipV6(), fc.constantFrom('%eth0', '%1', '%')).map(([a, z]) => a + z),
      ),
      (bytes, text) => fuzzIpText(bytes, text),
    ),
  /** SMTP line splitting against a whole-buffer oracle. */
  'smtp-lines': () =>
    fc.property(
      fc.array(fc.constantFrom(0x61, 0x35, 0x0d, 0x0a, 0x20), { maxLength: 200, size: 'max' }).map((a) => Uint8Array.from(a)),
      fc.array(fc.integer({ min: 1, max: 20 }), { maxLength: 8 }),
      fc.integer({ min: 1, max: 24 }),
      (data, cuts, maxLine) => fuzzLineSplitter(data, cuts, maxLine),
    ),
  /** SASL PLAIN/LOGIN username decoding. */
  'smtp-auth-username': () =>
    fc.property(
      fc.uint8Array({ maxLength: 80, size: 'max' }),
      fc.string({ unit: fc.constantFrom(...' !"#$%&\'()*+,-./0123456789:;<=>?@ABCZ[\\]^_`abcxyz{|}~'.split('')), maxLength: 40, size: 'max' }),
      (raw, name) => fuzzAuthUsername(raw, name),
    ),
  /** Generated SMTP conversations through the whole pipeline, cut two ways. */
  'smtp-dialog': () => fc.property(dialogArb, (d) => fuzzSmtpDialog(d)),
  /** The CLI over mutated files: every command that reads captures or logs. */
  cli: (ctx) => {
    const caps = captureSeeds();
    const logs = logSeeds();
    const capDonors = caps.map((c) => c.bytes);
    const logDonors = logs.map((c) => c.bytes);
    return fc.property(
      fc.constantFrom(
        ['replay', '--json', 'CAPTURE'],
        ['replay', 'CAPTURE', 'CAPTURE'],
        ['dump', '-X', '-r', 'CAPTURE'],
        ['dump', '-A', '-w', 'OUT', '-r', 'CAPTURE'],
        ['accounts', '-c', '/dev/null', '-g', '0', '-l', '0', 'LOG'],
        ['report', '-c', '/dev/null', '--no-state', '--capture', 'CAPTURE', '--logs', 'LOG'],
      ),
      fc.tuple(fc.nat({ max: caps.length - 1 }), mutationsArb).map(([i, m]) => applyMutations(caps[i]!.bytes, m, capDonors)),
      fc.tuple(fc.nat({ max: logs.length - 1 }), mutationsArb).map(([i, m]) => applyMutations(logs[i]!.bytes, m, logDonors)),
      (args, capture, log) => fuzzCli(args, capture, log, ctx.dir),
    );
  },
  /** Log lines of every format, mutated, and random lines, in every parser mode. */
  'log-line': () => {
    const lines = logLines();
    const donors = lines.map((l) => Buffer.from(l, 'utf8'));
    return fc.property(
      fc.oneof(
        fc.record({ i: fc.nat({ max: lines.length - 1 }), muts: mutationsArb }).map(({ i, muts }) => applyMutations(donors[i]!, muts, donors).toString('utf8')),
        fc.string({ unit: 'binary', maxLength: 200, size: 'max' }),
      ),
      fc.constantFrom(1970, 2005, 2024, 9999),
      (line, year) => fuzzLogLine(line, year),
    );
  },
  /** Whole log files (plain, gzip, bzip2, xz, zstd), mutated, through LogScanner. */
  'log-file': (ctx) => {
    const seeds = logSeeds();
    const donors = seeds.map((s) => s.bytes);
    return fc.asyncProperty(fc.nat({ max: seeds.length - 1 }), mutationsArb, async (i, muts) => {
      await fuzzLogFile(applyMutations(seeds[i]!.bytes, muts, donors), ctx.dir);
    });
  },
};

export interface RunOptions {
  seed: number;
  numRuns: number;
  /** fast-check's replay path of a counterexample (with its seed). */
  path?: string;
  /** Called before each case (the watchdog's heartbeat). */
  onCase?: () => void;
}

/** Runs one target; throws fast-check's report (seed, path, shrunk counterexample) on failure. */
export async function runTarget(name: string, ctx: TargetContext, o: RunOptions): Promise<void> {
  const make = TARGETS[name];
  if (!make) throw new Error(`no fuzz target ${name} (targets: ${Object.keys(TARGETS).join(', ')})`);
  const params: fc.Parameters<unknown> = { seed: o.seed, numRuns: o.numRuns, includeErrorInReport: true };
  if (o.path !== undefined) params.path = o.path;
  if (o.onCase) params.plugins = [fc.beforeEach(o.onCase)];
  await fc.assert(make(ctx), params);
}
