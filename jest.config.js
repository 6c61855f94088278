// Tests run TypeScript through ts-jest without type checking: `npm test` type-checks the whole tree once with tsc.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  rootDir: __dirname,
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json', transpilation: true }] },
  testTimeout: 120000,
  maxWorkers: 2,
  // The files that take minutes first, so that two workers share them (scripts/jest-sequencer.js).
  testSequencer: '<rootDir>/scripts/jest-sequencer.js',
  // A temporary folder of the run's own, which must be empty when the run ends (nothing left behind).
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};
