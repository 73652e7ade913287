/**
 * The strike state file (`watch --state-file`): its format on disk, the checked read, the atomic
 * write. `watch` writes and restores it; `report --state` reads it. A room of its own so that
 * neither command imports the other, and outside src/strikes because it checks keys with
 * blocker/address.ts and keeps the log sensors' positions (the core rooms import no outer room).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseBlockAddr } from '../blocker/address.js';
import type { BlockInterval, StrikeState } from '../strikes/strike-engine.js';
import type { FollowPosition } from '../logfollow/log-follower.js';
import { MAX_STAMPS_PER_KEY, type EscalationHistoryItem } from '../strikes/escalation.js';

type StateEntry = StrikeState['entries'][number];
type HistoryItem = EscalationHistoryItem;

/**
 * Where the log sensors stand, kept beside the strikes (key `followers`, added in the same
 * version 1: an older state file has none and loads as before, an older smtpstrike ignores it).
 */
export interface FollowerState {
  /** Followed path → position (inode, device, offset, first-line hash). */
  files: Record<string, FollowPosition>;
  /** The journal cursor of the last entry read (watch --journal). */
  journal_cursor?: string;
}

/** An entry of the state file that was left out, and why (for the warning). */
export interface SkippedEntry {
  index: number;
  reason: string;
}

/**
 * Strikes and active blocks on disk, so `kill -9` and restarts lose nothing: written to a temp file
 * beside the target, fsync'd, renamed over it (atomic on POSIX), and the directory fsync'd — at any
 * instant the file is the old state or the new one, never half of each.
 */
export function writeStateAtomically(path: string, state: StrikeState, followers?: FollowerState): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o640);
  try {
    writeSync(fd, JSON.stringify(followers ? { ...state, followers } : state));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dfd = openSync(dirname(path), 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

/** The saved state, or null when there is none yet. Throws with the reason when it is unreadable. */
export function readState(path: string): StrikeState | null {
  return readStateChecked(path)?.state ?? null;
}

/**
 * The saved state with every entry checked, or null when there is none yet. A file that is not a
 * state file at all (not JSON, another version) throws with the reason; an entry that is damaged
 * or hand-edited wrongly is left out and listed in `skipped`, so one bad line costs one entry.
 */
export function readStateChecked(path: string): { state: StrikeState; skipped: SkippedEntry[]; followers: FollowerState } | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return null;
    throw new Error(`${path}: cannot read the state file (${err.code === 'EISDIR' ? 'a directory' : (err.code ?? err.message)})`, { cause: e });
  }
  const raw: unknown = JSON.parse(text);
  const top = isObject(raw) ? raw : {};
  if (top.version !== 1 || !Array.isArray(top.entries)) {
    throw new Error(`${path}: not a smtpstrike state file (version ${JSON.stringify(top.version) ?? 'missing'})`);
  }
  const entries: StateEntry[] = [];
  const skipped: SkippedEntry[] = [];
  (top.entries as unknown[]).forEach((e, index) => {
    const why = entryProblem(e);
    if (why === null) entries.push(e as StateEntry);
    else skipped.push({ index, reason: why });
  });
  const savedAt = typeof top.saved_at === 'number' && Number.isFinite(top.saved_at) ? top.saved_at : 0;
  const state: StrikeState = { version: 1, saved_at: savedAt, entries };
  const history = historyOf(top.history, skipped);
  if (history) state.history = history;
  return { state, skipped, followers: followersOf(top.followers, skipped) };
}

/** Items of the repeat-offender history read at most (the engine keeps fewer: its table's size). */
const MAX_HISTORY_ITEMS = 1_000_000;

/**
 * The repeat offenders' block starts (key `history`, added in the same version 1: an older file has
 * none and loads as before). A damaged item is left out and listed (index -1, named `history[i]`).
 */
