/**
 * The long fuzz run (`npm run fuzz -- [--seed N] [--runs N] [--target NAME]... [--path P]`):
 * the same targets as the quick run in `npm test` (test/fuzz.test.ts), many more iterations
 * (default 5000 per target; `cli`, which spawns a process per case, gets 1/50 unless named).
 * Prints the seed first; on a failure prints fast-check's shrunk counterexample and the command
 * that replays exactly that case, and exits 1. Each target runs in a watched worker thread
 * (test/fuzz/watchdog.ts): a hang or a runaway allocation is a failure that names its case. Run
 * from the repository root (it reads pcaps/ and test/fixtures/).
 */
import { randomInt } from 'node:crypto';
import { TARGETS } from '../test/fuzz/campaign.js';
import { runTargetWatched } from '../test/fuzz/watchdog.js';

function usage(msg: string): never {
  process.stderr.write(
    `fuzz: ${msg}\nusage: npm run fuzz -- [--seed N] [--runs N] [--target NAME]... [--path P]\ntargets: ${Object.keys(TARGETS).join(', ')}\n`,
  );
  process.exit(2);
}

const args = process.argv.slice(2);
let seed = randomInt(0x7fffffff);
let runs = 5000;
let path: string | undefined;
const targets: string[] = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  const v = args[i + 1];
  if (a === '--seed' || a === '--runs' || a === '--target' || a === '--path') {
    if (v === undefined) usage(`${a} needs a value`);
    i++;
    if (a === '--seed' || a === '--runs') {
      const n = Number(v);
      if (!Number.isSafeInteger(n) || n < 0) usage(`${a} must be a non-negative integer`);
      if (a === '--seed') seed = n;
      else runs = n;
    } else if (a === '--target') {
      if (!TARGETS[v]) usage(`unknown target ${v}`);
      targets.push(v);
    } else path = v;
  } else usage(`unknown argument ${a}`);
}
const explicit = targets.length > 0;
if (!explicit) targets.push(...Object.keys(TARGETS));
/** Each `cli` case spawns a process (~0.5 s): in a run of every target it gets 1/50 of the runs. */
const runsOf = (t: string): number => (t === 'cli' && !explicit ? Math.ceil(runs / 50) : runs);
if (path !== undefined && targets.length !== 1) usage('--path replays one case: name its --target');

process.stdout.write(`fuzz: seed ${seed}, ${path === undefined ? `${runs} runs per target` : `replaying path ${path}`}, targets ${targets.join(' ')}\n`);
let failed = false;
for (const t of targets) {
  const started = process.hrtime.bigint();
  try {
    await runTargetWatched(t, path === undefined ? { seed, numRuns: runsOf(t) } : { seed, numRuns: 1, path });
    process.stdout.write(
      `fuzz: ${t}: ${path === undefined ? `${runsOf(t)} runs` : `the case at path ${path}`} passed (${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s)\n`,
    );
  } catch (e) {
    failed = true;
    const msg = (e as Error).message;
    const m = /seed: (-?\d+), path: "([^"]*)"/.exec(msg);
    process.stdout.write(`fuzz: ${t}: FAILED\n${msg}\n`);
    if (m) process.stdout.write(`fuzz: replay with: npm run fuzz -- --target ${t} --seed ${m[1]} --path "${m[2]}"\n`);
  }
}
process.exitCode = failed ? 1 : 0;
