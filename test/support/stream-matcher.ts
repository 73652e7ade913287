import { PatternAutomaton, type MatchCallback } from '../../src/smtp/stream-matcher.js';

/**
 * A PatternAutomaton with its own state, fed segment by segment: what the matcher tests and the
 * micro-bench (bench/micro.ts loads dist/test/support/stream-matcher.js) drive. The product keeps
 * the state in each session's MatchState instead.
 */
export class StreamMatcher {
  private readonly automaton: PatternAutomaton;
  private state = 0;
  constructor(patterns: readonly Uint8Array[] | PatternAutomaton) {
    this.automaton = patterns instanceof PatternAutomaton ? patterns : new PatternAutomaton(patterns);
  }
  feed(buf: Uint8Array, start: number, end: number, onMatch: MatchCallback): void {
    const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    this.state = this.automaton.run(this.state, b, start, end, onMatch);
  }
  reset(): void {
    this.state = 0;
  }
}
