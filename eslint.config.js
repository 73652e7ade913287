// Lint with type information (typescript-eslint's recommendedTypeChecked), run by scripts/test.sh
// before the tests. Rules that catch real bugs stay on; the few turned off say why.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', '.dist2/', 'node_modules/', 'pcaps/', 'bench/out/', 'contrib/', 'native-notes/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's test()/describe() return promises the runner itself awaits; every other
      // un-awaited promise is still an error.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      // A promise returned un-awaited inside try escapes its catch/finally.
      '@typescript-eslint/return-await': ['error', 'error-handling-correctness-only'],
      // Deprecated Node/library APIs (none today): see them when dependencies move.
      '@typescript-eslint/no-deprecated': 'error',
      // `x == null` (null or undefined) is the one loose comparison the code uses on purpose.
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // A leading underscore marks a parameter or element kept for its position (tsc's
      // noUnusedLocals already reports the rest).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // Async methods without await implement Promise-returning interfaces (dry-run blocker, test
      // fakes); making them return Promise.resolve() would change where a throw lands. A forgotten
      // await is what no-floating-promises catches.
      '@typescript-eslint/require-await': 'off',
      // Tests match tcpdump's fixed-width output: literal runs of spaces read like the output.
      'no-regex-spaces': 'off',
      // The const enums of src/tls name wire bytes; comparing a byte off the wire with them is the
      // point (the rule is for string enums).
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
    },
  },
  {
    // Config files are plain JS outside tsconfig: no type information for them.
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    // The report page's scripts run in the browser; tsc (src/report/page/tsconfig.json, checkJs with
    // the DOM library) already checks every name they use.
    files: ['src/report/page/*.js'],
    rules: { 'no-undef': 'off' },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
);
