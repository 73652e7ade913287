/** Every shipped capture against its ground truth (pcaps/TRUTH-FORMAT.md), through the real CLI. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTruth, truthFiles } from './support/truth.js';

const files = truthFiles('pcaps');

test('there are shipped captures with ground truth (test bed and crafted)', () => {
  assert.ok(files.filter((f) => f.includes('testbed')).length >= 8, 'pcaps/testbed has truth files');
  assert.ok(files.filter((f) => f.includes('crafted')).length >= 40, 'pcaps/crafted has truth files');
});

for (const tf of files) test(`ground truth: ${tf}`, () => checkTruth(tf));
