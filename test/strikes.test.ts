import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressSet, strikeKey } from '../src/strikes/address-key.js';
import { iptablesLogLine } from '../src/strikes/iptables-log.js';
import { EventLog } from './support/synth.js';
import { engine, fail, syn, wire } from './support/strike-events.js';

const lines = (log: EventLog): string[] => log.events.flatMap((e) => (e.type === 'strike' || e.type === 'reject' ? [e.prefix] : []));

test('the seed rules: Strike 1..3, then NEW connections get Go AWAY and keep the address blocked', () => {
  const { e, log } = engine();
  const c = '198.51.100.1';
  e.event(fail(c, 0));
  e.event(fail(c, 100));
  e.event(fail(c, 200));
  e.event(syn(c, 300));
  e.event(syn(c, 1290)); // hits 100, 200, 300 (the refused SYN was tagged again) are inside 1200 s
  assert.equal(e.isBlocked(c, 1400), true);
  e.event(syn(c, 1401)); // hits 300, 1290 only: let through
  assert.deepEqual(lines(log), [
    'SMTP_AUTH_FAIL: Strike 1:',
    'SMTP_AUTH_FAIL: Strike 2:',
    'SMTP_AUTH_FAIL: Strike 3:',
    'SMTP_AUTH_REJECTED: Go AWAY:',
    'SMTP_AUTH_REJECTED: Go AWAY:',
  ]);
  assert.equal(e.blocks.length, 1);
  assert.equal(e.blocks[0]!.from, 200);
  // until = oldest of the newest 3 hits (200, 300, 1290) + 1200
  assert.equal(e.blocks[0]!.until, 200 + 1200);
  assert.equal(e.blocks[0]!.rejects, 2);
  assert.equal(e.isBlocked(c, 1401), false);
});

test('the window is inclusive as in xt_recent: a hit exactly `seconds` old still counts', () => {
  const { e, log } = engine();
  const c = '198.51.100.2';
  e.event(fail(c, 0));
  e.event(fail(c, 1200)); // exactly 1200 s later: the first hit is still in the window
  e.event(fail(c, 1201)); // now it has left
  e.event(fail(c, 2401)); // 1200 s after 1201: 1201 and 2401 count
  assert.deepEqual(
    log.of('strike').map((s) => s.n),
    [1, 2, 2, 2],
  );
  assert.equal(e.blocks.length, 0);
});

test('6 new connections within 60 s: SMTP Brute Force Attempt from the 6th on', () => {
  const { e, log } = engine();
  const c = '198.51.100.3';
  for (let i = 0; i < 8; i++) e.event(syn(c, i * 5));
  assert.deepEqual(lines(log), ['SMTP Brute Force Attempt:', 'SMTP Brute Force Attempt:', 'SMTP Brute Force Attempt:']);
  assert.equal(e.blocks[0]!.rule, 'conn');
  assert.equal(e.blocks[0]!.from, 25);
  assert.equal(e.blocks[0]!.until, 10 + 60); // newest 6 SYNs are 10..35
  assert.equal(e.isBlocked(c, 70), true);
  assert.equal(e.isBlocked(c, 71), false);
});

test('a connection-rule block counts every refused connection, the one that started it included', () => {
  const { e, log } = engine();
  const c = '198.51.100.5';
  for (let i = 0; i < 8; i++) e.event(syn(c, i * 5));
  assert.equal(log.of('reject').length, 3);
  assert.equal(e.blocks.length, 1);
  assert.equal(e.blocks[0]!.rejects, 3);
  assert.equal(e.stats.rejects, 3);
});

test('failures on a refused connection strike nothing (they would never have happened)', () => {
  const { e, log } = engine();
  const c = '198.51.100.4';
  e.event(fail(c, 0));
  e.event(fail(c, 1));
  e.event(fail(c, 2));
  e.event(syn(c, 3, 999));
  e.event(fail(c, 4, 999));
  assert.equal(log.of('strike').length, 3);
  assert.equal(e.stats.failuresOnRejectedConnections, 1);
});

test('whitelisted networks are never counted nor blocked', () => {
  const { e, log } = engine((o) => o.whitelist.add('203.0.113.0/24'));
  for (let i = 0; i < 10; i++) {
    e.event(fail('203.0.113.7', i));
    e.event(syn('203.0.113.7', i));
  }
  assert.equal(log.of('strike').length, 0);
  assert.equal(log.of('reject').length, 0);
  assert.equal(e.blocks.length, 0);
  assert.equal(log.of('auth_failure').length, 10, 'the failures are still reported');
});

