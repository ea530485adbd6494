/**
 * Accessibility check of a page in Chromium with axe-core: the serious and critical
 * violations, as "rule: target" lines (an empty list passes).
 */
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const require = createRequire(import.meta.url);
const axe = require('axe-core') as { source: string };

export async function seriousViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, so the page's CSP does not stop it.
  await page.evaluate(axe.source);
  const violations = await page.evaluate(async () => {
    const run = (
      globalThis as unknown as {
        axe: { run: (context: Document) => Promise<{ violations: { id: string; impact: string | null; nodes: { target: unknown[] }[] }[] }> };
      }
    ).axe.run;
    const result = await run(document);
    return result.violations.map((item) => ({ id: item.id, impact: item.impact, targets: item.nodes.map((node) => JSON.stringify(node.target)) }));
  });
  return violations.filter((item) => item.impact === 'serious' || item.impact === 'critical').map((item) => `${item.id}: ${item.targets.join(', ')}`);
}
