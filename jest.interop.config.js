/** The interop suite (npm run test:interop): real relying parties against Tarn started as `npm start`. */
import base from './jest.config.js';

export default {
  ...base,
  testMatch: ['<rootDir>/test/interop/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 120_000,
  maxWorkers: 1,
  // No migrated PGlite archive before the run (test/support/jest-global-setup.js): Tarn runs as `npm start`.
  globals: { tarnPgliteArchive: false },
};
