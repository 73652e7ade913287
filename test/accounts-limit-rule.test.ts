/**
 * The accounts `--limit` rule (src/accounts/limit-rule.ts), shared by `smtpstrike accounts` and
 * the report's SUSPECT verdict, at its edges: N > 0, 0, -N, whitelisted addresses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listedByLimit } from '../src/accounts/limit-rule.js';

const WL = new Set(['10.0.0.1', '10.0.0.2']);
const isWl = (ip: string): boolean => WL.has(ip);

test('limit N > 0: at least N addresses that are not whitelisted; only those shown', () => {
  assert.deepEqual(listedByLimit(2, ['192.0.2.1', '192.0.2.2'], isWl), ['192.0.2.1', '192.0.2.2'], 'exactly N');
  assert.equal(listedByLimit(3, ['192.0.2.1', '192.0.2.2'], isWl), null, 'N - 1');
  assert.equal(listedByLimit(2, ['192.0.2.1', '10.0.0.1'], isWl), null, 'a whitelisted address does not count');
  assert.deepEqual(listedByLimit(2, ['192.0.2.1', '10.0.0.1', '192.0.2.2'], isWl), ['192.0.2.1', '192.0.2.2'], 'nor is it shown');
  assert.deepEqual(listedByLimit(1, ['192.0.2.1'], isWl), ['192.0.2.1']);
});

test('limit 0: any address that is not whitelisted', () => {
  assert.deepEqual(listedByLimit(0, ['192.0.2.1'], isWl), ['192.0.2.1']);
  assert.deepEqual(listedByLimit(0, ['10.0.0.1', '192.0.2.1'], isWl), ['192.0.2.1']);
  assert.equal(listedByLimit(0, ['10.0.0.1', '10.0.0.2'], isWl), null, 'whitelisted only');
  assert.equal(listedByLimit(0, [], isWl), null, 'no address');
});

test('limit -N: at least N addresses, whitelisted ones counted and shown', () => {
  assert.deepEqual(listedByLimit(-2, ['10.0.0.1', '192.0.2.1'], isWl), ['10.0.0.1', '192.0.2.1']);
  assert.deepEqual(listedByLimit(-2, ['10.0.0.1', '10.0.0.2'], isWl), ['10.0.0.1', '10.0.0.2'], 'whitelisted only, still listed');
  assert.equal(listedByLimit(-3, ['10.0.0.1', '192.0.2.1'], isWl), null, 'N - 1');
  assert.deepEqual(listedByLimit(-1, ['10.0.0.1'], isWl), ['10.0.0.1']);
});

test('limit: too few addresses are refused before any whitelist test (it may look up GeoIP); the input is not changed', () => {
  let asked = 0;
  const counting = (ip: string): boolean => (asked++, isWl(ip));
  const input = ['192.0.2.1', '10.0.0.1'];
  assert.equal(listedByLimit(3, input, counting), null);
  assert.equal(listedByLimit(-3, input, counting), null);
  assert.equal(asked, 0);
  const shown = listedByLimit(-2, input, counting);
  assert.notEqual(shown, input);
  assert.deepEqual(input, ['192.0.2.1', '10.0.0.1']);
});
