/**
 * A real headless Chromium (Debian's, driven by playwright-core) for hosted-page tests.
 * Each test gets a fresh context (cookies, storage); close() ends the browser, or, under
 * `npm test`, closes this file's contexts and disconnects from the run's browser.
 */
import { readFileSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type LaunchOptions } from 'playwright-core';

/**
 * How every test launches Chromium (chromium-launch.json, which jest-global-setup.js reads too);
 * CHROMIUM_PATH names another binary.
 */
export function chromiumLaunchOptions(): LaunchOptions {
  const options = JSON.parse(readFileSync(new URL('./chromium-launch.json', import.meta.url), 'utf8')) as LaunchOptions;
  return { ...options, executablePath: process.env.CHROMIUM_PATH ?? options.executablePath };
}

/**
 * Under `npm test`, one Chromium serves the whole run (jest-global-setup.js launches it; every
 * file works in contexts of its own, which share no cookies or storage): a launch costs each
 * file about two seconds of CPU. Alone (a script, or a run that did not launch it), its own.
 */
export async function launchChromium(): Promise<Browser> {
  const shared = process.env.TARN_TEST_CHROMIUM_ENDPOINT;
  if (shared) return chromium.connect(shared);
  return chromium.launch(chromiumLaunchOptions());
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
