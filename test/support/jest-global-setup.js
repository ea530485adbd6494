/**
 * Once per `npm test`, before the workers start: a directory for what the run's test files share
 * (the migrated PGlite archive, test/support/database.ts). Workers inherit the variable.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function globalSetup() {
  process.env.TARN_TEST_RUN_DIR = mkdtempSync(join(tmpdir(), 'tarn-test-run-'));
}
