// Byte arithmetic instead of Buffer#readUInt32*: no range checks on the per-packet path (the
// callers check lengths first), and V8 inlines these. Shared by the capture readers (record
// headers) and the packet decoder (addresses, sequence numbers, DLT_NULL families).

export function u32le(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000;
}

export function u32be(b: Uint8Array, o: number): number {
  return b[o]! * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}
