/**
 * Accessibility check of a page in Chromium with axe-core: the serious and critical
 * violations, as "rule: target" lines (an empty list passes).
 *
 * axe-core is 650 kB of script (minified). Sent with every check, it cost about a second
 * of the browser's and the test's time per check; instead, the first check in a browser
 * context evaluates it in that page and registers it with the context as a script of every
 * new document, so later checks in the context find it already there. Both go through the
 * DevTools protocol, so the page's CSP does not stop them.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { BrowserContext, Page } from 'playwright-core';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const contextsWithAxe = new WeakSet<BrowserContext>();

async function ensureAxe(page: Page): Promise<void> {
  const context = page.context();
  if (!contextsWithAxe.has(context)) {
    contextsWithAxe.add(context);
    await context.addInitScript({ content: axeSource });
  }
  const present = await page.evaluate(() => typeof (globalThis as { axe?: unknown }).axe === 'object');
  if (!present) await page.evaluate(axeSource);
}

export async function seriousViolations(page: Page): Promise<string[]> {
  await ensureAxe(page);
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
