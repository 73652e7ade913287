/**
 * Streaming multi-pattern matcher: an Aho–Corasick automaton (KMP generalised to several patterns)
 * compiled into a full transition table, whose state carries from one segment to the next, so a
 * pattern split across TCP segments is found — what iptables' `-m string --algo bm` misses.
 *
 * Speed: while the automaton is in its start state nothing is half-matched, so for one pattern we
 * jump straight to the next full occurrence with Buffer.indexOf (memchr-class native search) and
 * run the table only over the last pattern-length bytes of a segment, which is all the state at
 * its end depends on. For several patterns we skip to the next byte that can start any of them.
 */
export type MatchCallback = (patternIndex: number, endOffset: number) => void;

export class PatternAutomaton {
  /** delta[state * 256 + byte] = next state. */
  private readonly delta: Int32Array;
  /** First pattern ending at a state (-1: none), and the chain of further ones. */
  private readonly outFirst: Int32Array;
  private readonly outNext: Int32Array;
  private readonly outPattern: Int32Array;
  /** Whether a byte can start some pattern. */
  private readonly starts = new Uint8Array(256);
  readonly patterns: readonly Buffer[];
  private readonly single: Buffer | null;
  /** Longest prefix all patterns share (null when they do not even share a first byte). */
  private readonly prefix: Buffer | null;
  /** State after a complete match of the single pattern. */
  private readonly afterFull: number;
  readonly maxLen: number;

  constructor(patterns: readonly Uint8Array[]) {
    if (patterns.length === 0) throw new Error('PatternAutomaton needs at least one pattern');
    this.patterns = patterns.map((p) => {
      if (p.length === 0) throw new Error('empty match pattern');
      return Buffer.from(p);
    });
    // Trie
    const goto: Map<number, number>[] = [new Map<number, number>()];
    const ends: number[][] = [[]];
    this.patterns.forEach((p, pi) => {
      let s = 0;
      for (const b of p) {
        let t = goto[s]!.get(b);
        if (t === undefined) {
          t = goto.length;
          goto.push(new Map());
          ends.push([]);
          goto[s]!.set(b, t);
        }
        s = t;
      }
      ends[s]!.push(pi);
      this.starts[p[0]!] = 1;
    });
    const n = goto.length;
    this.delta = new Int32Array(n * 256);
    const fail = new Int32Array(n);
    // BFS to build failure links and the full transition table.
    const queue: number[] = [];
    for (let b = 0; b < 256; b++) {
      const t = goto[0]!.get(b);
      if (t !== undefined) {
        this.delta[b] = t;
        fail[t] = 0;
        queue.push(t);
      }
    }
    const outLists: number[][] = ends.map((e) => [...e]);
    for (let qi = 0; qi < queue.length; qi++) {
      const s = queue[qi]!;
      const own = outLists[s]!;
      for (const x of outLists[fail[s]!]!) if (!own.includes(x)) own.push(x); // a loop, not push(...): no spread of a long list
      for (let b = 0; b < 256; b++) {
        const t = goto[s]!.get(b);
        if (t !== undefined) {
          fail[t] = this.delta[fail[s]! * 256 + b]!;
          this.delta[s * 256 + b] = t;
          queue.push(t);
        } else {
          this.delta[s * 256 + b] = this.delta[fail[s]! * 256 + b]!;
        }
      }
    }
    this.outFirst = new Int32Array(n).fill(-1);
    const next: number[] = [];
    const pat: number[] = [];
    outLists.forEach((list, s) => {
      let prev = -1;
      for (const pi of list) {
        const idx = pat.length;
        pat.push(pi);
        next.push(-1);
        if (prev < 0) this.outFirst[s] = idx;
        else next[prev] = idx;
        prev = idx;
      }
    });
    this.outNext = Int32Array.from(next);
    this.outPattern = Int32Array.from(pat);
    let maxLen = 0; // a loop, not Math.max(...): no spread of a long list
    for (const p of this.patterns) maxLen = Math.max(maxLen, p.length);
    this.maxLen = maxLen;
    this.single = this.patterns.length === 1 ? this.patterns[0]! : null;
    let common = this.patterns[0]!.length;
    for (const p of this.patterns) {
      let k = 0;
      while (k < common && k < p.length && p[k] === this.patterns[0]![k]) k++;
      common = k;
    }
    this.prefix = common > 0 ? this.patterns[0]!.subarray(0, common) : null;
    let s = 0;
    if (this.single) for (const b of this.single) s = this.delta[s * 256 + b]!;
    this.afterFull = s;
  }

  private report(state: number, endOffset: number, cb: MatchCallback): void {
    for (let i = this.outFirst[state]!; i >= 0; i = this.outNext[i]!) cb(this.outPattern[i]!, endOffset);
  }

  /**
   * Runs the automaton over buf[start, end) from `state`; calls `cb(pattern, offsetAfterMatch)`
   * for every occurrence (overlapping ones too) and returns the state to carry to the next segment.
   */
  run(state: number, buf: Buffer, start: number, end: number, cb: MatchCallback): number {
    const delta = this.delta;
    const outFirst = this.outFirst;
    const prefix = this.prefix;
    let s = state;
    let i = start;
    while (i < end) {
      if (s === 0) {
        if (prefix) {
          // Nothing half-matched: no occurrence can begin before the next copy of the prefix
          // every pattern shares, which the native search finds.
          const j = end - i >= prefix.length ? indexIn(buf, prefix, i, end) : -1;
          if (j < 0) return this.tailState(buf, Math.max(i, end - (prefix.length - 1)), end);
          if (this.single) {
            i = j + prefix.length;
            s = this.afterFull;
            this.report(s, i, cb);
            continue;
          }
          i = j;
        } else {
          const starts = this.starts;
          while (i < end && starts[buf[i]!] === 0) i++;
          if (i === end) return 0;
        }
      }
      s = delta[s * 256 + buf[i]!]!;
      i++;
      if (outFirst[s]! >= 0) this.report(s, i, cb);
    }
    return s;
  }

  /**
   * State after buf[from, end) when no full occurrence lies in it: only a partial prefix at the very
   * end matters, and it must start with a byte that can start a pattern.
   */
  private tailState(buf: Buffer, from: number, end: number): number {
    const starts = this.starts;
    while (from < end && starts[buf[from]!] === 0) from++;
    let s = 0;
    for (; from < end; from++) s = this.delta[s * 256 + buf[from]!]!;
    return s;
  }
}

/** indexOf bounded to [from, end): searches a view when the buffer runs far past `end`. */
function indexIn(buf: Buffer, needle: Buffer, from: number, end: number): number {
  if (buf.length - end <= 4096) {
    const j = buf.indexOf(needle, from);
    return j >= 0 && j + needle.length <= end ? j : -1;
  }
  const j = buf.subarray(from, end).indexOf(needle);
  return j >= 0 ? j + from : -1;
}

const MAX_MATCHES = 64;

/**
 * One stream's run of the automaton over a segment: its state carried across segments, and where
 * user patterns matched in the current one (a session has one only when there are patterns).
 */
export class MatchState {
  state = 0;
  readonly ends = new Int32Array(MAX_MATCHES);
  count = 0;
  pos = 0;
  readonly onMatch = (_pattern: number, endOffset: number): void => {
    if (this.count < MAX_MATCHES) this.ends[this.count++] = endOffset;
  };
}
