/**
 * The report's column stores (issue 15: `report` in bounded memory): rows across several 65,536-row
 * chunks read back exactly, the grouping by key keeps row order, and the wire's rows sort stably by
 * time and filter in place as the arrays of objects they replace did.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHUNK, groupRows, StringTable } from '../src/report/columns.js';
import { LogStore } from '../src/report/log-store.js';
import type { WireAuth, WireSession } from '../src/report/types.js';
import { WireAuths, WireSessions } from '../src/report/wire-store.js';

const T = 1_790_000_000;
const N = 2 * CHUNK + 123; // three chunks, the last one partly filled

function auth(i: number): WireAuth {
  return {
    ts: T + (i % 1000) + i / 1e7,
    client: `192.0.2.${i % 7}`,
    outcome: i % 3 === 0 ? 'success' : i % 3 === 1 ? 'failure' : 'tempfail',
    user: i % 5 === 0 ? null : `user${i % 11}`,
    mech: i % 2 === 0 ? 'PLAIN' : null,
    serverPort: i % 2 === 0 ? 587 : 465,
    flow: i % 4 === 0 ? -1 : i,
    source: i % 4 === 0 ? 'state' : 'capture',
  };
}

test('groupRows: each group in row order, groups in key order', () => {
  const keys = [2, 0, 2, 1, 0, 2];
  const { start, order } = groupRows(keys.length, 3, (i) => keys[i]!);
  assert.deepEqual([...start], [0, 2, 3, 6]);
  assert.deepEqual([...order], [1, 4, 3, 0, 2, 5]);
});

test('WireAuths: rows over several chunks come back as they went in, strings kept once', () => {
  const clients = new StringTable();
  const w = new WireAuths(clients);
  for (let i = 0; i < N; i++) w.push(auth(i));
  assert.equal(w.size, N);
  for (const i of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, N - 1]) assert.deepEqual(w.get(i), auth(i), `row ${i}`);
  assert.equal(clients.list.length, 7);
  assert.equal(w.users.list.length, 11);
  const all = [...w];
  assert.equal(all.length, N);
  assert.deepEqual(all[N - 1], auth(N - 1));
});

test('WireAuths: sortByTime is the stable sort of the objects; filter keeps the order of the rest', () => {
  const w = new WireAuths(new StringTable());
  const objs: WireAuth[] = [];
  for (let i = 0; i < N; i++) {
    const a = { ...auth(i), ts: T + (i % 97) }; // many equal times: stability shows
    objs.push(a);
    w.push(a);
  }
  w.sortByTime();
  objs.sort((a, b) => a.ts - b.ts);
  assert.deepEqual([...w], objs);
  w.filter((i) => w.flowAt(i) % 3 !== 0);
  const kept = objs.filter((a) => a.flow % 3 !== 0);
  assert.equal(w.size, kept.length);
  assert.deepEqual([...w], kept);
  w.release();
  assert.equal(w.size, 0);
  assert.deepEqual([...w], []);
});

test('WireSessions: null times and the TLS flag survive the columns; filter keeps order', () => {
  const w = new WireSessions(new StringTable());
  const objs: WireSession[] = [];
  for (let i = 0; i < CHUNK + 10; i++) {
    const s: WireSession = {
      flow: i,
      client: `2001:db8::${i % 13}`,
      clientPort: 1024 + (i % 60000),
      serverPort: i % 2 === 0 ? 25 : 465,
      start: T + i,
      end: T + i + 5.25,
      tlsTs: i % 3 === 0 ? null : T + i + 1,
      implicitTls: i % 2 === 1,
      successTs: i % 5 === 0 ? T + i + 2 : null,
    };
    objs.push(s);
    w.push(s);
  }
  assert.deepEqual([...w], objs);
  assert.equal(w.opaqueAt(0), false);
  assert.equal(w.opaqueAt(1), true);
  w.filter((i) => w.flowAt(i) % 2 === 0);
  assert.deepEqual(
    [...w],
    objs.filter((s) => s.flow % 2 === 0),
  );
});

test('LogStore: rows over several chunks, grouped by address in input order', () => {
  const store = new LogStore();
  for (let i = 0; i < N; i++)
    store.add(
      T + i,
      i % 2 === 0,
      i % 3 === 0 ? 'exim' : 'dovecot',
      i % 4 === 0 ? 'success' : 'failure',
      i % 6 === 0 ? null : `u${i % 9}`,
      `198.51.100.${i % 5}`,
      'LOGIN',
      i % 2 === 0 ? null : 'password-mismatch',
      i % 10 === 0 ? 0 : 1,
    );
  assert.equal(store.size, N);
  for (const i of [0, CHUNK - 1, CHUNK, N - 1]) {
    const e = store.get(i);
    assert.equal(e.wall, T + i);
    assert.equal(e.ts, T + i);
    assert.equal(e.guessed, i % 2 === 0);
    assert.equal(e.service, i % 3 === 0 ? 'exim' : 'dovecot');
    assert.equal(e.outcome, i % 4 === 0 ? 'success' : 'failure');
    assert.equal(e.user, i % 6 === 0 ? null : `u${i % 9}`);
    assert.equal(e.ip, `198.51.100.${i % 5}`);
    assert.equal(e.method, 'LOGIN');
    assert.equal(e.reason, i % 2 === 0 ? null : 'password-mismatch');
    assert.equal(e.lines, i % 10 === 0 ? 0 : 1);
    assert.deepEqual(e.services, [e.service]);
  }
  const { start, order } = store.groups();
  for (let g = 0; g < 5; g++) {
    const rows = [...order.subarray(start[g], start[g + 1])];
    assert.ok(rows.every((i) => store.ipIdAt(i) === g));
    assert.ok(
      rows.every((r, k) => k === 0 || rows[k - 1]! < r),
      'input order',
    );
  }
  assert.equal(start[5], N);
});
