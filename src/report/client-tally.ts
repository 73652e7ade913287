import type { AuthEvent, EventSink, PipelineEvent, RejectEvent, StrikeEvent } from '../events.js';

export interface ClientCounts {
  failures: number;
  successes: number;
  tempfails: number;
  users: string[];
}

/** Per-client counts plus a capped sample of its events for the text report. */
export class ClientTally {
  failures = 0;
  successes = 0;
  tempfails = 0;
  readonly users = new Set<string>();
  readonly events: AuthEvent[] = [];
  eventsNotKept = 0;
}

export interface TallyLimits {
  /** Clients tracked at most (an attack from millions of addresses must not exhaust memory). */
  maxClients: number;
  /** Auth events kept per client for the text report. */
  eventsPerClient: number;
  /** Strike/reject log lines kept for the text report. */
  logLines: number;
  /** Distinct usernames kept per client. */
  usersPerClient: number;
}

export const defaultTallyLimits: TallyLimits = { maxClients: 1_000_000, eventsPerClient: 50, logLines: 100_000, usersPerClient: 100 };

/** For outputs that print no event detail (JSON summary, streamed JSON): counts only. */
export const countsOnlyLimits: TallyLimits = { ...defaultTallyLimits, eventsPerClient: 0, logLines: 0 };

/**
 * The end of the pipeline for `replay`: counts per client, keeps what the text report prints and
 * passes every event on to an optional streaming writer (JSON lines).
 */
export class ReplayTally implements EventSink {
  readonly clients = new Map<string, ClientTally>();
  readonly log: (StrikeEvent | RejectEvent)[] = [];
  totals = { failures: 0, successes: 0, tempfails: 0, starttls: 0, strikes: 0, rejects: 0, blocks: 0 };
  clientsNotTracked = 0;
  logLinesNotKept = 0;

  constructor(private readonly next: EventSink | null, readonly limits: TallyLimits = defaultTallyLimits) {}

  event(ev: PipelineEvent): void {
    switch (ev.type) {
      case 'auth_failure':
      case 'auth_success':
      case 'auth_tempfail': {
        if (ev.type === 'auth_failure') this.totals.failures++;
        else if (ev.type === 'auth_success') this.totals.successes++;
        else this.totals.tempfails++;
        const t = this.tally(ev.client);
        if (!t) break;
        if (ev.type === 'auth_failure') t.failures++;
        else if (ev.type === 'auth_success') t.successes++;
        else t.tempfails++;
        if (ev.user && t.users.size < this.limits.usersPerClient) t.users.add(ev.user);
        if (t.events.length < this.limits.eventsPerClient) t.events.push(ev);
        else t.eventsNotKept++;
        break;
      }
      case 'starttls':
        this.totals.starttls++;
        break;
      case 'strike':
      case 'reject':
      case 'block':
        if (ev.type === 'strike') this.totals.strikes++;
        else if (ev.type === 'reject') this.totals.rejects++;
        else this.totals.blocks++;
        if (ev.type !== 'block') {
          if (this.log.length < this.limits.logLines) this.log.push(ev);
          else this.logLinesNotKept++;
        }
        break;
      default:
        break;
    }
    this.next?.event(ev);
  }

  private tally(client: string): ClientTally | null {
    let t = this.clients.get(client);
    if (!t) {
      if (this.clients.size >= this.limits.maxClients) {
        this.clientsNotTracked++;
        return null;
      }
      t = new ClientTally();
      this.clients.set(client, t);
    }
    return t;
  }

  counts(): Record<string, ClientCounts> {
    const out: Record<string, ClientCounts> = {};
    for (const [ip, t] of this.clients) {
      out[ip] = { failures: t.failures, successes: t.successes, tempfails: t.tempfails, users: [...t.users].sort() };
    }
    return out;
  }
}
