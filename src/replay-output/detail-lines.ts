import type { AuthEvent, RejectEvent, StrikeEvent } from '../events.js';
import { strikeLogLine } from '../strikes/iptables-log.js';
import { escapeControl } from '../text/control-chars.js';
import { basisNames } from '../tls/auth-exchange.js';
import { LineStore } from './line-store.js';

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** localTime without the cache: the definition the cached one must equal. */
export function localTimeUncached(ts: number): string {
  const totalUs = Math.round(ts * 1e6);
  const us = totalUs % 1_000_000;
  const d = new Date((totalUs - us) / 1000);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(us, 6)}`;
}

// The last second formatted: events come in time order, so most lines reuse it (a Date and six
// local-time getters per line were a tenth of the text report's time).
let cachedSecond = NaN;
let cachedPrefix = '';

/**
 * `YYYY-MM-DD HH:MM:SS.ffffff` in local time (as tcpdump prints; set TZ=UTC for UTC). One epoch
 * second is one local time, so the text up to the dot is cached per second; the process's zone is
 * read once at start (a TZ changed later is not followed).
 */
export function localTime(ts: number): string {
  const totalUs = Math.round(ts * 1e6);
  if (!(totalUs >= 0 && totalUs <= Number.MAX_SAFE_INTEGER)) return localTimeUncached(ts);
  const us = totalUs % 1_000_000;
  const second = (totalUs - us) / 1_000_000;
  if (second !== cachedSecond) {
    const d = new Date(second * 1000);
    cachedPrefix = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.`;
    cachedSecond = second;
  }
  return cachedPrefix + String(us).padStart(6, '0');
}

/** One AUTH outcome as the text report lists it under its client. */
export function authDetailLine(e: AuthEvent): string {
  if (e.inferred) {
    const basis = basisNames(e.inferred.basis).join(' + ');
    return `  ${localTime(e.ts)}  ${e.code}  ${e.client}:${e.clientPort} > ${e.server}:${e.serverPort}  inferred inside TLS: record ${e.inferred.recordLen} bytes, ${e.inferred.delay.toFixed(3)} s after the client (${basis})`;
  }
  const who = e.user ? ` user ${escapeControl(e.user)}` : '';
  return `  ${localTime(e.ts)}  ${e.code}  ${e.client}:${e.clientPort} > ${e.server}:${e.serverPort}  ${e.mech === null ? 'AUTH ?' : escapeControl(e.mech)}${who}  "${escapeControl(e.text)}"`;
}

/** One line of the text report's strike log. */
export function strikeDetailLine(e: StrikeEvent | RejectEvent): string {
  return `  ${localTime(e.ts)}  ${strikeLogLine(e)}`;
}

/**
 * The text report's detail lines per client, made when the event comes (events are not kept):
 * each row's lines are a list through `next`, in the table's LineStore.
 */
export class DetailLines {
  readonly store = new LineStore();
  next: Int32Array = new Int32Array(1024);
  head: Int32Array;
  tail: Int32Array;
  count: Uint32Array;
  constructor(rows: number) {
    this.head = new Int32Array(rows).fill(-1);
    this.tail = new Int32Array(rows);
    this.count = new Uint32Array(rows);
  }
  grow(rows: number): void {
    const h = new Int32Array(rows).fill(-1);
    h.set(this.head);
    this.head = h;
    const t = new Int32Array(rows);
    t.set(this.tail);
    this.tail = t;
    const c = new Uint32Array(rows);
    c.set(this.count);
    this.count = c;
  }
  add(row: number, line: string): void {
    const id = this.store.add(line);
    if (id >= this.next.length) {
      const n = new Int32Array(2 * this.next.length);
      n.set(this.next);
      this.next = n;
    }
    this.next[id] = -1;
    if (this.head[row] === -1) this.head[row] = id;
    else this.next[this.tail[row]!] = id;
    this.tail[row] = id;
    this.count[row]!++;
  }
  linesOf(row: number): string[] {
    const out: string[] = [];
    for (let id = this.head[row]!; id !== -1; id = this.next[id]!) out.push(this.store.line(id));
    return out;
  }
}
