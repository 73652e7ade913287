/**
 * `tail -F` for one log file, by hand on fs.watch + polling (native-notes/log-follow.md says why no
 * npm library): complete lines in batches, rotation by rename and by copytruncate, a file that
 * appears later or is deleted and recreated, and a position (inode, device, offset, a hash of the
 * first line) that lets a restart neither miss nor repeat a line. Compressed rotations are never
 * read: only the named path and, to finish a rotation, the plain `path.1` / `path-YYYYMMDD` file.
 *
 * Reads are synchronous and bounded (one chunk at a time, at most `chunkBytes`), and the next chunk
 * is read only after the batch callback (which may return a promise) has finished: backpressure,
 * and memory bounded by chunk + one line.
 */
import { closeSync, fstatSync, readSync, statSync, watch, type FSWatcher, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import type { FollowEventKind, FollowPosition, FollowStats, LogFollowerOptions } from './follow-types.js';
import { headOf, openErrors, Reader, rotatedSiblings, tryOpen } from './log-file.js';

export type { FollowEvent, FollowEventKind, FollowPosition, FollowStats, LogFollowerOptions } from './follow-types.js';

const DEFAULT_MAX_LINE = 64 * 1024;
const DEFAULT_CHUNK = 256 * 1024;

export class LogFollower {
  readonly stats: FollowStats = { lines: 0, bytes: 0, linesCut: 0, rotations: 0, truncations: 0, appeared: 0, partialsDropped: 0 };
  private cur: Reader | null = null;
  /** The rotated-away file, still read for late writes during rotateGraceMs. */
  private old: Reader | null = null;
  private timer: NodeJS.Timeout | null = null;
  private watcher: FSWatcher | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private started = false;
  private missingLogged = false;
  /** The position at stop(), kept for the state file written after it. */
  private finalPos: FollowPosition | null = null;
  private readonly maxLine: number;
  private readonly chunk: Buffer;
  private readonly o: LogFollowerOptions;

  constructor(
    readonly path: string,
    opts: LogFollowerOptions,
  ) {
    this.o = opts;
    this.maxLine = opts.maxLineBytes ?? DEFAULT_MAX_LINE;
    this.chunk = Buffer.alloc(opts.chunkBytes ?? DEFAULT_CHUNK);
  }

  /** Opens the file (or waits for it), applies the saved position, and starts following. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.initialOpen();
    this.ensureWatch();
    this.timer = setInterval(() => this.kick(), this.o.pollMs ?? 250);
    this.timer.unref();
    this.kick();
  }

  /** Where we stand (for the state file), or null while the file has never been opened. */
  position(): FollowPosition | null {
    const r = this.cur;
    if (!r) return this.finalPos;
    let h = r.head;
    try {
      if (!h.complete) h = headOf(r.fd);
    } catch {
      // keep the last one
    }
    return { inode: r.ino, dev: r.dev, offset: r.committed, head: h.head, headLen: h.headLen };
  }

  /**
   * Bytes of the followed file not yet read (its size now − our offset; a rotated-away file still
   * being read counts too): the log sensor's lag, for watch's metrics. Null while no file is open.
   */
  unreadBytes(): number | null {
    const r = this.cur;
    if (!r) return null;
    let n = 0;
    for (const x of this.old ? [r, this.old] : [r]) {
      try {
        n += Math.max(0, fstatSync(x.fd).size - x.offset);
      } catch {
        // closed under us (rotation): counts nothing
      }
    }
    return n;
  }

  /** Whether a timer, a watcher or a file is still held (false after stop()). */
  get active(): boolean {
    return this.timer !== null || this.watcher !== null || this.cur !== null || this.old !== null || this.running !== null;
  }

  /** Reads whatever is new now (tests; fs.watch and the poll call it too). Resolves when caught up. */
  async poll(): Promise<void> {
    this.kick();
    while (this.running) await this.running;
  }

  /** Stops watching and closes the files; a partial last line is not emitted (it is re-read after a restart). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.watcher?.close();
    this.watcher = null;
    while (this.running) await this.running;
    this.finalPos = this.position();
    this.cur?.close();
    this.old?.close();
    this.cur = null;
    this.old = null;
  }

  /**
   * Opens the followed path. A file that is there but cannot be read (EACCES: the service user is
   * not in the log's group) is said once as log_error, and tried again at every pass.
   */
  private openNamed(): { fd: number; st: Stats } | null {
    const f = tryOpen(this.path);
    const why = f ? undefined : openErrors.get(this.path);
    if (why !== this.openError) {
      this.openError = why;
      if (why) this.emit('log_error', { err: `cannot open: ${why}` });
    }
    return f;
  }

  private openError: string | undefined;

  /** fs.watch on the directory, made again when it failed (the directory appears later, or the watch broke). */
  private ensureWatch(): void {
    if (this.watcher || this.stopped || this.o.useWatch === false) return;
    try {
      const w = watch(dirname(this.path), { persistent: false }, () => this.kick());
      w.on('error', () => {
        w.close();
        if (this.watcher === w) this.watcher = null; // polling goes on; the next pass tries again
      });
      this.watcher = w;
    } catch {
      // the directory does not exist (yet): polling finds the file when it appears
    }
  }

  private emit(kind: FollowEventKind, detail?: Record<string, unknown>): void {
    this.o.onEvent?.({ kind, path: this.path, ...(detail ? { detail } : {}) });
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.step();
        } while (this.again && !this.stopped);
      } catch (e) {
        this.emit('log_error', { err: (e as Error).message });
      } finally {
        this.running = null;
      }
    })();
  }

  private async initialOpen(): Promise<void> {
    const pos = this.o.position ?? null;
    const f = this.openNamed();
    if (!pos) {
      if (!f) return; // appears later: read from 0 then
      this.cur = new Reader(f.fd, f.st.ino, f.st.dev, this.o.fromStart ? 0 : f.st.size);
      return;
    }
    const same = f && f.st.ino === pos.inode && f.st.dev === pos.dev;
    if (f && same && headOf(f.fd, pos.headLen).head === pos.head) {
      if (f.st.size >= pos.offset) {
        this.cur = new Reader(f.fd, f.st.ino, f.st.dev, pos.offset);
        this.emit('log_resumed', { offset: pos.offset });
        return;
      }
      // Truncated while we were down (copytruncate): the copy holds the unread rest.
      this.cur = new Reader(f.fd, f.st.ino, f.st.dev, 0);
      this.stats.truncations++;
      await this.readCopyRest(pos);
      this.emit('log_truncated', { while_down: true, offset: pos.offset, size: f.st.size });
      return;
    }
    // Rotated while we were down: the saved inode lives on as path.1 / path-YYYYMMDD.
    const rotated = this.findRotated((st) => st.ino === pos.inode && st.dev === pos.dev, pos);
    const rf = rotated ? tryOpen(rotated) : null;
    if (rf) {
      // Its unread rest now; it stays open for the grace time, as after a rotation seen live
      // (the writer may not have reopened its log yet).
      const old = new Reader(rf.fd, rf.st.ino, rf.st.dev, pos.offset);
      await this.readToEnd(old);
      old.idleSince = Date.now();
      this.old = old;
      this.stats.rotations++;
      this.emit('log_rotated_while_down', { rotated_to: rotated, offset: pos.offset });
      if (f) this.cur = new Reader(f.fd, f.st.ino, f.st.dev, 0);
      return;
    }
    if (!f) return; // read from 0 when it appears
    if (f.st.size >= pos.offset && pos.headLen > 0 && headOf(f.fd, pos.headLen).head === pos.head) {
      // Another inode with the same first line (copied back, or moved across file systems): the same log.
      this.cur = new Reader(f.fd, f.st.ino, f.st.dev, pos.offset);
      this.emit('log_resumed', { offset: pos.offset, inode_changed: true });
      return;
    }
    this.cur = new Reader(f.fd, f.st.ino, f.st.dev, 0);
    if (same) {
      // Same inode, another first line: truncated while we were down and written again (copytruncate),
      // or deleted and a new file got the freed inode; either way read from 0, after the copy's rest if there is one.
      const copy = await this.readCopyRest(pos);
      if (copy) {
        this.stats.truncations++;
        this.emit('log_truncated', { while_down: true, offset: pos.offset, size: f.st.size, copy });
        return;
      }
    }
    this.emit('log_new_file', {
      reason: 'the saved file is gone and this one starts with another first line: read from its beginning',
      saved_inode: pos.inode,
      same_inode: Boolean(same),
    });
  }

  /** A plain rotated sibling for which `match` holds and whose first line is the saved one. */
  private findRotated(match: (st: Stats) => boolean, pos: FollowPosition): string | null {
    for (const p of rotatedSiblings(this.path)) {
      const f = tryOpen(p);
      if (!f) continue;
      try {
        if (match(f.st) && f.st.size >= pos.offset && headOf(f.fd, pos.headLen).head === pos.head) return p;
      } finally {
        closeSync(f.fd);
      }
    }
    return null;
  }

  /** After a copytruncate: the copy (same first line, at least `offset` long) holds what we had not read. */
  private async readCopyRest(pos: FollowPosition): Promise<string | null> {
    const copy = this.findRotated((st) => st.ino !== pos.inode && st.size > pos.offset, pos);
    if (copy) await this.drainFile(copy, pos.offset);
    return copy;
  }

  /** Reads `path` from `offset` to its end, emitting its lines; a last line without newline too. */
  private async drainFile(path: string, offset: number): Promise<void> {
    const f = tryOpen(path);
    if (!f) return;
    const r = new Reader(f.fd, f.st.ino, f.st.dev, offset);
    try {
      await this.readToEnd(r);
      await this.flushPartial(r);
    } finally {
      r.close();
    }
  }

  private async step(): Promise<void> {
    this.ensureWatch();
    if (this.old) {
      await this.readToEnd(this.old);
      if (Date.now() - this.old.idleSince > (this.o.rotateGraceMs ?? 5000)) {
        await this.flushPartial(this.old);
        this.old.close();
        this.old = null;
      }
    }
    if (!this.cur) {
      const f = this.openNamed();
      if (!f) return;
      this.cur = new Reader(f.fd, f.st.ino, f.st.dev, 0);
      this.stats.appeared++;
      this.missingLogged = false;
      this.emit('log_appeared', { inode: f.st.ino });
    }
    const r = this.cur;
    this.checkTruncation(r);
    await this.readToEnd(r);
    // Has the name moved on to another file (rename rotation, delete + recreate)?
    let st: Stats | null;
    try {
      st = statSync(this.path);
    } catch {
      st = null;
    }
    if (st === null) {
      if (!this.missingLogged) {
        this.missingLogged = true;
        this.emit('log_missing', { inode: r.ino });
      }
      return; // keep reading the old descriptor: the writer may still be writing to it
    }
    if (st.ino === r.ino && st.dev === r.dev) return;
    const f = this.openNamed();
    if (!f) return;
    // Read the old file to its end once more (late writes), then switch; it stays open for a grace time.
    await this.readToEnd(r);
    if (this.old) {
      await this.flushPartial(this.old);
      this.old.close();
    }
    r.idleSince = Date.now();
    this.old = r;
    this.cur = new Reader(f.fd, f.st.ino, f.st.dev, 0);
    this.stats.rotations++;
    this.missingLogged = false;
    this.emit('log_rotated', { old_inode: r.ino, new_inode: f.st.ino });
    await this.readToEnd(this.cur);
  }

  /** Size below our offset, or another first line in the same file: truncated (copytruncate). */
  private checkTruncation(r: Reader): void {
    let size: number;
    try {
      size = fstatSync(r.fd).size;
    } catch {
      return;
    }
    let truncated = size < r.offset;
    if (!truncated && r.head.complete && r.offset > 0) {
      truncated = headOf(r.fd, r.head.headLen).head !== r.head.head;
    }
    if (!truncated) {
      if (!r.head.complete) r.head = headOf(r.fd);
      return;
    }
    const pos: FollowPosition = { inode: r.ino, dev: r.dev, offset: r.committed, head: r.head.head, headLen: r.head.headLen };
    if (r.partial.length > 0 || r.skipping) this.stats.partialsDropped++;
    r.partial = Buffer.alloc(0);
    r.skipping = false;
    r.offset = 0;
    r.head = headOf(r.fd);
    this.stats.truncations++;
    this.pendingCopy = pos;
    this.emit('log_truncated', { offset: pos.offset, size });
  }

  private pendingCopy: FollowPosition | null = null;

  private async readToEnd(r: Reader): Promise<void> {
    if (this.pendingCopy) {
      // The unread rest of a copytruncate'd file is in its copy, if the copy is there yet.
      const pos = this.pendingCopy;
      this.pendingCopy = null;
      await this.readCopyRest(pos);
    }
    for (;;) {
      if (this.stopped) return;
      const n = readSync(r.fd, this.chunk, 0, this.chunk.length, r.offset);
      if (n <= 0) return;
      r.offset += n;
      r.idleSince = Date.now();
      this.stats.bytes += n;
      const lines = this.split(r, this.chunk.subarray(0, n));
      if (lines.length > 0) await this.deliver(lines);
    }
  }

  private async flushPartial(r: Reader): Promise<void> {
    if (r.partial.length > 0 && !r.skipping) {
      const line = r.partial.toString('utf8');
      r.partial = Buffer.alloc(0);
      await this.deliver([line.endsWith('\r') ? line.slice(0, -1) : line]);
    }
  }

  private async deliver(lines: string[]): Promise<void> {
    this.stats.lines += lines.length;
    await this.o.onLines(lines, this.path);
  }

  /** Complete lines of `buf` after the held partial; keeps the new partial (bounded by maxLine). */
  private split(r: Reader, buf: Buffer): string[] {
    const out: string[] = [];
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl < 0) break;
      if (r.skipping) {
        r.skipping = false;
      } else {
        let line: Buffer = r.partial.length > 0 ? Buffer.concat([r.partial, buf.subarray(start, nl)]) : buf.subarray(start, nl);
        r.partial = Buffer.alloc(0);
        if (line.length > this.maxLine) {
          line = line.subarray(0, this.maxLine);
          this.stats.linesCut++;
        }
        let end = line.length;
        if (end > 0 && line[end - 1] === 13) end--;
        out.push(line.toString('utf8', 0, end));
      }
      start = nl + 1;
    }
    if (start < buf.length && !r.skipping) {
      const rest = buf.subarray(start);
      const held = r.partial.length + rest.length;
      if (held > this.maxLine) {
        // Cut now: the first maxLine bytes go out as the line, the rest up to the newline is dropped.
        const line = Buffer.concat([r.partial, rest]).subarray(0, this.maxLine);
        out.push(line.toString('utf8'));
        this.stats.linesCut++;
        r.partial = Buffer.alloc(0);
        r.skipping = true;
      } else {
        r.partial = r.partial.length > 0 ? Buffer.concat([r.partial, rest]) : Buffer.from(rest);
      }
    }
    return out;
  }
}
