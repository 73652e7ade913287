const CHUNK = 1 << 20;

/**
 * Text lines kept for a report, packed as UTF-8 into 1 MiB buffers: a line costs its bytes and 12
 * bytes of index, where the event it was made from (with its packet's header fields) cost ~0.5 KB
 * and a string made of many pieces keeps them all. Lines are numbered from 0 in the order added.
 */
export class LineStore {
  private readonly chunks: Buffer[] = [];
  private pos = 0;
  private chunkOf: Uint32Array = new Uint32Array(256);
  private startOf: Uint32Array = new Uint32Array(256);
  private lengthOf: Uint32Array = new Uint32Array(256);
  size = 0;

  /** Keeps `line`; returns its number. */
  add(line: string): number {
    const most = 3 * line.length; // UTF-8 bytes at most (a lone surrogate is written as 3 bytes too)
    let c = this.chunks[this.chunks.length - 1];
    if (!c || this.pos + most > c.length) {
      c = Buffer.allocUnsafe(Math.max(CHUNK, most));
      this.chunks.push(c);
      this.pos = 0;
    }
    const id = this.size++;
    if (id >= this.chunkOf.length) {
      const n = 2 * this.chunkOf.length;
      const grow = (a: Uint32Array): Uint32Array => {
        const b = new Uint32Array(n);
        b.set(a);
        return b;
      };
      this.chunkOf = grow(this.chunkOf);
      this.startOf = grow(this.startOf);
      this.lengthOf = grow(this.lengthOf);
    }
    const n = c.write(line, this.pos, 'utf8');
    this.chunkOf[id] = this.chunks.length - 1;
    this.startOf[id] = this.pos;
    this.lengthOf[id] = n;
    this.pos += n;
    return id;
  }

  /** Line `id` (as added; a lone surrogate reads back as U+FFFD, as it would have been written). */
  line(id: number): string {
    const s = this.startOf[id]!;
    return this.chunks[this.chunkOf[id]!]!.toString('utf8', s, s + this.lengthOf[id]!);
  }
}