function historyOf(raw: unknown, skipped: SkippedEntry[]): HistoryItem[] | null {
  if (raw === undefined) return null;
  if (!Array.isArray(raw)) {
    skipped.push({ index: -1, reason: 'history: not a list' });
    return null;
  }
  const out: HistoryItem[] = [];
  raw.slice(0, MAX_HISTORY_ITEMS).forEach((it: unknown, i) => {
    let why: string | null = null;
    let key = '';
    if (!isObject(it) || typeof it.key !== 'string') why = 'no key';
    else {
      try {
        key = parseBlockAddr(it.key).addr;
      } catch (err) {
        why = `key: ${(err as Error).message}`;
      }
      if (why === null && (!Array.isArray(it.blocks) || !it.blocks.every(isTime))) why = 'blocks is not a list of times';
    }
    if (why !== null || !isObject(it)) skipped.push({ index: -1, reason: `history[${i}]: ${why ?? 'not an object'}` });
    else out.push({ key, blocks: (it.blocks as number[]).slice(-MAX_STAMPS_PER_KEY) });
  });
  if (raw.length > MAX_HISTORY_ITEMS)
    skipped.push({ index: -1, reason: `history: ${raw.length - MAX_HISTORY_ITEMS} items past ${MAX_HISTORY_ITEMS} left out` });
  return out;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The log sensors' positions; a damaged one is left out (that file is then read as new) and listed. */
function followersOf(raw: unknown, skipped: SkippedEntry[]): FollowerState {
  const out: FollowerState = { files: {} };
  if (!isObject(raw)) return out;
  if (typeof raw.journal_cursor === 'string' && raw.journal_cursor !== '') out.journal_cursor = raw.journal_cursor;
  if (!isObject(raw.files)) return out;
  for (const [path, p] of Object.entries(raw.files)) {
    if (
      isObject(p) &&
      isCount(p.inode) &&
      isCount(p.dev) &&
      isCount(p.offset) &&
      isCount(p.headLen) &&
      typeof p.head === 'string' &&
      /^[0-9a-f]{40}$/.test(p.head)
    ) {
      out.files[path] = { inode: p.inode, dev: p.dev, offset: p.offset, head: p.head, headLen: p.headLen };
    } else {
      skipped.push({ index: -1, reason: `followers.files[${JSON.stringify(path)}]: not a position` });
    }
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** What is wrong with one entry of `entries` (the shape exportState writes), or null. */
function entryProblem(e: unknown): string | null {
  if (!isObject(e)) return 'not an object';
  if (typeof e.key !== 'string') return 'no key';
  try {
    // A strike key is an IPv4 address or an IPv6 address or prefix; a hand-written one
    // (2001:DB8::/64) is put in the canonical form the strike engine looks keys up by.
    e.key = parseBlockAddr(e.key).addr;
  } catch (err) {
    return `key: ${(err as Error).message}`;
  }
  if (!isTime(e.last_seen)) return 'last_seen is not a time';
  for (const list of ['auth', 'conn'] as const) {
    const v = e[list];
    if (!Array.isArray(v) || !v.every(isTime)) return `${list} is not a list of times`;
  }
  if (e.block !== null && e.block !== undefined) {
    const b = e.block;
    if (!isObject(b)) return 'block is not an object';
    let blockKey: string | null = null;
    try {
      blockKey = typeof b.key === 'string' ? parseBlockAddr(b.key).addr : null;
    } catch {
      // reported below
    }
    if (blockKey === null || blockKey !== e.key) return 'block.key differs from key';
    if (typeof b.client !== 'string') return 'block.client is missing';
    if (b.rule !== 'auth' && b.rule !== 'conn') return 'block.rule is neither auth nor conn';
    if (!isTime(b.from) || !isTime(b.until) || b.until < b.from) return 'block.from/until are not a time span';
    if (!Number.isInteger(b.rejects) || (b.rejects as number) < 0) return 'block.rejects is not a count';
    if (b.level !== undefined && !(Number.isInteger(b.level) && (b.level as number) >= 0 && (b.level as number) <= 64)) return 'block.level is not a level';
    const level = (b.level as number | undefined) ?? 0;
    const checked: BlockInterval = { key: blockKey, client: b.client, rule: b.rule, from: b.from, until: b.until, rejects: b.rejects as number, level };
    e.block = checked;
  } else {
    e.block = null;
  }
  return null;
}
