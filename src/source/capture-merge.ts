import type { PacketRecord } from './packet-record.js';

/** One input of the merge: a reader (a CaptureFileReader) positioned on its current packet. */
export interface MergeInput {
  readonly reader: { readonly rec: PacketRecord };
}

/**
 * Hands the packets of several capture inputs to `emit` in timestamp order: a k-way merge, each
 * input assumed to be in time order itself, as capture tools write them. On equal timestamps the
 * input listed first goes first (a linear scan with a strict `<`: a handful of files, no heap).
 * `replay`/`report` (readCaptureFiles) and `dump` both read several files through this one.
 *
 * - `next(input)` moves an input to its next packet: `true` when it is already buffered (the
 *   common case, no await), else a promise of whether there is one; an input that has none left,
 *   or that failed, is the caller's to close and report, and leaves the merge.
 * - `emit(input)` takes the input's current packet; a promise it returns (an output that asked to
 *   wait) is awaited before the next packet is read.
 * - `stopped()` is asked before each packet and after each emit; true ends the merge at once
 *   (inputs still open are the caller's to close).
 *
 * Resolves to true when every input ran out, false when `stopped` ended it.
 */
export async function mergeInTimeOrder<T extends MergeInput>(
  inputs: readonly T[],
  next: (input: T) => true | Promise<boolean>,
  emit: (input: T) => Promise<unknown> | null | undefined | void,
  stopped: () => boolean = neverStopped,
): Promise<boolean> {
  const live: T[] = [];
  for (const input of inputs) if (await next(input)) live.push(input);
  while (live.length > 0 && !stopped()) {
    let best = 0;
    for (let j = 1; j < live.length; j++) {
      const a = live[j]!.reader.rec;
      const b = live[best]!.reader.rec;
      if (a.tsSec < b.tsSec || (a.tsSec === b.tsSec && a.tsNsec < b.tsNsec)) best = j;
    }
    const input = live[best]!;
    const wait = emit(input);
    if (wait) await wait;
    if (stopped()) break;
    const more = next(input);
    if (more !== true && !(await more)) live.splice(best, 1);
  }
  return live.length === 0;
}

const neverStopped = (): boolean => false;
