/**
 * Hand-made pipeline events for the strike engine's unit tests (test/strikes.test.ts,
 * test/escalation.test.ts): a SYN, a 535 on it, their LOG-line snapshots, and an engine that
 * records what it emits.
 */
import type { AuthEvent, ConnectEvent, WireSnapshot } from '../../src/events.js';
import { defaultStrikeOptions, StrikeEngine, type StrikeOptions } from '../../src/strikes/strike-engine.js';
import { EventLog } from './synth.js';

export const wire = (src: string, dst: string): WireSnapshot => ({
  ipVersion: src.includes(':') ? 6 : 4,
  src,
  dst,
  ipLen: 60,
  tos: 0,
  ttl: 64,
  ipId: 1,
  df: true,
  flowLabel: 0,
  sport: 40000,
  dport: 25,
  window: 64240,
  tcpFlags: 0x02,
  iface: '',
});

let flowId = 1;
/** A flow number no other event of the test run has. */
export const nextFlow = (): number => flowId++;

export const fail = (client: string, ts: number, flow = nextFlow()): AuthEvent => ({
  type: 'auth_failure',
  ts,
  flow,
  client,
  clientPort: 40000,
  server: '192.0.2.25',
  serverPort: 25,
  code: 535,
  mech: 'LOGIN',
  user: 'x',
  text: '535 no',
  matched: false,
  inferred: null,
  wire: wire('192.0.2.25', client),
});

export const syn = (client: string, ts: number, flow = nextFlow()): ConnectEvent => ({
  type: 'connect',
  ts,
  flow,
  client,
  clientPort: 40000,
  server: '192.0.2.25',
  serverPort: 25,
  wire: wire(client, '192.0.2.25'),
});

export function engine(tweak?: (o: StrikeOptions) => void): { e: StrikeEngine; log: EventLog } {
  const o = defaultStrikeOptions();
  tweak?.(o);
  const log = new EventLog();
  return { e: new StrikeEngine(o, log), log };
}
