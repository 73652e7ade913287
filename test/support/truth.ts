/** Ground-truth files (pcaps/TRUTH-FORMAT.md) and the check of one capture against its truth via the CLI. */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { smtpstrike } from './cli.js';

export interface Truth {
  capture: string | string[];
  clients: Record<string, { failures: number; successes: number; tempfails: number; users: string[] }>;
  opaque_flows?: number;
  expect_error?: { offset: number; packets_before: number } | null;
  ports?: number[];
  args?: string[];
  strikes?: string[];
  skipped?: Record<string, number>;
  /** AUTH outcomes inside TLS per client (pcaps/TRUTH-FORMAT.md): what the inference must find. */
  inside_tls?: Record<string, { failures: number; successes: number; tempfails: number }>;
  /** Why the outcomes inside TLS cannot be inferred from this capture: then none may be. */
  not_inferable?: string;
}

type Counts = { failures: number; successes: number; tempfails: number };
const NONE: Counts = { failures: 0, successes: 0, tempfails: 0 };

/**
 * The summary's `clients` a truth implies: the clear-text counts of `clients`, and the outcomes
 * inside TLS as `inferred` (a client with only those is listed with zero clear counts).
 */
export function expectedClients(truth: Truth): Record<string, unknown> {
  const out: Record<string, { failures: number; successes: number; tempfails: number; users: string[]; inferred: Counts }> = {};
  for (const [ip, c] of Object.entries(truth.clients)) out[ip] = { ...c, inferred: { ...NONE } };
  for (const [ip, t] of Object.entries(truth.not_inferable ? {} : (truth.inside_tls ?? {}))) {
    const inferred = { failures: t.failures, successes: t.successes, tempfails: t.tempfails };
    if (inferred.failures + inferred.successes + inferred.tempfails === 0) continue;
    out[ip] = { ...(out[ip] ?? { ...NONE, users: [] }), inferred };
  }
  return out;
}

export function truthFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...truthFiles(p));
    else if (e.name.endsWith('.truth.json')) out.push(p);
  }
  return out.sort();
}

/** Replays the capture(s) a truth file names and asserts every field the truth gives. */
export function checkTruth(tf: string): void {
  const truth = JSON.parse(readFileSync(tf, 'utf8')) as Truth;
  const caps = (Array.isArray(truth.capture) ? truth.capture : [truth.capture]).map((c) => join(dirname(tf), c));
  for (const c of caps) assert.ok(existsSync(c), `capture ${c} exists`);
  const args = ['replay', '--json', ...(truth.ports ? ['--ports', truth.ports.join(',')] : []), ...(truth.args ?? []), ...caps];
  const r = smtpstrike(args);
  assert.ok(r.summary, `summary line present (stderr: ${r.stderr})`);
  if (truth.expect_error) {
    assert.equal(r.status, 2, 'exit code 2 for an unreadable capture');
    const bad = r.summary.files.find((f) => f.error);
    assert.ok(bad, 'the file error is reported');
    assert.equal(bad.error!.offset, truth.expect_error.offset, 'error offset');
    assert.equal(bad.packets, truth.expect_error.packets_before, 'packets read before the error');
    assert.match(r.stderr, /at byte offset \d+/);
  } else {
    assert.equal(r.status, 0, r.stderr);
  }
  assert.deepEqual(r.summary.clients, expectedClients(truth));
  if (truth.opaque_flows !== undefined) assert.equal(r.summary.coverage.opaque_flows, truth.opaque_flows, 'opaque flows');
  if (truth.skipped) {
    for (const [reason, n] of Object.entries(truth.skipped))
      assert.equal((r.summary.coverage.skipped as Record<string, number>)[reason] ?? 0, n, `skipped: ${reason}`);
  }
  if (truth.strikes) {
    const got = r.lines.filter((l) => l.type === 'strike' || l.type === 'reject').map((l) => `${String(l.log).split(' IN=')[0]} ${String(l.client)}`);
    assert.deepEqual(got, truth.strikes);
  }
}
