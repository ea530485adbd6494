/**
 * Once per `npm test`, before the workers start: a directory for what the run's test files share,
 * and in it, on PGlite, the migrated cluster that every test file restores (test/support/database.ts,
 * pglite-archive.ts). Made here, once, instead of by each worker's first file (the workers used to
 * create and migrate a cluster each, side by side, inside a test file's time limit). Workers
 * inherit the variable.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export default function globalSetup(_globalConfig, projectConfig) {
  const runDir = mkdtempSync(join(tmpdir(), 'tarn-test-run-'));
  process.env.TARN_TEST_RUN_DIR = runDir;
  // The interop suite starts Tarn as `npm start` (its own database): it has no use for the archive.
  if (!process.env.DATABASE_URL && projectConfig.globals?.tarnPgliteArchive !== false) {
    const script = fileURLToPath(new URL('./pglite-archive.ts', import.meta.url));
    execFileSync(process.execPath, ['--import', 'tsx', script, join(runDir, 'migrated-pglite.tar')], { stdio: 'inherit' });
  }
}
