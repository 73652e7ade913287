import type { EventSink, InferredBasis, PipelineEvent } from '../events.js';
import { basisNames } from '../tls/auth-exchange.js';
import { strikeLogLine } from '../strikes/iptables-log.js';

/** isoTime without the cache: the definition the cached one must equal. */
export function isoTimeUncached(ts: number): string {
  const totalUs = Math.round(ts * 1e6);
  const us = totalUs % 1000;
  return new Date((totalUs - us) / 1000).toISOString().replace('Z', `${String(us).padStart(3, '0')}Z`);
}

const pad3 = (n: number): string => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n));
let isoSecond = NaN;
let isoPrefix = '';

/** ISO 8601 UTC with microseconds, from packet seconds (the text up to the dot cached per second). */
export function isoTime(ts: number): string {
  const totalUs = Math.round(ts * 1e6);
  if (!(totalUs >= 0 && totalUs <= Number.MAX_SAFE_INTEGER)) return isoTimeUncached(ts);
  const us = totalUs % 1000;
  const ms = (totalUs - us) / 1000;
  const msPart = ms % 1000;
  const second = (ms - msPart) / 1000;
  if (second !== isoSecond) {
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 20); // YYYY-MM-DDTHH:MM:SS.
    isoSecond = second;
  }
  return isoPrefix + pad3(msPart) + pad3(us) + 'Z';
}

/** The documented JSON shape of each event type (snake_case, stable: other tools read it). */
export function eventJson(ev: PipelineEvent): Record<string, unknown> | null {
  const base = { type: ev.type, ts: round6(ev.ts), time: isoTime(ev.ts) };
  switch (ev.type) {
    case 'auth_failure':
    case 'auth_success':
    case 'auth_tempfail':
      return {
        ...base,
        client: ev.client,
        client_port: ev.clientPort,
        server: ev.server,
        server_port: ev.serverPort,
        code: ev.code,
        mech: ev.mech,
        user: ev.user,
        text: ev.text,
        ...(ev.matched ? { matched: true } : {}),
        ...(ev.inferred ? inferredJson(ev.inferred) : {}),
      };
    case 'starttls':
      return { ...base, client: ev.client, client_port: ev.clientPort, server: ev.server, server_port: ev.serverPort, implicit: ev.implicit };
    case 'strike':
      return {
        ...base,
        client: ev.client,
        key: ev.key,
        n: ev.n,
        hitcount: ev.hitcount,
        ...(ev.inferred ? { inferred: true } : {}),
        source: ev.source,
        log: strikeLogLine(ev),
      };
    case 'reject':
      return { ...base, client: ev.client, key: ev.key, rule: ev.rule, log: strikeLogLine(ev) };
    case 'block':
      return {
        ...base,
        client: ev.client,
        key: ev.key,
        rule: ev.rule,
        from: round6(ev.from),
        until: round6(ev.until),
        until_time: isoTime(ev.until),
        level: ev.level,
      };
    default:
      return null; // connect / flow_end are internal
  }
}

/** An outcome inferred inside TLS: what it rests on (src/tls/auth-exchange.ts BASIS_* bits). */
function inferredJson(i: InferredBasis): Record<string, unknown> {
  return { inferred: true, basis: basisNames(i.basis), record_len: i.recordLen, delay_s: round6(i.delay), known_size: i.known };
}

export function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

// What JSON.stringify would escape in a string (and well-formed surrogate pairs, which it leaves:
// those few strings go through JSON.stringify itself).
// eslint-disable-next-line no-control-regex -- the C0 controls are what JSON.stringify escapes
const ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A string as JSON.stringify writes it. */
function jstr(s: string): string {
  return ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/** A number as JSON.stringify writes it. */
function jnum(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

let lastTs = NaN;
let lastTsText = '';

/**
 * `JSON.stringify(eventJson(ev))`, byte for byte (keys in the same order), without the object and
 * the generic walk: a tenth of the events' cost (test/replay-output.test.ts compares the two on
 * every shipped capture and on hostile texts). Null for the internal events.
 */
export function eventJsonLine(ev: PipelineEvent): string | null {
  if (ev.type === 'connect' || ev.type === 'flow_end') return null; // internal
  if (ev.ts !== lastTs) {
    // An AUTH failure, its strike and a block share their packet's time: formatted once.
    lastTsText = `,"ts":${jnum(round6(ev.ts))},"time":"${isoTime(ev.ts)}"`;
    lastTs = ev.ts;
  }
  const head = `{"type":"${ev.type}"${lastTsText},"client":${jstr(ev.client)}`;
  switch (ev.type) {
    case 'auth_failure':
    case 'auth_success':
    case 'auth_tempfail': {
      let s =
        `${head},"client_port":${jnum(ev.clientPort)},"server":${jstr(ev.server)},"server_port":${jnum(ev.serverPort)},"code":${jnum(ev.code)}` +
        `,"mech":${ev.mech === null ? 'null' : jstr(ev.mech)},"user":${ev.user === null ? 'null' : jstr(ev.user)},"text":${jstr(ev.text)}`;
      if (ev.matched) s += ',"matched":true';
      const i = ev.inferred;
      if (i) {
        s += `,"inferred":true,"basis":[${basisNames(i.basis).map(jstr).join(',')}],"record_len":${jnum(i.recordLen)},"delay_s":${jnum(round6(i.delay))},"known_size":${i.known ? 'true' : 'false'}`;
      }
      return `${s}}`;
    }
    case 'starttls':
      return `${head},"client_port":${jnum(ev.clientPort)},"server":${jstr(ev.server)},"server_port":${jnum(ev.serverPort)},"implicit":${ev.implicit ? 'true' : 'false'}}`;
    case 'strike':
      return (
        `${head},"key":${jstr(ev.key)},"n":${jnum(ev.n)},"hitcount":${jnum(ev.hitcount)}${ev.inferred ? ',"inferred":true' : ''}` +
        `,"source":${jstr(ev.source)},"log":${jstr(strikeLogLine(ev))}}`
      );
    case 'reject':
      return `${head},"key":${jstr(ev.key)},"rule":${jstr(ev.rule)},"log":${jstr(strikeLogLine(ev))}}`;
    case 'block':
      return (
        `${head},"key":${jstr(ev.key)},"rule":${jstr(ev.rule)},"from":${jnum(round6(ev.from))},"until":${jnum(round6(ev.until))}` +
        `,"until_time":"${isoTime(ev.until)}","level":${jnum(ev.level)}}`
      );
  }
}

/**
 * Streams events as JSON lines into `out` in ~256 KiB pieces (one string built by appending: no
 * array of lines to join). The writer is synchronous; the caller waits for the stream between
 * packets (replay.ts), so a slow reader holds the replay back instead of filling memory.
 */
export class JsonLinesWriter implements EventSink {
  private buf = '';
  constructor(private readonly out: { write(s: string): unknown }) {}

  event(ev: PipelineEvent): void {
    const l = eventJsonLine(ev);
    if (l === null) return;
    this.buf += `${l}\n`;
    if (this.buf.length > 262144) this.flush();
  }

  line(obj: unknown): void {
    this.buf += `${JSON.stringify(obj)}\n`;
    if (this.buf.length > 262144) this.flush();
  }

  flush(): void {
    if (this.buf.length === 0) return;
    this.out.write(this.buf);
    this.buf = '';
  }
}
