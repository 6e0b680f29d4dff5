/**
 * `npm run test:reliability`: the service under load and faults, against the built supervisor
 * and local engine. One test file at a time: they measure a machine they must not share.
 * Figures each test records are printed as the last lines by the global teardown.
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/reliability'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  maxWorkers: 1,
  // Each test bounds its own waits; this is only a backstop.
  testTimeout: 120000,
  globalSetup: '<rootDir>/test/reliability/support/figuresSetup.mjs',
  globalTeardown: '<rootDir>/test/reliability/support/figuresTeardown.mjs',
};
