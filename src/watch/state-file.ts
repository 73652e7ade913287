import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { StrikeState } from '../strikes/strike-engine.js';

/**
 * Strikes and active blocks on disk, so `kill -9` and restarts lose nothing: written to a temp file
 * beside the target, fsync'd, renamed over it (atomic on POSIX), and the directory fsync'd — at any
 * instant the file is the old state or the new one, never half of each.
 */
export function writeStateAtomically(path: string, state: StrikeState): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o640);
  try {
    writeSync(fd, JSON.stringify(state));
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
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return null;
    throw new Error(`${path}: cannot read the state file (${err.code === 'EISDIR' ? 'a directory' : err.code ?? err.message})`);
  }
  const s = JSON.parse(text) as StrikeState;
  if (s.version !== 1 || !Array.isArray(s.entries)) throw new Error(`${path}: not a smtpstrike state file (version ${String(s.version)})`);
  return s;
}
