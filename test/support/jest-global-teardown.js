/** Removes the run's shared directory (jest-global-setup.js). */
import { rmSync } from 'node:fs';

export default function globalTeardown() {
  if (process.env.TARN_TEST_RUN_DIR) rmSync(process.env.TARN_TEST_RUN_DIR, { recursive: true, force: true });
}
