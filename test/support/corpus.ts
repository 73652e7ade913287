/**
 * Where a third-party corpus file lives. The permissively licensed ones are copied into the
 * repository (test/fixtures/third-party, see its README for origin, licence and ground truth), so
 * a plain clone runs their tests; GPL and unlicensed ones are only read from the shared corpus
 * (`../shared/corpus`, or SMTPSTRIKE_CORPUS), and a test that needs one skips loudly without it.
 * Large copies are stored gzip-compressed (`<name>.gz`, same bytes once decompressed).
 */
import type { TestContext } from 'node:test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export const IN_REPO_CORPUS = 'test/fixtures/third-party';
export const SHARED_CORPUS = process.env.SMTPSTRIKE_CORPUS ?? '../shared/corpus';

/** Why a source is not copied into the repository (MANIFEST.md §1–2). */
const NOT_COPIED: Record<string, string> = {
  fail2ban: 'GPL-2.0',
  bruteshark: 'GPL-3.0',
  ndpi: 'LGPL-3.0',
  forensicscontest: 'no licence file',
  chrissanders: 'no licence file',
};

/** Path of corpus file `rel` (e.g. `zeek/smtp.pcap`): the in-repo copy first, else the shared one, else null. */
export function corpusPath(rel: string): string | null {
  for (const p of [join(IN_REPO_CORPUS, rel), join(IN_REPO_CORPUS, `${rel}.gz`), join(SHARED_CORPUS, rel)]) {
    if (existsSync(p)) return p;
  }
  return null;
}

/** Says loudly, on stderr and in the test report, which file is missing and why it is not in the repository. */
export function skipMissing(t: TestContext, rel: string): void {
  const source = rel.split('/')[0]!;
  const why = NOT_COPIED[source] ? `not copied into ${IN_REPO_CORPUS} (${source}: ${NOT_COPIED[source]})` : `not in ${IN_REPO_CORPUS}`;
  const msg = `corpus file ${rel} is ${why} and ${join(SHARED_CORPUS, rel)} is absent; set SMTPSTRIKE_CORPUS to the shared corpus folder`;
  process.stderr.write(`SKIPPED LOUDLY: ${msg}\n`);
  t.skip(msg);
}

/** corpusPath, or a loud skip (null) when the file is nowhere. */
export function requireCorpus(t: TestContext, rel: string): string | null {
  const p = corpusPath(rel);
  if (p === null) skipMissing(t, rel);
  return p;
}

/** A corpus text file's contents, decompressed when the copy is stored as `.gz`. */
export function readCorpusText(path: string): string {
  const raw = readFileSync(path);
  return (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
}
