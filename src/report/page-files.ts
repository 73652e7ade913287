import { existsSync, readFileSync } from 'node:fs';

/**
 * The report page's stylesheet and scripts, kept as files in src/report/page/ (the scripts
 * `// @ts-check`ed with JSDoc types: `tsc -p src/report/page`, run by `npm run build`) and inlined
 * by html.ts, so the page stays one self-contained file.
 *
 * They are read at run time from the source tree: next to this module when it runs from src/,
 * else from `src/report/page/` of the package, three levels up from dist/src/report/ (package.json
 * ships that directory). Nothing is copied at build time, so a stale copy cannot be inlined.
 */
const PAGE_DIR = ((): URL => {
  const beside = new URL('./page/', import.meta.url);
  return existsSync(new URL('report.css', beside)) ? beside : new URL('../../../src/report/page/', import.meta.url);
})();

/**
 * A page file's text as the page carries it: what follows the header (everything up to the first
 * blank line: `// @ts-check` and what the file is), starting with that blank line's line break;
 * and every line that holds only a JSDoc comment cut out with the line breaks before and after it,
 * so the lines around it join. The types sit where the checker reads them (JSDoc attaches only to
 * a declaration that starts a line) and the page's bytes are what they were before the files.
 */
export function pageText(source: string, name = 'page file'): string {
  const src = source.split('\r\n').join('\n');
  const start = src.indexOf('\n\n');
  if (start < 0) throw new Error(`${name}: no blank line after its header`);
  let out = '';
  let at = start + 1;
  for (;;) {
    const open = src.indexOf('\n/**', at);
    if (open < 0) break;
    const close = src.indexOf('*/\n', open);
    if (close < 0) throw new Error(`${name}: a JSDoc comment that does not end a line`);
    out += src.slice(at, open);
    at = close + 3;
  }
  return out + src.slice(at);
}

export interface PageFiles {
  css: string;
  /** The error hook, first in <head>. */
  errorsScript: string;
  /** The page's script, last in <body>. */
  mainScript: string;
}

let cached: PageFiles | null = null;

/** The three files' page texts, read once. */
export function pageFiles(): PageFiles {
  if (!cached) {
    const read = (f: string): string => pageText(readFileSync(new URL(f, PAGE_DIR), 'utf8'), `src/report/page/${f}`);
    cached = { css: read('report.css'), errorsScript: read('report-errors.js'), mainScript: read('report-page.js') };
  }
  return cached;
}
