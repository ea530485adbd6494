/**
 * The hosted login and consent pages in a real headless Chromium: what a person sees,
 * types and clicks, ending with the relying party's callback carrying a code that
 * openid-client exchanges for tokens.
 */
import type { Browser } from 'playwright-core';
import * as oidc from 'openid-client';
import { createClient, createPool, createUser, REDIRECT_URI } from '../support/fixtures.js';
import { launchChromium, newContext } from '../support/chromium.js';
import { discover } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
let chromium: Browser;
beforeAll(async () => {
  tarn = await startTarn();
  chromium = await launchChromium();
});
afterAll(async () => {
  await chromium?.close();
  await tarn?.close();
});

it('a person signs in on the branded login page and allows access; the app gets tokens', async () => {
  const pool = await createPool(tarn, { name: 'Harbour Co', tagColor: '#0b7a75' });
  const app = await createClient(tarn, pool.id, { name: 'Harbour Desk' });
  const user = await createUser(tarn, pool.id);
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });

  const { context, callbacks } = await newContext(chromium, REDIRECT_URI);
  const page = await context.newPage();
  await page.goto(url.href);
  expect(await page.locator('h1').textContent()).toBe('Sign in');
  expect(await page.locator('.pool-name').textContent()).toBe('Harbour Co');
  expect(await page.textContent('body')).toContain('Harbour Desk');
  // The pool's colour reaches the page through its branding stylesheet.
  const accent = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--accent').trim());
  expect(accent).toBe('#0b7a75');

  await page.fill('input[name=email]', user.email);
  await page.fill('input[name=password]', 'wrong password!');
  await page.click('button[type=submit]');
  expect(await page.locator('[role=alert]').textContent()).toContain('Invalid email or password.');

  await page.fill('input[name=password]', user.password);
  await page.click('button[type=submit]');
  expect(await page.locator('h1').textContent()).toBe('Allow access');
  await page.click('button[value=allow]');
  await page.waitForURL(`${REDIRECT_URI}**`);
  await context.close();

  expect(callbacks).toHaveLength(1);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(callbacks[0]!), { pkceCodeVerifier: verifier, expectedState: state });
  expect(tokens.claims()!.sub).toBe(user.id);
});
