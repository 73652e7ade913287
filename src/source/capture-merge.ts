import type { PacketRecord } from './packet-record.js';

/** One input of the merge: a reader (a CaptureFileReader) positioned on its current packet. */
export interface MergeInput {
  readonly reader: { readonly rec: PacketRecord };
}

/** An input not opened yet: its place in the listed order and the time of its first packet. */
export interface LaterInput {
  /** Its place among all inputs as listed (ties go to the lower). */
  readonly at: number;
  /**
   * When it must be opened: the time of its first packet, or any time before it (dump's tcpdump
   * filter writes microseconds, so dump gives the first time cut to the microsecond).
   */
  readonly tsSec: number;
  readonly tsNsec: number;
}

/**
 * Inputs opened only when the merge reaches their first packet (many capture files, most of them
 * apart in time: at most the files that overlap are open at once).
 * - `pending`: sorted by time, then `at` (see byFirstPacket);
 * - `at(input)`: the listed place of an input that is open (the `inputs` given at the start are
 *   listed before or between the pending ones as their `at` says, and must be in `at` order);
 * - `open(later)`: opens it, or null when it cannot be (the caller reports why). The merge then
 *   moves it to its first packet with `next`, as any input.
 */
export interface LaterInputs<T, L extends LaterInput> {
  readonly pending: readonly L[];
  at(input: T): number;
  open(later: L): Promise<T | null>;
}

/** The order of `LaterInputs.pending`: first packet's time, then listed place. */
export const byFirstPacket = (a: LaterInput, b: LaterInput): number => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec || a.at - b.at;

/**
 * Hands the packets of several capture inputs to `emit` in timestamp order: a k-way merge, each
 * input assumed to be in time order itself, as capture tools write them. On equal timestamps the
 * input listed first goes first (a linear scan with a strict `<` over the open inputs, kept in
 * listed order: a handful at once, no heap).
 * `replay`/`report` (readCaptureFiles) and `dump` both read several files through this one.
 *
 * - `next(input)` moves an input to its next packet: `true` when it is already buffered (the
 *   common case, no await), else a promise of whether there is one; an input that has none left,
 *   or that failed, is the caller's to close and report, and leaves the merge.
 * - `emit(input)` takes the input's current packet; a promise it returns (an output that asked to
 *   wait) is awaited before the next packet is read.
 * - `stopped()` is asked before each packet and after each emit; true ends the merge at once
 *   (inputs still open are the caller's to close).
 * - `later`: inputs opened lazily. Before a packet is emitted, every pending input whose first
 *   packet comes before it (time, then listed place) is opened and joins the merge, so the order
 *   is exactly that of a merge with every input open from the start (any pending input's first
 *   packet is no earlier than the packet emitted), whatever the inputs hold. Only an opening or a
 *   refill awaits; a packet already buffered is merged synchronously.
 *
 * Resolves to true when every input ran out, false when `stopped` ended it.
 */
export async function mergeInTimeOrder<T extends MergeInput, L extends LaterInput = LaterInput>(
  inputs: readonly T[],
  next: (input: T) => true | Promise<boolean>,
  emit: (input: T) => Promise<unknown> | null | undefined | void,
  stopped: () => boolean = neverStopped,
  later?: LaterInputs<T, L>,
): Promise<boolean> {
  const live: T[] = [];
  for (const input of inputs) if (await next(input)) live.push(input);
  const pending = later?.pending ?? [];
  let p = 0;
  while (!stopped()) {
    let best = bestOf(live);
    // Open the inputs whose first packet is due before the best one buffered (rarely: once a file).
    while (p < pending.length) {
      const due = pending[p]!;
      if (best >= 0 && !dueBefore(due, live[best]!, later!.at(live[best]!))) break;
      p++;
      const input = await later!.open(due);
      if (input === null || !(await next(input))) continue;
      let j = live.length;
      while (j > 0 && later!.at(live[j - 1]!) > due.at) j--;
      live.splice(j, 0, input);
      best = bestOf(live);
      if (stopped()) return false;
    }
    if (best < 0) break;
    const input = live[best]!;
    const wait = emit(input);
    if (wait) await wait;
    if (stopped()) break;
    const more = next(input);
    if (more !== true && !(await more)) live.splice(best, 1);
  }
  return live.length === 0 && p === pending.length;
}

/** The input whose current packet is earliest (the first listed on equal times); -1 when none. */
function bestOf<T extends MergeInput>(live: readonly T[]): number {
  if (live.length === 0) return -1;
  let best = 0;
  for (let j = 1; j < live.length; j++) {
    const a = live[j]!.reader.rec;
    const b = live[best]!.reader.rec;
    if (a.tsSec < b.tsSec || (a.tsSec === b.tsSec && a.tsNsec < b.tsNsec)) best = j;
  }
  return best;
}

/** Whether a pending input's first packet comes before `input`'s current one (listed at `at`). */
function dueBefore(due: LaterInput, input: MergeInput, at: number): boolean {
  const r = input.reader.rec;
  return due.tsSec < r.tsSec || (due.tsSec === r.tsSec && (due.tsNsec < r.tsNsec || (due.tsNsec === r.tsNsec && due.at < at)));
}

const neverStopped = (): boolean => false;
