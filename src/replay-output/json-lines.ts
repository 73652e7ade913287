import type { EventSink, InferredBasis, PipelineEvent } from '../events.js';
import { basisNames } from '../tls/auth-exchange.js';
import { strikeLogLine } from '../strikes/iptables-log.js';

/** ISO 8601 UTC with microseconds, from packet seconds. */
export function isoTime(ts: number): string {
  const totalUs = Math.round(ts * 1e6);
  const us = totalUs % 1000;
  return new Date((totalUs - us) / 1000).toISOString().replace('Z', `${String(us).padStart(3, '0')}Z`);
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

/** Streams events as JSON lines, batching writes (one write per ~64 KiB). */
export class JsonLinesWriter implements EventSink {
  private parts: string[] = [];
  private size = 0;
  constructor(private readonly out: { write(s: string): unknown }) {}

  event(ev: PipelineEvent): void {
    const j = eventJson(ev);
    if (j) this.line(j);
  }

  line(obj: unknown): void {
    const s = JSON.stringify(obj) + '\n';
    this.parts.push(s);
    this.size += s.length;
    if (this.size > 65536) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    this.out.write(this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }
}
