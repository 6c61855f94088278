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
};
