/** What the JSON-line tests start from: one real auth failure and strike, and the UTF-16 units that are hard to write as JSON. */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { AuthEvent, StrikeEvent } from '../../src/events.js';
import { defaultPipelineOptions } from '../../src/pipeline.js';
import { replayFiles } from '../../src/replay.js';
import { EventLog } from './synth.js';

/** The first auth failure and strike of the testbed's AUTH LOGIN capture. */
export async function sampleAuthAndStrike(): Promise<{ auth: AuthEvent; strike: StrikeEvent }> {
  const log = new EventLog();
  await replayFiles(['pcaps/testbed/login-587.pcap'], defaultPipelineOptions(), log);
  const auth = log.events.find((e): e is AuthEvent => e.type === 'auth_failure');
  const strike = log.events.find((e): e is StrikeEvent => e.type === 'strike');
  assert.ok(auth && strike);
  return { auth, strike };
}

/** One UTF-16 unit or pair: quotes, backslashes, controls, U+2028, lone surrogates, a pair, any unit. */
export const hostileUnit = fc.oneof(
  fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\u2028', '\ud800', '\udfff', '\ud83d\ude00', 'é', '/'),
  fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n)),
);
