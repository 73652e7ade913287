/**
 * The one xt_recent window test (src/strikes/recent-window.ts) at its edge, and the two users of
 * it agreeing there: the strike engine's rings and the report's would-block prediction.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StampRings } from '../src/strikes/recent-list.js';
import { inRecentWindow, reachesHitcount } from '../src/strikes/recent-window.js';

test('window: a hit exactly `seconds` old counts, one just older does not', () => {
  assert.equal(inRecentWindow(0, 1200, 1200), true, 'exactly `seconds` old');
  assert.equal(inRecentWindow(0, 1200.000001, 1200), false, 'just over');
  assert.equal(inRecentWindow(0, 1201, 1200), false);
  assert.equal(inRecentWindow(1200, 1200, 1200), true, 'a hit now');
  assert.equal(inRecentWindow(-Infinity, 0, 1200), false, "an empty ring's newest stamp");
  assert.equal(reachesHitcount([0, 600, 1200], 3, 1200), true);
  assert.equal(reachesHitcount([0, 600, 1200.000001], 3, 1200), false);
  assert.equal(reachesHitcount([0, 600, 1200.000001, 1300], 3, 1200), true, 'a later window');
});

test("window: the report's hitcount test says what the engine's rings count, also where float rounding decides", () => {
  // 2196.349 − 996.349 reads exactly 1200, but 2196.349 − 1200 reads 996.3490000000002: the
  // report's old test (newest − oldest ≤ seconds) said "would block" where the engine's rings
  // (stamp ≥ now − seconds) do not block.
  const cases: [number[], number][] = [
    [[996.349, 1500, 2196.349], 1200],
    [[0, 600, 1200], 1200],
    [[0, 600, 1200.5], 1200],
    [[201.54, 201.7, 201.84], 0.3],
    [[1_790_000_000.25, 1_790_000_600, 1_790_001_200.25], 1200],
  ];
  for (const [times, seconds] of cases) {
    const rings = new StampRings(3, 1);
    for (const t of times) rings.add(0, t);
    const engine = rings.hitsWithin(0, times[times.length - 1]!, seconds) >= 3;
    assert.equal(reachesHitcount(times, 3, seconds), engine, `${times.join(', ')} in ${seconds} s`);
  }
  assert.equal(reachesHitcount([996.349, 1500, 2196.349], 3, 1200), false);
});
