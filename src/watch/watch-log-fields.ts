import type { Logger } from 'pino';
import type { AuthEvent, BlockEvent, RejectEvent, StrikeEvent } from '../events.js';
import type { FollowEvent, FollowStats } from '../logfollow/log-follower.js';
import type { SensorCoverage } from '../strikes/sensor-merge.js';
import type { ReplayEnd } from './replay-source.js';
import { pinoNumber as num, pinoString as str } from './logger.js';

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

/** The message of an AUTH outcome inferred inside TLS. */
export const inferredAuthMsg = (code: number, recordLen: number): string => `${code} inferred inside TLS (record ${recordLen} bytes)`;

/** An AUTH outcome the wire saw: read in clear (mech, user, the reply's text) or inferred inside TLS (record size, delay). */
export function authLogLine(ev: AuthEvent): [Record<string, unknown>, string] {
  const head = { event: ev.type, client: ev.client, client_port: ev.clientPort, server: ev.server, server_port: ev.serverPort };
  if (ev.inferred) {
    return [
      { ...head, code: ev.code, inferred: true, record_len: ev.inferred.recordLen, delay_s: ev.inferred.delay },
      inferredAuthMsg(ev.code, ev.inferred.recordLen),
    ];
  }
  return [{ ...head, mech: ev.mech, user: ev.user, code: ev.code }, ev.text];
}

/** The `strike` line's fields (warn; the message is the iptables LOG line). */
export function strikeLogFields(ev: StrikeEvent): Record<string, unknown> {
  return { event: 'strike', client: ev.client, key: ev.key, n: ev.n, packet_ts: ev.ts, ...(ev.inferred ? { inferred: true } : {}), source: ev.source };
}

/** `,"event":E,"rule":R,"client":C,"key":K`: how the reject and block lines begin (rules are fixed ASCII names). */
function ruleHead(event: 'reject' | 'block', ev: { rule: string; client: string; key: string }): string {
  return ',"event":"' + event + '","rule":"' + ev.rule + '","client":' + str(ev.client) + ',"key":' + str(ev.key);
}

/** The `reject` line's fields (warn): a refused SYN; `level` when the standing block is escalated. */
export function rejectLogFields(ev: RejectEvent): Record<string, unknown> {
  return {
    event: 'reject',
    rule: ev.rule,
    client: ev.client,
    key: ev.key,
    packet_ts: ev.ts,
    ...(ev.block && ev.block.level > 0 ? { level: ev.block.level } : {}),
  };
}

/** The `block` line's fields (warn). */
export function blockLogFields(ev: BlockEvent, timeoutS: number): Record<string, unknown> {
  return { event: 'block', rule: ev.rule, client: ev.client, key: ev.key, until: ev.until, level: ev.level, timeout_s: timeoutS };
}

/** The `block` line's message. */
export const blockLogMsg = (ev: BlockEvent): string => (ev.level > 0 ? `blocking ${ev.key} (repeat offender, level ${ev.level})` : `blocking ${ev.key}`);

/*
 * The same hot lines as pino field text (`,"key":value`...), for RawLines (logger.ts): no object per
 * line. Each gives exactly what pino writes for the object beside it (authLogLine, and the strike,
 * reject and block objects of watch-events.ts), key for key in the same order; a null is `null`,
 * a key whose value is undefined is left out (as pino does). A closed set of words (`source`,
 * `rule`, `event`) is written as it is: none needs escaping. test/watch-log-lines.test.ts compares
 * them with pino's own output.
 */

/** authLogLine's fields, serialised. */
export function authLogProps(ev: AuthEvent): string {
  const head =
    ',"event":"' +
    ev.type +
    '","client":' +
    str(ev.client) +
    ',"client_port":' +
    num(ev.clientPort) +
    ',"server":' +
    str(ev.server) +
    ',"server_port":' +
    num(ev.serverPort);
  if (ev.inferred) {
    return head + ',"code":' + num(ev.code) + ',"inferred":true,"record_len":' + num(ev.inferred.recordLen) + ',"delay_s":' + num(ev.inferred.delay);
  }
  return head + ',"mech":' + (ev.mech === null ? 'null' : str(ev.mech)) + ',"user":' + (ev.user === null ? 'null' : str(ev.user)) + ',"code":' + num(ev.code);
}

/** The `strike` line's fields: `{ event, client, key, n, packet_ts, inferred?, source }`. */
export function strikeLogProps(ev: StrikeEvent): string {
  return (
    ',"event":"strike","client":' +
    str(ev.client) +
    ',"key":' +
    str(ev.key) +
    ',"n":' +
    num(ev.n) +
    ',"packet_ts":' +
    num(ev.ts) +
    (ev.inferred ? ',"inferred":true' : '') +
    ',"source":' +
    '"' +
    ev.source +
    '"'
  );
}

/** The `reject` line's fields: `{ event, rule, client, key, packet_ts, level? }` (level when escalated). */
export function rejectLogProps(ev: RejectEvent): string {
  return ruleHead('reject', ev) + ',"packet_ts":' + num(ev.ts) + (ev.block && ev.block.level > 0 ? ',"level":' + num(ev.block.level) : '');
}

/** The `block` line's fields: `{ event, rule, client, key, until, level, timeout_s }`. */
export function blockLogProps(ev: BlockEvent, timeoutS: number): string {
  return ruleHead('block', ev) + ',"until":' + num(ev.until) + ',"level":' + num(ev.level) + ',"timeout_s":' + num(timeoutS);
}
