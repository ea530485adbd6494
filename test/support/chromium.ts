/**
 * A real headless Chromium (Debian's, driven by playwright-core) for hosted-page tests.
 * Each test gets a fresh context (cookies, storage); close() ends the browser.
 */
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A context whose navigations to the relying party's redirect URI (not a real server)
 * are captured instead of loaded: the callback URL is what the relying party receives.
 */
export async function newContext(browser: Browser, redirectPrefix: string): Promise<{ context: BrowserContext; callbacks: string[] }> {
  const context = await browser.newContext();
  const callbacks: string[] = [];
  await context.route(`${redirectPrefix}**`, async (route) => {
    callbacks.push(route.request().url());
    await route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>callback</title><p>relying party callback</p>' });
  });
  return { context, callbacks };
}
