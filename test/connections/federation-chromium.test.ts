/**
 * Pool-to-pool federation in a real headless Chromium: a person presses "Continue with
 * Partner" on the downstream pool's login page, signs in on the upstream pool's own hosted
 * login over HTTP, allows access on both sides, and the relying party (openid-client) gets an
 * ID token whose `sub` is the downstream user's.
 */
import type { Browser } from 'playwright-core';
import * as oidc from 'openid-client';
import { createClient, createUser, REDIRECT_URI } from '../support/fixtures.js';
import { launchChromium, newContext } from '../support/chromium.js';
import { discover } from '../support/relying-party.js';
import { partnerPools } from '../support/partner.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
let chromium: Browser;
beforeAll(async () => {
  tarn = await startTarn({ OUTGOING_NETWORKS: 'loopback' });
  chromium = await launchChromium();
});
afterAll(async () => {
  await chromium?.close();
  await tarn?.close();
});

it('a person continues with another pool and the relying party gets the downstream user', async () => {
  const { upstream, downstream } = await partnerPools(tarn);
  const person = await createUser(tarn, upstream.id, { emailVerified: true });
  const app = await createClient(tarn, downstream.id, { name: 'Harbour Desk' });
  const config = await discover(downstream.issuer, app.clientId, app.secret?.value);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });

  const { context, callbacks } = await newContext(chromium, REDIRECT_URI);
  const page = await context.newPage();
  await page.goto(url.href);
  expect(await page.locator('.pool-name').textContent()).toBe('Harbour Co');
  await page.click('text=Continue with Partner Corp');

  // The upstream pool's own login page.
  await page.waitForURL(`**/pools/${upstream.id}/interaction/**`);
  expect(await page.locator('.pool-name').textContent()).toBe('Partner Corp');
  await page.fill('input[name=email]', person.email);
  await page.fill('input[name=password]', person.password);
  await page.click('button[type=submit]');
  expect(await page.locator('h1').textContent()).toBe('Allow access');
  expect(await page.textContent('body')).toContain('Harbour Co sign-in');
  await page.click('button[value=allow]');

  // Back at the downstream pool, which asks for the relying party's access.
  await page.waitForURL(`**/pools/${downstream.id}/interaction/**`);
  expect(await page.textContent('body')).toContain('Harbour Desk');
  await page.click('button[value=allow]');
  await page.waitForURL(`${REDIRECT_URI}**`);
  await context.close();

  expect(callbacks).toHaveLength(1);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(callbacks[0]!), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
  const users = await tarn.admin('GET', `/pools/${downstream.id}/users?email=${encodeURIComponent(person.email)}`);
  expect(users.body.items).toHaveLength(1);
  expect(tokens.claims()!.sub).toBe(users.body.items[0].id);
  expect(tokens.claims()!.sub).not.toBe(person.id);
  expect(tokens.claims()!.email).toBe(person.email);
});
