import type { Logger } from 'pino';
import type { AuthEvent } from '../events.js';
import type { FollowEvent, FollowStats } from '../logfollow/log-follower.js';
import type { SensorCoverage } from '../strikes/sensor-merge.js';
import type { ReplayEnd } from './replay-source.js';

/**
 * The shapes of watch's own log lines that are pure functions of what they report (the stats
 * line's parts, the follower's events, the end of a replay): kept apart from the service so its
 * file holds the service, and so the snake_case of the log is decided in one place.
 */

/** The sensor merge's coverage: attempts seen by the wire (read or inferred) only, the log only, both. */
export function coverageFields(c: SensorCoverage): Record<string, unknown> {
  return {
    wire_only: c.only.wire,
    inferred_only: c.only.inferred,
    log_only: c.only.log,
    both: c.both.wire + c.both.inferred,
    both_wire: c.both.wire,
    both_inferred: c.both.inferred,
    held: c.held,
    held_peak: c.held_peak,
    held_evicted: c.held_evicted,
    confirmed_inferred: c.confirmed_inferred,
    sightings: c.sightings,
  };
}

/** Per followed file. */
export function logFileFields(stats: Record<string, FollowStats>): Record<string, Record<string, number>> {
  return Object.fromEntries(
    Object.entries(stats).map(([p, st]) => [
      p,
      {
        lines: st.lines,
        bytes: st.bytes,
        lines_cut: st.linesCut,
        rotations: st.rotations,
        truncations: st.truncations,
        appeared: st.appeared,
        partials_dropped: st.partialsDropped,
      },
    ]),
  );
}

/** A follower's event (rotation, truncation, a file that appeared or went missing) at its level. */
export function logFollowEvent(log: Logger, ev: FollowEvent): void {
  const o = { event: ev.kind, file: ev.path, ...ev.detail };
  if (ev.kind === 'log_error' || ev.kind === 'log_new_file') log.warn(o, `${ev.path}: ${ev.kind}`);
  else if (ev.kind === 'log_missing') log.debug(o, `${ev.path}: missing (rotation under way?)`);
  else log.info(o, `${ev.path}: ${ev.kind}`);
}

/** `replay_end`: what a `watch --replay` read, over which packet time, and what it blocked. */
export function logReplayEnd(log: Logger, end: ReplayEnd, firstTs: number, lastTs: number, blocks: number): void {
  log.info(
    {
      event: 'replay_end',
      interrupted: end.interrupted,
      files: end.files.map((f) => ({ file: f.file, packets: f.packets, ...(f.error ? { error: f.error.message } : {}) })),
      packets: end.packets,
      first_ts: Number.isFinite(firstTs) ? firstTs : null,
      last_ts: Number.isFinite(lastTs) ? lastTs : null,
      wall_s: Math.round(end.wallSeconds * 1000) / 1000,
      blocks,
    },
    end.interrupted ? 'replay interrupted' : 'replay done: the end of the capture files',
  );
}

/** An AUTH outcome the wire saw: read in clear (mech, user, the reply's text) or inferred inside TLS (record size, delay). */
export function authLogLine(ev: AuthEvent): [Record<string, unknown>, string] {
  const head = { event: ev.type, client: ev.client, client_port: ev.clientPort, server: ev.server, server_port: ev.serverPort };
  if (ev.inferred) {
    return [
      { ...head, code: ev.code, inferred: true, record_len: ev.inferred.recordLen, delay_s: ev.inferred.delay },
      `${ev.code} inferred inside TLS (record ${ev.inferred.recordLen} bytes)`,
    ];
  }
  return [{ ...head, mech: ev.mech, user: ev.user, code: ev.code }, ev.text];
}
