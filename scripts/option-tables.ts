/**
 * The README's option tables from the option registry (src/options/tables.ts):
 *
 *   node dist/scripts/option-tables.js           # check: exit 1 naming each table that differs
 *   node dist/scripts/option-tables.js --write   # rewrite them in place
 *
 * Reads README.md and docs/*.md of the repository (or of --root DIR); a table is the text between
 * `<!-- options:COMMAND -->` and `<!-- /options:COMMAND -->` (COMMAND: replay, watch, dump,
 * report, accounts, blocks, blocks-add, calibrate).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { markedTables, renderMarkedTables } from '../src/options/tables.js';

/** README.md and docs/*.md under `root`, those that exist. */
export function markdownFiles(root: string): string[] {
  const docs = join(root, 'docs');
  const inDocs = existsSync(docs)
    ? readdirSync(docs)
        .filter((f) => f.endsWith('.md'))
        .sort()
        .map((f) => join(docs, f))
    : [];
  return [join(root, 'README.md'), ...inDocs].filter((f) => existsSync(f));
}

function main(argv: string[]): number {
  const write = argv.includes('--write');
  const r = argv.indexOf('--root');
  const root = r >= 0 && argv[r + 1] ? argv[r + 1]! : fileURLToPath(new URL('../..', import.meta.url));
  let stale = 0;
  let tables = 0;
  for (const file of markdownFiles(root)) {
    const text = readFileSync(file, 'utf8');
    const found = markedTables(text);
    if (found.length === 0) continue;
    tables += found.length;
    const next = renderMarkedTables(text);
    if (next === text) continue;
    if (write) {
      writeFileSync(file, next);
      process.stdout.write(`${file}: tables of ${found.map((t) => t.command).join(', ')} written\n`);
    } else {
      stale++;
      process.stderr.write(`${file}: an option table differs from the registry (run node dist/scripts/option-tables.js --write)\n`);
    }
  }
  if (tables === 0) process.stderr.write(`no <!-- options:COMMAND --> markers in ${root}README.md or docs/*.md\n`);
  return stale > 0 ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2));
