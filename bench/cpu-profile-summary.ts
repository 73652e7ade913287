/**
 * Where a `node --cpu-prof` profile spent its time: `node dist/bench/cpu-profile-summary.js F.cpuprofile [--top 30]`.
 * Prints self time per function (name, file:line) and, per source file, the self time summed, in %
 * of the samples (idle and GC shown as V8 names them: "(idle)", "(garbage collector)", "(program)").
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

// A reader that goes away (| head) ends it quietly.
process.stdout.on('error', () => process.exit(0));

const { values: v, positionals } = parseArgs({ options: { top: { type: 'string', default: '30' } }, allowPositionals: true });
const top = Number(v.top);
for (const f of positionals) {
  const p = JSON.parse(readFileSync(f, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  // Self time per node from samples × time deltas (µs).
  const self = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + (deltas[i + 1] ?? deltas[i] ?? 0));
  let total = 0;
  for (const t of self.values()) total += t;
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  for (const [id, t] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const url = n.callFrame.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/');
    const key = `${n.callFrame.functionName || '(anonymous)'}  ${url}${url ? ':' + (n.callFrame.lineNumber + 1) : ''}`;
    fn.set(key, (fn.get(key) ?? 0) + t);
    const fk = url || n.callFrame.functionName;
    file.set(fk, (file.get(fk) ?? 0) + t);
  }
  const pct = (t: number): string => ((t / total) * 100).toFixed(1).padStart(5);
  const idle = [...self].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0);
  process.stdout.write(`${f}: ${(total / 1e6).toFixed(2)} s sampled, ${((1 - idle / total) * 100).toFixed(1)} % busy\n-- self time by function --\n`);
  for (const [k, t] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(t)} %  ${k}\n`);
  process.stdout.write('-- self time by file --\n');
  for (const [k, t] of [...file].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(t)} %  ${k}\n`);
}
