import type { EventSink, PipelineEvent } from '../events.js';
import type { Coverage, PipelineOptions } from '../pipeline.js';
import { countsOnlyLimits } from '../replay-output/client-tally.js';
import { replayFiles } from '../replay.js';
import type { FileReport } from '../source/capture-files.js';
import type { StrikeState } from '../strikes/strike-engine.js';
import { readState } from '../strike-state/state-file.js';
import { StringTable } from './columns.js';
import { CoverageBuilder, union } from './intervals.js';
import type { StateFileJson } from './report-doc.js';
import type { BlockInfo, Intervals, WireAuth } from './types.js';
import { WireAuths, WireSessions } from './wire-store.js';

/** Sessions without AUTH replies that went opaque are kept up to this many (a busy MX: every STARTTLS). */
export const MAX_OPAQUE_SESSIONS = 1_000_000;
/** AUTH outcomes kept from the wire (beyond: counted, not joined). */
export const MAX_WIRE_AUTHS = 5_000_000;

interface OpenFlow {
  client: string;
  clientPort: number;
  serverPort: number;
  start: number;
  tlsTs: number | null;
  implicitTls: boolean;
  successTs: number | null;
  auths: number;
}

/**
 * The report's end of the replay pipeline: AUTH outcomes (with username and session), the sessions
 * that matter to the join (those with AUTH replies and those gone opaque), and when the wire was
 * active (for coverage). Events arrive in packet-time order.
 */
export class WireCollector implements EventSink {
  private readonly clients = new StringTable();
  readonly auths = new WireAuths(this.clients);
  readonly sessions = new WireSessions(this.clients);
  authsNotKept = 0;
  opaqueNotKept = 0;
  opaqueTotal = 0;
  rejects = new Map<string, number>();
  private readonly open = new Map<number, OpenFlow>();
  private readonly activity: CoverageBuilder;
  lastTs = -Infinity;

  constructor(gap: number) {
    this.activity = new CoverageBuilder(gap);
  }

  event(ev: PipelineEvent): void {
    switch (ev.type) {
      case 'connect':
        this.activity.add(ev.ts);
        this.flow(ev.flow, ev.client, ev.clientPort, ev.serverPort, ev.ts);
        break;
      case 'starttls': {
        const f = this.flow(ev.flow, ev.client, ev.clientPort, ev.serverPort, ev.ts);
        f.tlsTs = ev.ts;
        f.implicitTls = ev.implicit;
        this.opaqueTotal++;
        break;
      }
      case 'auth_failure':
      case 'auth_success':
      case 'auth_tempfail': {
        this.activity.add(ev.ts);
        // The report joins what the wire read in the clear with the logs; an outcome inferred
        // inside TLS stays out of that join (the session remains an opaque one, which the logs
        // explain). replay and watch count inferred outcomes.
        if (ev.inferred) break; // counted in the capture's coverage (`inferred`)
        const f = this.flow(ev.flow, ev.client, ev.clientPort, ev.serverPort, ev.ts);
        f.auths++;
        const outcome = ev.type === 'auth_failure' ? 'failure' : ev.type === 'auth_success' ? 'success' : 'tempfail';
        if (outcome === 'success' && f.successTs === null) f.successTs = ev.ts;
        if (this.auths.size < MAX_WIRE_AUTHS) {
          this.auths.push({ ts: ev.ts, client: ev.client, outcome, user: ev.user, mech: ev.mech, serverPort: ev.serverPort, flow: ev.flow, source: 'capture' });
        } else this.authsNotKept++;
        break;
      }
      case 'flow_end': {
        this.activity.add(ev.ts);
        this.close(ev.flow, ev.ts);
        break;
      }
      case 'reject':
        this.rejects.set(ev.client, (this.rejects.get(ev.client) ?? 0) + 1);
        break;
      default:
        break;
    }
    if (ev.ts > this.lastTs) this.lastTs = ev.ts;
  }

  private flow(id: number, client: string, clientPort: number, serverPort: number, ts: number): OpenFlow {
    let f = this.open.get(id);
    if (!f) {
      f = { client, clientPort, serverPort, start: ts, tlsTs: null, implicitTls: false, successTs: null, auths: 0 };
      this.open.set(id, f);
    }
    return f;
  }

  private close(id: number, ts: number): void {
    const f = this.open.get(id);
    if (!f) return;
    this.open.delete(id);
    if (f.auths === 0 && f.tlsTs === null) return;
    if (f.auths === 0 && this.sessions.size >= MAX_OPAQUE_SESSIONS) {
      this.opaqueNotKept++;
      return;
    }
    this.sessions.push({
      flow: id,
      client: f.client,
      clientPort: f.clientPort,
      serverPort: f.serverPort,
      start: f.start,
      end: Math.max(ts, f.start),
      tlsTs: f.tlsTs,
      implicitTls: f.implicitTls,
      successTs: f.successTs,
    });
  }

