/**
 * The layers, enforced in `npm run lint` (docs/architecture.md draws them):
 *   edges (app, webhook, staff, api, sandbox, cli, workers, wiring)
 *     → inbox → chat → rights → store → privacy, lib
 *     → outbox → messages, i18n
 * https://github.com/sverweij/dependency-cruiser/blob/main/doc/rules-reference.md
 */
const useCases = '^src/(rights|chat)/';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No file reaches itself through its imports.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'use-cases-know-no-frameworks',
      comment: 'Use cases return outcomes and message keys: no HTTP, no i18next, no mongoose models, no outbox.',
      severity: 'error',
      from: { path: useCases },
      to: {
        path: [
          'node_modules/(express|i18next)/',
          '^src/store/models\\.ts$',
          '^src/outbox/',
          '^src/i18n/(?!locales\\.ts$)',
          '^src/deps\\.ts$',
          '^src/config\\.ts$',
        ],
      },
    },
    {
      name: 'models-belong-to-stores',
      comment: 'Only the stores, the wiring and whole-database maintenance open the collections directly.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/store/', '^src/wiring\\.ts$', '^src/deps\\.ts$', '^src/maintenance/'] },
      to: { path: '^src/store/models\\.ts$' },
    },
    {
      name: 'stores-are-the-bottom',
      comment: 'A store knows its collection, sealing and the clock, nothing above it.',
      severity: 'error',
      from: { path: '^src/store/' },
      to: { path: '^src/', pathNot: ['^src/store/', '^src/privacy/(pii|ids)\\.ts$', '^src/lib/'] },
    },
    {
      name: 'only-edges-know-http',
      comment: 'Express is for the webhook, the console, the API, the sandbox and the app itself.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/(webhook|staff|api|sandbox)/', '^src/app\\.ts$'] },
      to: { path: 'node_modules/(express|helmet|pino-http)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    includeOnly: ['^src/', 'node_modules/(express|i18next|helmet|pino-http)/'],
  },
};
