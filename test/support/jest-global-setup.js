/**
 * Once per `npm test`, before the workers start (workers inherit the variables set here):
 *
 * - a directory for what the run's test files share, and in it, on PGlite, the migrated cluster
 *   that every test file restores (test/support/database.ts, pglite-archive.ts). Made here, once,
 *   instead of by each worker's first file (the workers used to create and migrate a cluster each,
 *   side by side, inside a test file's time limit);
 * - one Chromium for the run's hosted-page tests (test/support/chromium.ts): each file connects to
 *   it and works in contexts of its own, instead of launching a browser. Launched when the run may
 *   have such a test: all files, or a file pattern that names Chromium.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export default async function globalSetup(globalConfig, projectConfig) {
  const runDir = mkdtempSync(join(tmpdir(), 'tarn-test-run-'));
  process.env.TARN_TEST_RUN_DIR = runDir;
  // The interop suite starts Tarn as `npm start` (its own database): it has no use for the archive.
  if (!process.env.DATABASE_URL && projectConfig.globals?.tarnPgliteArchive !== false) {
    const script = fileURLToPath(new URL('./pglite-archive.ts', import.meta.url));
    execFileSync(process.execPath, ['--import', 'tsx', script, join(runDir, 'migrated-pglite.tar')], { stdio: 'inherit' });
  }
  const patterns = globalConfig.testPathPatterns?.patterns ?? [];
  if (patterns.length === 0 || patterns.some((pattern) => /chromium/i.test(pattern))) {
    const { chromium } = await import('playwright-core');
    const options = JSON.parse(readFileSync(new URL('./chromium-launch.json', import.meta.url), 'utf8'));
    const server = await chromium.launchServer({ ...options, executablePath: process.env.CHROMIUM_PATH ?? options.executablePath });
    globalThis.tarnTestChromium = server;
    process.env.TARN_TEST_CHROMIUM_ENDPOINT = server.wsEndpoint();
  }
}