test('IPv6 clients aggregate per /64 by default', () => {
  const { e, log } = engine();
  e.event(fail('2001:db8:1::1', 0));
  e.event(fail('2001:db8:1::2', 1));
  e.event(fail('2001:db8:1:0:ffff::3', 2));
  e.event(fail('2001:db8:2::1', 3));
  assert.deepEqual(
    log.of('strike').map((s) => `${s.key} ${s.n}`),
    ['2001:db8:1::/64 1', '2001:db8:1::/64 2', '2001:db8:1::/64 3', '2001:db8:2::/64 1'],
  );
  assert.equal(strikeKey('::ffff:198.51.100.9', 64), '198.51.100.9');
  assert.equal(strikeKey('2001:db8::1', 128), '2001:db8::1');
});

test('a full table drops idle entries first, then unblocked ones, and blocked ones last', () => {
  const { e } = engine((o) => (o.maxEntries = 100));
  // 5 blocked addresses
  for (let b = 0; b < 5; b++) for (let i = 0; i < 3; i++) e.event(fail(`198.51.100.${b}`, i));
  // 200 one-off addresses much later: the blocked ones must survive, idle ones go without loss
  for (let i = 0; i < 200; i++) e.event(fail(`10.1.${i >> 8}.${i & 255}`, 10 + i));
  for (let b = 0; b < 5; b++) assert.equal(e.isBlocked(`198.51.100.${b}`, 300), true, `198.51.100.${b} still blocked`);
  assert.ok(e.entries <= 100);
  assert.ok(e.stats.evictedStriking > 0);
  assert.equal(e.stats.evictedBlocked, 0);
});

test('whitelist parsing rejects garbage with the reason', () => {
  const s = new AddressSet();
  assert.throws(() => s.add('10.0.0.0/33'), /prefix/);
  assert.throws(() => s.add('not-an-ip'), /not an IP/);
  s.add('2001:db8::/32');
  assert.ok(s.has('2001:db8:ffff::1'));
  assert.ok(!s.has('2001:db9::1'));
});

test('iptables LOG line layout (IPv4 and IPv6)', () => {
  assert.equal(
    iptablesLogLine('SMTP_AUTH_FAIL: Strike 1:', { ...wire('192.0.2.25', '198.51.100.1'), sport: 25, dport: 40000, tcpFlags: 0x18, ipLen: 102 }, false),
    'SMTP_AUTH_FAIL: Strike 1: IN= OUT= SRC=192.0.2.25 DST=198.51.100.1 LEN=102 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=25 DPT=40000 WINDOW=64240 RES=0x00 ACK PSH URGP=0',
  );
  assert.match(
    iptablesLogLine('SMTP Brute Force Attempt:', wire('2001:db8::1', '2001:db8::25'), true),
    /^SMTP Brute Force Attempt: IN= OUT= SRC=2001:0db8:0000:0000:0000:0000:0000:0001 DST=2001:0db8:0000:0000:0000:0000:0000:0025 LEN=60 TC=0 HOPLIMIT=64 FLOWLBL=0 PROTO=TCP SPT=40000 DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0$/,
  );
});

test('strike table past its cap: never more entries than the cap, a reused slot starts empty, blocks survive churn', () => {
  const { e, log } = engine((o) => {
    o.maxEntries = 16;
  });
  const blocked = '203.0.113.9';
  for (let i = 0; i < 3; i++) e.event(fail(blocked, i));
  assert.equal(e.isBlocked(blocked, 3), true);
  // 2,000 other addresses, two failures each, all while the block stands: slots are freed and reused.
  for (let i = 0; i < 2000; i++) {
    const c = `10.1.${i >> 8}.${i & 255}`;
    e.event(fail(c, 10 + i / 2));
    e.event(fail(c, 10 + i / 2));
    assert.ok(e.entries <= 16, `entries ${e.entries}`);
  }
  // Each newcomer's strikes are its own (1 then 2), never a former tenant's stamps.
  const strikes = log.events.flatMap((x) => (x.type === 'strike' && x.client.startsWith('10.1.') ? [x.n] : []));
  assert.deepEqual(
    strikes,
    Array.from({ length: 4000 }, (_, k) => (k % 2) + 1),
  );
  assert.equal(e.isBlocked(blocked, 500), true); // unblocked entries went first
  assert.equal(e.stats.evictedBlocked, 0);
  assert.equal(e.stats.evictedStriking + e.stats.expiredEntries + e.entries, 2001);
  // The state file of a churned table reloads to the same entries.
  const state = e.exportState(1100);
  assert.equal(state.entries.length, e.entries);
  const { e: again } = engine((o) => {
    o.maxEntries = 16;
  });
  again.importState(state, 1100);
  assert.deepEqual(again.exportState(1100), state);
});
