// Tests run TypeScript through ts-jest without type checking: `npm test` type-checks the whole tree once with tsc.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  rootDir: __dirname,
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json', transpilation: true }] },
  testTimeout: 120000,
  // Three files at a time on the 2-core machine CI runs on: much of the suite waits on clocks (the real extension's
  // timers, simulated latency), so two workers kept the cores busy only two thirds of the time (133% CPU). One run of
  // every file, the conformance tests among the rest, took 895 s at 174% CPU, where the suite and then the conformance
  // tests, two at a time each, took 683 + 392 s (docs/testing.md).
  maxWorkers: 3,
  // The files that take minutes first, so that the workers share them (scripts/jest-sequencer.js).
  testSequencer: '<rootDir>/scripts/jest-sequencer.js',
  // A temporary folder of the run's own, which must be empty when the run ends (nothing left behind).
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};
