/** Closes the run's Chromium and removes the run's shared directory (jest-global-setup.js). */
import { rmSync } from 'node:fs';

export default async function globalTeardown() {
  await globalThis.tarnTestChromium?.close();
  if (process.env.TARN_TEST_RUN_DIR) rmSync(process.env.TARN_TEST_RUN_DIR, { recursive: true, force: true });
}
