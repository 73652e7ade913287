/**
 * One network-namespace name rule for the blocker (`ip netns exec NS nft …`) and the live capture
 * (`ip netns exec NS tcpdump …`, /run/netns/NS): before issue 12 the capture accepted `.`, `..` and
 * a leading `-`, which the blocker refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpawnRunner } from '../src/blocker/runner.js';
import { validateOptions } from '../src/live/live-source.js';
import { isNetnsName } from '../src/net/netns-name.js';

const GOOD = ['sst123_srv', 'a', 'a.b-c', '_x', 'x'.repeat(63)];
const BAD = ['', '.', '..', '-x', '.hidden', 'a/b', 'a..b', 'a b', 'x'.repeat(64), 'ns;rm'];

test('isNetnsName: letters, digits, _ . -, no leading . or -, no .., at most 63', () => {
  for (const n of GOOD) assert.ok(isNetnsName(n), n);
  for (const n of BAD) assert.ok(!isNetnsName(n), n);
});

test('the blocker runner and the live capture accept and refuse the same names', () => {
  for (const n of [...GOOD, ...BAD]) {
    const blocker = (() => {
      try {
        new SpawnRunner({ netns: n });
        return true;
      } catch {
        return false;
      }
    })();
    const live = (() => {
      try {
        validateOptions({ iface: 'lo', filter: '', bufferSize: 0, netns: n });
        return true;
      } catch {
        return false;
      }
    })();
    assert.equal(blocker, isNetnsName(n), `blocker: ${n}`);
    assert.equal(live, isNetnsName(n), `live: ${n}`);
  }
});