  /** Closes what is still open (flows the pipeline never ended) at `ts`. */
  finish(ts: number): void {
    for (const id of [...this.open.keys()]) this.close(id, ts);
  }

  coverage(first: number | null, last: number | null): Intervals {
    const iv = this.activity.result();
    if (first !== null && last !== null) {
      if (iv.length === 0) return [[first, last]];
      iv[0]![0] = Math.min(iv[0]![0], first);
      iv[iv.length - 1]![1] = Math.max(iv[iv.length - 1]![1], last);
    }
    return iv;
  }
}

export interface WireData {
  /** AUTH outcomes, in time order (columns: wire-store.ts). */
  auths: WireAuths;
  /** Sessions with AUTH replies or gone opaque, in the order they ended. */
  sessions: WireSessions;
  blocks: BlockInfo[];
  coverage: Intervals;
  captures: FileReport[];
  captureCoverage: Coverage | null;
  /** The watch state file read, as the report's JSON lists it. */
  state: StateFileJson | null;
  opaqueTotal: number;
  opaqueNotKept: number;
  authsNotKept: number;
  /** Connections the strike rules refused, per client. */
  rejects: Map<string, number>;
}

export function emptyWire(): WireData {
  const clients = new StringTable();
  return {
    auths: new WireAuths(clients),
    sessions: new WireSessions(clients),
    blocks: [],
    coverage: [],
    captures: [],
    captureCoverage: null,
    state: null,
    opaqueTotal: 0,
    opaqueNotKept: 0,
    authsNotKept: 0,
    rejects: new Map(),
  };
}

/** Replays capture files through the whole pipeline (same strike rules as replay and watch). */
export async function readCaptures(files: string[], options: PipelineOptions, gap: number): Promise<WireData> {
  const col = new WireCollector(gap);
  const r = await replayFiles(files, options, col, undefined, countsOnlyLimits);
  const c = r.coverage;
  col.finish(c.last_ts ?? col.lastTs);
  const w = emptyWire();
  w.auths = col.auths;
  w.sessions = col.sessions;
  w.blocks = r.blocks.map((b) => ({
    key: b.key,
    client: b.client,
    rule: b.rule,
    from: b.from,
    until: b.until,
    rejects: b.rejects,
    level: b.level,
    source: 'capture',
  }));
  w.coverage = col.coverage(c.first_ts, c.last_ts);
  w.captures = r.files;
  w.captureCoverage = c;
  w.opaqueTotal = col.opaqueTotal;
  w.opaqueNotKept = col.opaqueNotKept;
  w.authsNotKept = col.authsNotKept;
  w.rejects = col.rejects;
  return w;
}

/**
 * A watch state file: per address (or IPv6 prefix) the failure stamps still inside the strike
 * window when it was saved (at most --hitcount of them; a refused SYN tags one too) and the block
 * standing then. A lower bound of what the wire saw, without usernames.
 */
export function readStateFile(file: string): { state: StrikeState; auths: WireAuth[]; blocks: BlockInfo[]; coverage: Intervals } {
  const state = readState(file);
  if (!state) throw new Error(`${file}: no such file`);
  const auths: WireAuth[] = [];
  const blocks: BlockInfo[] = [];
  let first = state.saved_at;
  for (const e of state.entries) {
    for (const t of e.auth) {
      auths.push({ ts: t, client: e.key, outcome: 'failure', user: null, mech: null, serverPort: 0, flow: -1, source: 'state' });
      if (t < first) first = t;
    }
    if (e.block) {
      blocks.push({
        key: e.key,
        client: e.block.client,
        rule: e.block.rule,
        from: e.block.from,
        until: e.block.until,
        rejects: e.block.rejects,
        level: e.block.level ?? 0,
        source: 'state',
      });
      if (e.block.from < first) first = e.block.from;
    }
  }
  auths.sort((a, b) => a.ts - b.ts);
  return { state, auths, blocks, coverage: [[first, state.saved_at]] };
}

/** Adds a state file to what the captures saw; stamps the captures already hold are not counted twice. */
export function mergeState(w: WireData, file: string): void {
  const s = readStateFile(file);
  const seen = new Set<string>();
  const { auths } = w;
  for (let i = 0; i < auths.size; i++)
    if (auths.outcomeAt(i) !== 'success') seen.add(`${auths.clients.list[auths.clientIdAt(i)]!} ${Math.round(auths.tsAt(i) * 1000)}`);
  let stamps = 0;
  for (const a of s.auths) {
    if (seen.has(`${a.client} ${Math.round(a.ts * 1000)}`)) continue;
    auths.push(a);
    stamps++;
  }
  auths.sortByTime();
  const have = new Set(w.blocks.map((b) => `${b.key} ${b.from}`));
  for (const b of s.blocks) if (!have.has(`${b.key} ${b.from}`)) w.blocks.push(b);
  w.coverage = union(w.coverage, s.coverage);
  w.state = { file, saved_at: s.state.saved_at, entries: s.state.entries.length, failure_stamps: stamps, blocks: s.blocks.length };
}
