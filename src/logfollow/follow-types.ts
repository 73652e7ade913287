// What a LogFollower (log-follower.ts) takes and tells: its options, its position, its events, its counters.

/** Where a follower stands in a file: everything before `offset` was handed to the callback. */
export interface FollowPosition {
  inode: number;
  dev: number;
  offset: number;
  /** sha1 (hex) of the first `headLen` bytes: the first line, at most HEAD_BYTES. */
  head: string;
  headLen: number;
}

export type FollowEventKind =
  | 'log_appeared' // the file exists now (it did not at start, or was deleted and came back)
  | 'log_rotated' // renamed away or deleted and replaced: the old file was read to its end, the new one from 0
  | 'log_truncated' // size below our offset (copytruncate) or a different first line at the same inode: read from 0
  | 'log_missing' // the named file is gone (rotation in progress, or deleted); the old one is still read
  | 'log_resumed' // restart: same file, resumed at the saved offset
  | 'log_rotated_while_down' // restart: the saved file was rotated; its unread rest is read first
  | 'log_new_file' // restart: another file than the saved one: read from its beginning
  | 'log_error';

export interface FollowEvent {
  kind: FollowEventKind;
  path: string;
  /** A rotated file whose rest was read, the reason, counts: whatever explains the event. */
  detail?: Record<string, unknown>;
}

export interface LogFollowerOptions {
  /** Called with each batch of complete lines (no newline, a trailing CR removed); awaited. */
  onLines: (lines: string[], path: string) => void | Promise<void>;
  onEvent?: (ev: FollowEvent) => void;
  /** Where to resume; without it the follower starts at the end of the file. */
  position?: FollowPosition | null;
  /** Read a file that exists at start from its beginning (no saved position). Default false. */
  fromStart?: boolean;
  /** Watch the directory with fs.watch (inotify) for prompt reads; default true. Polling runs anyway. */
  useWatch?: boolean;
  /** A safety poll besides fs.watch (which can miss events, e.g. on NFS). Default 250 ms. */
  pollMs?: number;
  /** Longer lines are cut to this many bytes (the rest up to the newline is dropped) and counted. */
  maxLineBytes?: number;
  /** Bytes read at a time (one batch at most). */
  chunkBytes?: number;
  /** How long a rotated-away file is still read for late writes after the new file appeared. */
  rotateGraceMs?: number;
}

export interface FollowStats {
  lines: number;
  bytes: number;
  linesCut: number;
  rotations: number;
  truncations: number;
  appeared: number;
  /** A partial line held at a truncation, which cannot be completed (its rest is gone). */
  partialsDropped: number;
}
