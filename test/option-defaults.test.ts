/**
 * The option registry writes out the pipeline's defaults (src/options/pipeline.ts
 * PIPELINE_DEFAULTS) so that `--help` need not load the pipeline (issue 15 item 5); they must
 * stay what the pipeline and the client table use.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BLOCKS_ADD_OPTIONS } from '../src/options/blocks.js';
import { PIPELINE_DEFAULTS, PIPELINE_OPTIONS, TALLY_OPTIONS } from '../src/options/pipeline.js';
import { defaultPipelineOptions } from '../src/pipeline.js';
import { defaultTallyLimits } from '../src/replay-output/client-tally.js';

test('the registry’s written-out defaults equal defaultPipelineOptions() and defaultTallyLimits', () => {
  const d = defaultPipelineOptions();
  assert.deepEqual([...PIPELINE_DEFAULTS.ports], d.ports);
  for (const k of Object.keys(PIPELINE_DEFAULTS.strikes) as (keyof typeof PIPELINE_DEFAULTS.strikes)[])
    assert.equal(PIPELINE_DEFAULTS.strikes[k], d.strikes[k], `strikes.${k}`);
  assert.equal(PIPELINE_DEFAULTS.flows.maxFlows, d.flows.maxFlows);
  assert.equal(PIPELINE_DEFAULTS.tally.maxClients, defaultTallyLimits.maxClients);
});

test('each pipeline option’s default is the pipeline’s own', () => {
  const d = defaultPipelineOptions();
  const def = (option: string): unknown => [...PIPELINE_OPTIONS, ...TALLY_OPTIONS].find((o) => o.option === option)?.default;
  assert.deepEqual(def('ports'), d.ports);
  assert.equal(def('hitcount'), d.strikes.hitcount);
  assert.equal(def('seconds'), d.strikes.seconds);
  assert.equal(def('connHitcount'), d.strikes.connHitcount);
  assert.equal(def('connSeconds'), d.strikes.connSeconds);
  assert.equal(def('ipv6Prefix'), d.strikes.ipv6Prefix);
  assert.equal(def('maxFlows'), d.flows.maxFlows);
  assert.equal(def('maxStrikeEntries'), d.strikes.maxEntries);
  assert.equal(def('maxClients'), defaultTallyLimits.maxClients);
  assert.equal(BLOCKS_ADD_OPTIONS.find((o) => o.option === 'timeout')?.default, d.strikes.seconds, 'blocks add --timeout');
});
