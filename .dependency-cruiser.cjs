/**
 * Room rules for src/, checked by `npx depcruise src` (scripts/test.sh runs it before the tests).
 *
 * Core: what turns packets into strikes, plus what it shares:
 *   src/source, src/decode, src/reassembly, src/smtp, src/strikes, src/net, src/tls, src/text,
 *   src/events.ts, src/pipeline.ts.
 * Core imports only core (node builtins and npm packages aside). Everything else in src/ is outer
 * (blocker, watch, report, replay-output, dump, commands, cli.ts, replay.ts, live, logfollow,
 * accounts, geoip, config, io): outer may import core, never the other way round. A new room is
 * outer until it is added to CORE below.
 */
const CORE = '^src/(source|decode|reassembly|smtp|strikes|net|tls|text)/|^src/(events|pipeline)[.]ts$';

/**
 * Cycles being untied elsewhere, allowed until that work is merged. Each entry names a module on
 * the cycle (a `from` path); REMOVE the entry when the cycle is gone.
 */
// Cycles tolerated while being untied (none: the blocker cycle was untied in issue 12 by
// blocker/types.ts). Keep the mechanism for the next refactor that needs a step in between.
const CYCLES_BEING_FIXED = [];

module.exports = {
  forbidden: [
    {
      name: 'core-imports-only-core',
      comment: 'Core (source, decode, reassembly, smtp, strikes and the shared net, tls, text, events.ts, pipeline.ts) must not import outer rooms.',
      severity: 'error',
      from: { path: CORE },
      to: { path: '^src/', pathNot: CORE },
    },
    {
      name: 'no-circular',
      comment: 'Import cycles make rooms inseparable and their load order fragile.',
      severity: 'error',
      from: CYCLES_BEING_FIXED.length ? { pathNot: CYCLES_BEING_FIXED } : {},
      to: { circular: true },
    },
    {
      name: 'src-not-to-tests',
      comment: 'Shipped code must not import tests, benches or scripts (they are not in the package).',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
    {
      name: 'src-not-to-dev-dep',
      comment: 'Shipped code must not import devDependencies: `npm install --omit=dev` would break it.',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to nothing (cap is optional: absent where it could not be built).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true, pathNot: '^cap$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
