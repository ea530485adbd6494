/** Jest on native ESM: @swc/jest strips types, node runs the modules (--experimental-vm-modules). */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'es6' }, sourceMaps: 'inline' }],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Real relying parties (Apache, Chromium SPAs): npm run test:interop (jest.interop.config.js).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/interop/'],
  setupFiles: ['<rootDir>/test/support/jest-setup.ts'],
  globalSetup: '<rootDir>/test/support/jest-global-setup.js',
  globalTeardown: '<rootDir>/test/support/jest-global-teardown.js',
  testTimeout: 60_000,
  maxWorkers: 2,
  // A worker keeps every finished test file's modules and its PGlite's memory (measured: +22 MB of heap and
  // +275 MB resident per file); a worker whose heap passes this is replaced before its next file (ADR 0005).
  workerIdleMemoryLimit: '250MB',
};
