/** The console in Chromium: signing in through the admin pool's hosted login, and axe-core on a page. */
import type { BrowserContext, Page } from 'playwright-core';
import { seriousViolations } from './axe.js';

export async function accessible(page: Page): Promise<void> {
  expect(await seriousViolations(page)).toEqual([]);
}

/** Signs in at the console of the Tarn at `url`, through the admin pool's hosted login page. */
export async function signInToConsole(url: string, context: BrowserContext, who: { email: string; password: string }): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${url}/console`);
  expect(await page.locator('h1').textContent()).toBe('Sign in');
  await page.fill('input[name=email]', who.email);
  await page.fill('input[name=password]', who.password);
  await page.click('button[type=submit]');
  await page.waitForURL(`${url}/console`);
  return page;
}
