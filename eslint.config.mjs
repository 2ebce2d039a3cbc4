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
    // Use cases stay free of HTTP: they return outcomes and message keys (DESIGN.md).
    files: ['src/rights/**/*.ts', 'src/chat/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: ['express', 'i18next'] }] },
  },
  // The console and the simulator run in the browser, as plain scripts.
  { files: ['public/**/*.js'], languageOptions: { globals: globals.browser, sourceType: 'script' } },
  { files: ['src/cli/**/*.ts', 'scripts/**', 'bench/**', 'test/**'], rules: { 'no-console': 'off' } },
  // Tests read Meta's and our JSON freely.
  { files: ['test/**', 'bench/**'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
);
