import { MAX_TIMEOUT_SEC, type BlockOp } from '../blocker/types.js';
import type { StrikeEngine, StrikeState } from '../strikes/strike-engine.js';

/**
 * Loads a saved state into the strike engine and returns the block operations that put the blocks
 * still running back in the kernel, each with the time it has left (expired ones are dropped).
 */
export function restoreStrikes(engine: StrikeEngine, state: StrikeState, now: number, mayBlock: (key: string) => boolean): { entries: number; ops: BlockOp[] } {
  const { entries, blocks } = engine.importState(state, now);
  const ops: BlockOp[] = [];
  for (const b of blocks) if (mayBlock(b.key)) ops.push({ op: 'add', addr: b.key, timeoutSec: timeLeft(b.until, now) });
  return { entries, ops };
}

/** Seconds a block has left, within what the kernel takes (a hand-edited `until` far ahead is cut, not fatal). */
function timeLeft(until: number, now: number): number {
  return Math.min(MAX_TIMEOUT_SEC, Math.max(1, Math.ceil(until - now)));
}
