/**
 * Real inputs the fuzzer mutates: the shipped captures (pcaps/), the in-repo third-party captures,
 * and every log fixture. Compressed captures are seeded both as they are (to fuzz the gzip layer)
 * and decompressed (to fuzz the capture format underneath). Read once per process, in a stable
 * order, so a seed number names the same run everywhere.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export interface Seed {
  name: string;
  bytes: Buffer;
}

function walk(dir: string, keep: (name: string) => boolean, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, keep, out);
    else if (keep(e.name)) out.push(p);
  }
  return out;
}

/** Largest seed kept: bigger files only slow each case down without adding structure. */
const MAX_SEED = 64 * 1024;

let captures: Seed[] | null = null;

/** Capture seeds (plain and gzip), each at most MAX_SEED bytes. */
export function captureSeeds(): Seed[] {
  if (captures) return captures;
  const files = [...walk('pcaps', (n) => /\.(pcap|pcapng)(\.gz)?$/.test(n)), ...walk('test/fixtures/third-party', (n) => /\.(pcap|pcapng)(\.gz)?$/.test(n))];
  captures = [];
  for (const f of files) {
    if (statSync(f).size > MAX_SEED) continue;
    const bytes = readFileSync(f);
    captures.push({ name: f, bytes });
    if (f.endsWith('.gz')) {
      try {
        const raw = gunzipSync(bytes);
        if (raw.length <= 4 * MAX_SEED) captures.push({ name: `${f} (gunzipped)`, bytes: raw });
      } catch {
        // a deliberately broken .gz fixture: its compressed bytes are seed enough
      }
    }
  }
  return captures;
}

let logs: Seed[] | null = null;

/** Log seeds: our fixtures (plain and every compression) and the in-repo third-party logs. */
export function logSeeds(): Seed[] {
  if (logs) return logs;
  const files = [
    ...walk('test/fixtures/accounts/seed', () => true),
    ...walk('test/fixtures/accounts/compressed', () => true),
    ...walk('test/fixtures/third-party/crowdsec-hub', (n) => n.endsWith('.log')),
  ];
  logs = files.map((f) => ({ name: f, bytes: readFileSync(f) }));
  return logs;
}

/** Every line of the plain-text log seeds (for the line parsers). */
export function logLines(): string[] {
  const out: string[] = [];
  for (const s of logSeeds()) {
    if (s.bytes[0] === 0x1f || s.bytes[0] === 0x42 || s.bytes[0] === 0xfd || s.bytes[0] === 0x28) continue; // compressed
    for (const l of s.bytes.toString('utf8').split('\n')) if (l.length > 0) out.push(l);
  }
  out.push(
    ...readFileSync('test/fixtures/third-party/sshguard/tests.txt', 'utf8')
      .split('\n')
      .filter((l) => l.length > 1 && !l.startsWith('#')),
  );
  return out;
}
