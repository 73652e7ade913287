/**
 * Mutations of a real input as fast-check values, so a failing case shrinks to the fewest, smallest
 * edits and prints as plain data that reproduces it. Positions are free naturals taken modulo the
 * input's length when applied, so they stay valid whatever the seed (and shrink towards offset 0).
 */
import fc from 'fast-check';

export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  /** Overwrite a length field of the capture format (pcap caplen/origlen, pcapng block/packet lengths). */
  | { kind: 'length'; field: number; value: number; delta: boolean }
  /** Overwrite 2 or 4 bytes anywhere with an interesting value (IP/TCP lengths inside packets). */
  | { kind: 'word'; at: number; size: 2 | 4; value: number; le: boolean }
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'duplicate'; at: number; len: number }
  /** Insert a slice of another seed (index into the seed list). */
  | { kind: 'splice'; at: number; donor: number; from: number; len: number };

/** Values that make length checks go wrong: zero, off-by-one, sign bits, past any buffer. */
const INTERESTING = [
  0, 1, 3, 4, 11, 12, 15, 16, 20, 24, 28, 32, 0x7f, 0x80, 0xff, 0x100, 0x3fff, 0x7fff, 0x8000, 0xffff, 0x10000, 0x40000, 0x40001, 0x1000000, 0x7fffffff,
  0x80000000, 0xfffffff0, 0xffffffff,
];

const pos = fc.nat({ max: 1 << 20 });

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: pos, bit: fc.nat({ max: 7 }) }),
  fc.record({
    kind: fc.constant('set' as const),
    at: pos,
    value: fc.oneof(fc.constantFrom(0, 0x0a, 0x0d, 0x20, 0x35, 0x7f, 0x80, 0xff), fc.nat({ max: 255 })),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: pos }),
  fc.record({
    kind: fc.constant('length' as const),
    field: fc.nat({ max: 4096 }),
    value: fc.oneof(fc.constantFrom(...INTERESTING), fc.integer({ min: -64, max: 64 })),
    delta: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('word' as const),
    at: pos,
    size: fc.constantFrom(2 as const, 4 as const),
    value: fc.constantFrom(...INTERESTING),
    le: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: pos, len: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: pos, len: fc.integer({ min: 1, max: 256 }) }),
  fc.record({ kind: fc.constant('splice' as const), at: pos, donor: fc.nat({ max: 1000 }), from: pos, len: fc.integer({ min: 1, max: 512 }) }),
);

export const mutationsArb = fc.array(mutationArb, { minLength: 1, maxLength: 4 });

/**
 * Byte offsets of the length fields of a pcap or pcapng file (as far as the file is still well
 * formed), so `length` mutations hit the fields the readers trust.
 */
export function lengthFields(b: Buffer): { at: number; le: boolean }[] {
  const out: { at: number; le: boolean }[] = [];
  if (b.length < 24) return out;
  const m = b.readUInt32LE(0);
  if (m === 0xa1b2c3d4 || m === 0xa1b23c4d || m === 0xd4c3b2a1 || m === 0x4d3cb2a1) {
    const le = m === 0xa1b2c3d4 || m === 0xa1b23c4d;
    out.push({ at: 16, le }); // snaplen
    for (let p = 24; p + 16 <= b.length && out.length < 4096;) {
      out.push({ at: p + 8, le }, { at: p + 12, le });
      p += 16 + (le ? b.readUInt32LE(p + 8) : b.readUInt32BE(p + 8));
    }
    return out;
  }
  if (m !== 0x0a0d0d0a) return out;
  let le = true;
  for (let p = 0; p + 12 <= b.length && out.length < 4096;) {
    if (b.readUInt32LE(p) === 0x0a0d0d0a) le = b.readUInt32LE(p + 8) === 0x1a2b3c4d;
    const type = le ? b.readUInt32LE(p) : b.readUInt32BE(p);
    const len = le ? b.readUInt32LE(p + 4) : b.readUInt32BE(p + 4);
    if (len < 12 || p + len > b.length) break;
    out.push({ at: p + 4, le }, { at: p + len - 4, le });
    if (type === 6 && len >= 32) out.push({ at: p + 20, le }, { at: p + 24, le }); // EPB caplen, origlen
    if (type === 3 && len >= 16) out.push({ at: p + 8, le }); // SPB original length
    p += len;
  }
  return out;
}

function putWord(b: Buffer, at: number, size: 2 | 4, value: number, le: boolean): void {
  if (at + size > b.length) return;
  const v = size === 2 ? value & 0xffff : value >>> 0;
  if (size === 2) {
    if (le) b.writeUInt16LE(v, at);
    else b.writeUInt16BE(v, at);
  } else if (le) b.writeUInt32LE(v, at);
  else b.writeUInt32BE(v, at);
}

/** Applies the mutations in order to a copy of `input`; `donors` are the seeds splices take from. */
export function applyMutations(input: Buffer, muts: readonly Mutation[], donors: readonly Buffer[]): Buffer {
  let b = Buffer.from(input);
  for (const m of muts) {
    const at = b.length > 0 ? (m.kind === 'length' ? 0 : (m as { at: number }).at % b.length) : 0;
    switch (m.kind) {
      case 'flip':
        if (b.length > 0) b[at] = b[at]! ^ (1 << m.bit);
        break;
      case 'set':
        if (b.length > 0) b[at] = m.value;
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'length': {
        const fields = lengthFields(b);
        if (fields.length === 0) break;
        const f = fields[m.field % fields.length]!;
        const old = f.le ? b.readUInt32LE(f.at) : b.readUInt32BE(f.at);
        putWord(b, f.at, 4, m.delta ? old + m.value : m.value, f.le);
        break;
      }
      case 'word':
        putWord(b, at, m.size, m.value, m.le);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.len)]);
        break;
      case 'duplicate':
        b = Buffer.concat([b.subarray(0, at + m.len), b.subarray(at)]);
        break;
      case 'splice': {
        const d = donors.length > 0 ? donors[m.donor % donors.length]! : b;
        const from = d.length > 0 ? m.from % d.length : 0;
        b = Buffer.concat([b.subarray(0, at), d.subarray(from, from + m.len), b.subarray(at)]);
        break;
      }
    }
  }
  return b;
}
