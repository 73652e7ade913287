import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuthEvent, AuthOutcome } from '../src/events.js';
import { ReplayTally } from '../src/replay-output/client-tally.js';
import { synSnapshot } from './support/wire-snapshot.js';

function auth(type: AuthOutcome, client: string, user: string | null, inferred = false): AuthEvent {
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

test("countsJson is JSON.stringify(countsOf): usernames in sort()'s order, escaped as JSON.stringify does, also after more names arrive", () => {
  const tally = new ReplayTally(null);
  // Names that sort differently by code unit than by locale or case, and ones JSON must escape.
  const names = ['bob', 'Bob', 'alice', 'Zoe', 'é', 'e\u0301', '"quoted"', 'back\\slash', 'tab\there', 'ctl\u0001', '\ud800lone', '😀', 'admin', ''];
  const clients = ['10.0.0.1', '10.0.0.2', '2001:db8::1', '10.0.0.3', '10.0.0.4'];
  const outcomes: AuthOutcome[] = ['auth_failure', 'auth_success', 'auth_tempfail'];
  let k = 0;
  for (const c of clients.slice(0, 3)) for (const n of names) tally.event(auth(outcomes[k++ % 3]!, c, c.endsWith('2') && n === 'bob' ? null : n, k % 5 === 0));
  tally.event(auth('auth_failure', '10.0.0.3', 'only-one'));
  tally.event(auth('auth_failure', '10.0.0.4', null));
  const check = (): void => {
    for (let r = 0; r < tally.clients.size; r++) assert.equal(tally.countsJson(r), JSON.stringify(tally.countsOf(r)), tally.clients.ipOf(r));
  };
  check();
  // New names after the order was made: it is made again.
  tally.event(auth('auth_failure', '10.0.0.1', 'aaa-new'));
  tally.event(auth('auth_failure', '10.0.0.3', 'Aaa'));
  check();
  assert.match(tally.countsJson(0), /"users":\["\\"quoted\\"","Bob","Zoe","aaa-new",/);
});
