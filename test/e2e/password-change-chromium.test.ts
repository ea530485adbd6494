/**
 * In a real Chromium: a user imported with a password that fails the pool's policy signs in,
 * is asked to choose a new one (the page passes axe-core, before and after a refused try),
 * and only then does the application get its code, which openid-client exchanges.
 */
import type { Browser as Chromium } from 'playwright-core';
import * as oidc from 'openid-client';
import { seriousViolations } from '../support/axe.js';
import { launchChromium, newContext } from '../support/chromium.js';
import { createClient, createPool, REDIRECT_URI } from '../support/fixtures.js';
import { discover, signIn } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
let chromium: Chromium;
beforeAll(async () => {
  tarn = await startTarn();
  chromium = await launchChromium();
});
afterAll(async () => {
  await chromium?.close();
  await tarn?.close();
});

it('a user with a weak imported password chooses a new one before the application gets its code', async () => {
  const pool = await createPool(tarn, { name: 'Cedar Library', passwordPolicy: { minLength: 12 } });
  const app = await createClient(tarn, pool.id);
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  const weak = { email: 'reader@example.test', password: 'weak-pass' };
  const imported = await fetch(`${tarn.url}/admin/pools/${pool.id}/users/import?requirePasswordChange=weak`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tarn.adminToken}`, 'content-type': 'application/x-ndjson' },
    body: JSON.stringify(weak),
  });
  expect(await imported.json()).toMatchObject({ created: 1, failed: 0 });

  const { context, callbacks } = await newContext(chromium, REDIRECT_URI);
  const page = await context.newPage();
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  await page.goto(
    oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    }).href,
  );
  await page.fill('input[name=email]', weak.email);
  await page.fill('input[name=password]', weak.password);
  await page.click('button[type=submit]');
  expect(await page.locator('h1').textContent()).toBe('Choose a new password');
  expect(await page.locator('main, body').first().textContent()).toContain('Your password must be changed before you continue');
  expect(await seriousViolations(page)).toEqual([]);

  // A password the policy refuses: the page says why, and the application has nothing yet.
  await page.fill('input[name=password]', 'reader-password-2026');
  await page.click('button[type=submit]');
  expect(await page.locator('[role=alert]').textContent()).toBe('Your password must not contain your email address.');
  expect(await page.getAttribute('input[name=password]', 'aria-invalid')).toBe('true');
  expect(await seriousViolations(page)).toEqual([]);
  expect(callbacks).toEqual([]);

  await page.fill('input[name=password]', 'a long new passphrase');
  await page.click('button[type=submit]');
  if ((await page.locator('h1').textContent()) === 'Allow access') await page.click('button[value=allow]');
  await page.waitForURL(`${REDIRECT_URI}**`);
  await context.close();
  expect(callbacks).toHaveLength(1);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(callbacks[0]!), { pkceCodeVerifier: verifier, expectedState: state });
  expect(tokens.claims()?.email).toBe(weak.email);

  // The new password signs in; the old one no longer does.
  await signIn(config, tarn.url, { email: weak.email, password: 'a long new passphrase' });
  await expect(signIn(config, tarn.url, weak)).rejects.toThrow(/expected a redirect/);
});
