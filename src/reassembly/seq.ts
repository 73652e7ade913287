/** Signed distance a - b between two sequence numbers, modulo 2^32 (RFC 1982 serial arithmetic). */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}
