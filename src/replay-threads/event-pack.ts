import {
  NO_WIRE,
  type AuthEvent,
  type BlockEvent,
  type PipelineEvent,
  type RejectEvent,
  type StartTlsEvent,
  type StrikeEvent,
  type WireSnapshot,
} from '../events.js';

/**
 * The events a shard sends back, packed into one flat array of numbers, strings and nulls: a
 * structured clone of objects writes every property name of every object, which cost the main
 * thread more than the whole pipeline behind it (native-notes/replay-threads.md). The types and
 * their fields, in order, are the ones the tally and the output read; `connect` and `flow_end` are
 * never sent (neither reads them).
 */
export type Packed = (number | string | boolean | null)[];

const AUTH_FAILURE = 0;
const AUTH_SUCCESS = 1;
const AUTH_TEMPFAIL = 2;
const STARTTLS = 3;
const STRIKE = 4;
const REJECT = 5;
const BLOCK = 6;

/** Appends one event; false when it is of a type that is not sent. */
export function pack(ev: PipelineEvent, out: Packed): boolean {
  switch (ev.type) {
    case 'auth_failure':
    case 'auth_success':
    case 'auth_tempfail': {
      const t = ev.type === 'auth_failure' ? AUTH_FAILURE : ev.type === 'auth_success' ? AUTH_SUCCESS : AUTH_TEMPFAIL;
      out.push(t, ev.ts, ev.flow, ev.client, ev.clientPort, ev.server, ev.serverPort, ev.code, ev.mech, ev.user, ev.text, ev.matched);
      const i = ev.inferred;
      if (i === null) out.push(null);
      else out.push(i.basis, i.recordLen, i.delay, i.known);
      packWire(ev.wire, out);
      return true;
    }
    case 'starttls':
      out.push(STARTTLS, ev.ts, ev.flow, ev.client, ev.clientPort, ev.server, ev.serverPort, ev.implicit);
      return true;
    case 'strike':
      out.push(STRIKE, ev.ts, ev.client, ev.key, ev.n, ev.hitcount, ev.prefix, ev.inferred, ev.source);
      packWire(ev.wire, out);
      return true;
    case 'reject': {
      out.push(REJECT, ev.ts, ev.client, ev.key, ev.rule, ev.prefix);
      const b = ev.block;
      if (b === null) out.push(null);
      else out.push(b.level, b.until);
      packWire(ev.wire, out);
      return true;
    }
    case 'block':
      out.push(BLOCK, ev.ts, ev.client, ev.key, ev.rule, ev.from, ev.until, ev.level);
      return true;
    default:
      return false;
  }
}

function packWire(w: WireSnapshot, out: Packed): void {
  out.push(w.ipVersion, w.src, w.dst, w.ipLen, w.tos, w.ttl, w.ipId, w.df, w.flowLabel, w.sport, w.dport, w.window, w.tcpFlags, w.iface);
}

/** Reads packed events back, in order. */
export class Unpacker {
  private p = 0;
  constructor(private readonly a: Packed) {}

  get done(): boolean {
    return this.p >= this.a.length;
  }

  private n(): number {
    return this.a[this.p++] as number;
  }
  private s(): string {
    return this.a[this.p++] as string;
  }
  private sn(): string | null {
    return this.a[this.p++] as string | null;
  }
  private b(): boolean {
    return this.a[this.p++] as boolean;
  }

  next(): PipelineEvent {
    const t = this.n();
    switch (t) {
      case AUTH_FAILURE:
      case AUTH_SUCCESS:
      case AUTH_TEMPFAIL: {
        const ev: AuthEvent = {
          ts: this.n(),
          flow: this.n(),
          client: this.s(),
          clientPort: this.n(),
          server: this.s(),
          serverPort: this.n(),
          type: t === AUTH_FAILURE ? 'auth_failure' : t === AUTH_SUCCESS ? 'auth_success' : 'auth_tempfail',
          code: this.n(),
          mech: this.sn(),
          user: this.sn(),
          text: this.s(),
          matched: this.b(),
          inferred: null,
          wire: NO_WIRE,
        };
        if (this.a[this.p] === null) this.p++;
        else ev.inferred = { basis: this.n(), recordLen: this.n(), delay: this.n(), known: this.b() };
        ev.wire = this.wire();
        return ev;
      }
      case STARTTLS: {
        const ev: StartTlsEvent = {
          type: 'starttls',
          ts: this.n(),
          flow: this.n(),
          client: this.s(),
          clientPort: this.n(),
          server: this.s(),
          serverPort: this.n(),
          implicit: this.b(),
        };
        return ev;
      }
      case STRIKE: {
        const ev: StrikeEvent = {
          type: 'strike',
          ts: this.n(),
          client: this.s(),
          key: this.s(),
          n: this.n(),
          hitcount: this.n(),
          prefix: this.s(),
          inferred: this.b(),
          source: this.s() as StrikeEvent['source'],
          wire: NO_WIRE,
        };
        ev.wire = this.wire();
        return ev;
      }
      case REJECT: {
        const ev: RejectEvent = {
          type: 'reject',
          ts: this.n(),
          client: this.s(),
          key: this.s(),
          rule: this.s() as RejectEvent['rule'],
          prefix: this.s(),
          wire: NO_WIRE,
          block: null,
        };
        if (this.a[this.p] === null) this.p++;
        else ev.block = { level: this.n(), until: this.n() };
        ev.wire = this.wire();
        return ev;
      }
      case BLOCK: {
        const ev: BlockEvent = {
          type: 'block',
          ts: this.n(),
          client: this.s(),
          key: this.s(),
          rule: this.s() as BlockEvent['rule'],
          from: this.n(),
          until: this.n(),
          level: this.n(),
        };
        return ev;
      }
      default:
        throw new Error(`packed event of unknown type ${t}`);
    }
  }

  private wire(): WireSnapshot {
    return {
      ipVersion: this.n() as 4 | 6,
      src: this.s(),
      dst: this.s(),
      ipLen: this.n(),
      tos: this.n(),
      ttl: this.n(),
      ipId: this.n(),
      df: this.b(),
      flowLabel: this.n(),
      sport: this.n(),
      dport: this.n(),
      window: this.n(),
      tcpFlags: this.n(),
      iface: this.s(),
    };
  }
}
