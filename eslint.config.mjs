import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.tools/', 'data/', 'coverage/', 'artifacts/', 'bench-results/', 'jest.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // Use cases stay free of HTTP: they return outcomes and message keys (docs/architecture.md;
    // the folder rules are dependency-cruiser's, scripts/lint/layers.mjs).
    files: ['src/rights/**/*.ts', 'src/chat/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: ['express', 'i18next'] }] },
  },
  {
    // One zod module reads the environment; everything else receives the parsed config.
    files: ['src/**/*.ts'],
    ignores: ['src/config.ts'],
    rules: { 'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'read configuration through src/config.ts' }] },
  },
  // The console and the simulator run in the browser: the simulator as a plain script, the staff
  // console as ES modules (<script type="module">, no bundler).
  { files: ['public/**/*.js'], languageOptions: { globals: globals.browser, sourceType: 'script' } },
  { files: ['public/staff/**/*.js'], languageOptions: { sourceType: 'module' } },
  { files: ['src/cli/**/*.ts', 'scripts/**', 'bench/**', 'test/**'], rules: { 'no-console': 'off' } },
  // Tooling that runs in Node: the lint scripts and dependency-cruiser's configuration.
  { files: ['scripts/**/*.mjs', '*.cjs'], languageOptions: { globals: globals.node } },
  // Tests read Meta's and our JSON freely.
  { files: ['test/**', 'bench/**'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
);
