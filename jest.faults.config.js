/**
 * Fault-injection suite (npm run test:faults): the real service (dist/main.js) as a child process,
 * SIGKILLed, cut off from its database and from the Graph API, and fuzzed. Not part of `npm test`
 * (jest.config.js only matches *.test.ts). One file at a time: the scenarios measure timings on a
 * small machine and must not compete for its cores.
 */
/* global require, module */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS jest config, like jest.config.js
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: base.testEnvironment,
  roots: ['<rootDir>/test/faults'],
  testMatch: ['**/*.fault.ts'],
  transform: base.transform,
  transformIgnorePatterns: base.transformIgnorePatterns,
  globalSetup: base.globalSetup,
  globalTeardown: base.globalTeardown,
  testTimeout: 15 * 60_000,
  maxWorkers: 1,
  // The scenarios in a fixed, meaningful order (kill, database, Graph, fuzz, scale-out, stalled stdout).
  testSequencer: '<rootDir>/test/faults/sequencer.js',
};
