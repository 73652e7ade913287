import { once } from 'node:events';

/**
 * Writes the pieces, waiting for 'drain' whenever the stream's buffer is full: a report of a
 * million clients (~100 MB) into a pipe whose reader is slower than us would otherwise sit in
 * memory, queued, all at once (measured: +200 MB peak RSS into `| cat` on a busy machine).
 */
export async function writeChunks(out: NodeJS.WritableStream, chunks: Iterable<string>): Promise<void> {
  for (const s of chunks) if (s && !out.write(s)) await once(out, 'drain');
}
