import { JournalFollower, type JournalEntry } from '../logfollow/journal-follower.js';
import { logFollowEvent } from './watch-log-fields.js';
import { MultiFollower } from '../logfollow/multi-follower.js';
import type { FollowerState } from '../strike-state/state-file.js';
import { journalLine } from './log-sensor.js';
import { WatchBase } from './watch-base.js';

/** The log sensor's followers (--log, --journal): started from their saved positions, their lines into the sensor merge. */
export abstract class WatchLogFollow extends WatchBase {
  /**
   * Starts following the --log files and the journal from their saved positions (start() calls it
   * after restoring the state; tests call it alone). A journal that cannot be read fails the start.
   */
  async startLogSensors(): Promise<void> {
    if (!this.restored) this.restore();
    const s = this.s;
    if ((s.logs ?? []).length > 0) {
      this.logs = new MultiFollower(s.logs!, this.savedFollowers.files, {
        onLines: (lines, path) => this.onLogLines(path, lines),
        onEvent: (ev) => logFollowEvent(this.log, ev),
      });
      await this.logs.start();
      this.log.info(
        { event: 'logs_followed', files: s.logs, restored: Object.keys(this.savedFollowers.files).filter((p) => s.logs!.includes(p)) },
        `following ${s.logs!.length} log file(s)`,
      );
    }
    if (s.journal) {
      this.journal = new JournalFollower({
        cursor: this.savedFollowers.journal_cursor ?? null,
        onEntries: (es) => this.onJournalEntries(es),
        onError: (e) => this.log.error({ event: 'journal_ended', err: e.message }, e.message),
        ...(this.deps.journalctl ? { journalctl: this.deps.journalctl.program, extraArgs: this.deps.journalctl.extraArgs ?? [], noDaemonCheck: true } : {}),
      });
      await this.journal.start();
      this.log.info(
        { event: 'journal_followed', args: this.journal.args(), resumed: this.savedFollowers.journal_cursor !== undefined },
        'following the journal',
      );
    }
  }

  /**
   * The log sensor: every batch of complete lines of one source (a followed path, or "journal" with
   * the journal's messages). Each source has its own accounts parser (src/watch/log-sensor.ts); its
   * failures, logins and 454s go into the sensor merge, which strikes an attempt once whichever
   * sensor saw it first. `stamps`: the journal's own time of each line.
   */
  onLogLines(source: string, lines: string[], stamps?: number[]): void {
    this.logLines.set(source, (this.logLines.get(source) ?? 0) + lines.length);
    this.logSensor?.lines(source, lines, stamps);
    this.dirty = true; // the positions moved: saved with the next tick
  }

  private onJournalEntries(entries: JournalEntry[]): void {
    // A journal message has no syslog header: give it one (`postfix/smtpd[123]: …`) so the parsers
    // pick the service by its program name and key Postfix sessions by pid, as in a file.
    this.onLogLines(
      'journal',
      entries.map(journalLine),
      entries.map((e) => e.ts),
    );
  }

  protected followerState(): FollowerState | undefined {
    if (!this.logs && !this.journal)
      return Object.keys(this.savedFollowers.files).length > 0 || this.savedFollowers.journal_cursor ? this.savedFollowers : undefined;
    // Positions of files no longer followed are kept (a --log dropped for one run loses nothing).
    const out: FollowerState = { files: { ...this.savedFollowers.files, ...(this.logs?.positions() ?? {}) } };
    const cursor = this.journal?.cursor() ?? this.savedFollowers.journal_cursor;
    if (cursor) out.journal_cursor = cursor;
    return out;
  }
}
