import { renameSync } from 'node:fs';
import { readStateChecked, writeStateAtomically } from '../strike-state/state-file.js';
import { restoreStrikes } from './restore.js';
import { WatchLogFollow } from './watch-log-follow.js';

/** The state file: restored at start (or at the first packet of a replay), saved when something changed; the strike table's clock. */
export abstract class WatchState extends WatchLogFollow {
  /** The clock of the strike table: packet time in a replay (the last packet's), else wall time. */
  protected now(): number {
    if (!this.s.replay) return Date.now() / 1000;
    const last = this.pipeline.lastTs;
    if (Number.isFinite(last)) return Math.max(last, this.restoredAt ?? -Infinity);
    return this.restoredAt ?? Date.now() / 1000;
  }

  /**
   * Re-reads the strike table and re-applies the blocks that are still running (expired ones are
   * not), as of now; with `at` (--replay: the first packet's time) as of `at` or the file's own
   * saving time, whichever is later — a state saved after the capture began was not made by an
   * earlier replay, and is judged as it stood when saved rather than given more time.
   */
  protected restore(at?: number): void {
    let now = Date.now() / 1000;
    let read;
    try {
      read = readStateChecked(this.s.stateFile);
    } catch (e) {
      // Keep the unreadable file for the admin under another name; new state goes to the usual path.
      const kept = `${this.s.stateFile}.unreadable-${Math.floor(now)}`;
      try {
        renameSync(this.s.stateFile, kept);
      } catch {
        // left where it is; it will be overwritten by the next save
      }
      this.log.error(
        { event: 'state_unreadable', file: this.s.stateFile, kept, err: (e as Error).message },
        'state file unreadable: kept aside, starting with an empty strike table',
      );
      this.restored = true;
      return;
    }
    this.restored = true;
    if (!read) return;
    const { state, skipped, followers } = read;
    this.savedFollowers = followers;
    if (at !== undefined) {
      if (Number.isFinite(at) && state.saved_at > at) {
        this.log.warn(
          { event: 'state_after_capture', file: this.s.stateFile, saved_at: state.saved_at, first_ts: at },
          'the state file was saved after the capture began (not by an earlier replay?): give a replay a state file of its own',
        );
      }
      now = Math.max(at, state.saved_at);
      this.restoredAt = now;
    }
    if (skipped.length > 0) {
      this.log.warn(
        { event: 'state_entries_skipped', file: this.s.stateFile, skipped: skipped.length, first: skipped.slice(0, 10) },
        `state file: ${skipped.length} damaged entries skipped (first: #${skipped[0]!.index}, ${skipped[0]!.reason})`,
      );
    }
    const { entries, ops } = restoreStrikes(this.pipeline.strikes, state, now, (k) => this.mayBlock(k));
    this.batcher.pushAll(ops);
    this.log.info({ event: 'state_restored', file: this.s.stateFile, entries, blocks: ops.length, saved_at: state.saved_at }, 'state restored');
  }

  saveState(): void {
    if (!this.restored) return; // never overwrite a saved state we did not load (start failed early)
    try {
      writeStateAtomically(this.s.stateFile, this.pipeline.strikes.exportState(this.now()), this.followerState());
      this.dirty = false;
    } catch (e) {
      this.log.error({ event: 'state_write_failed', file: this.s.stateFile, err: (e as Error).message }, 'cannot write state file');
    }
  }
}
