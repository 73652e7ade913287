/** One hand-made outcome for the tally's tests (test/client-counts-json.test.ts, test/client-handoff.test.ts). */
import type { AuthEvent, AuthOutcome } from '../../src/events.js';
import { synSnapshot } from './wire-snapshot.js';

export function authOutcome(type: AuthOutcome, client: string, user: string | null, inferred = false): AuthEvent {
  return {
    type,
    ts: 1_700_000_000,
    flow: 1,
    client,
    clientPort: 40000,
    server: '192.0.2.1',
    serverPort: 25,
    code: type === 'auth_failure' ? 535 : type === 'auth_success' ? 235 : 454,
    mech: 'PLAIN',
    user,
    text: '',
    matched: false,
    inferred: inferred ? { basis: 0, recordLen: 0, delay: 0, known: true } : null,
    wire: { ...synSnapshot(40000), src: '192.0.2.1', dst: client, sport: 25, ttl: 0, ipLen: 0, df: false, tcpFlags: 0 },
  };
}
