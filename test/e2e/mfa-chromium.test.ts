/**
 * The second-factor pages in a real headless Chromium: a person enrols an authenticator app
 * on a pool that requires it (typing the manual key into the "app", here otpauth), saves the
 * recovery codes, and later signs in with password and code. Every page passes axe-core with
 * no serious or critical violation.
 */
import axe from 'axe-core';
import * as oidc from 'openid-client';
import * as OTPAuth from 'otpauth';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, newContext } from '../support/chromium.js';
import { REDIRECT_URI } from '../support/fixtures.js';
import { setUpSignIn } from '../support/relying-party.js';
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

async function seriousViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the page's CSP (no inline script) does not govern.
  await page.evaluate(axe.source);
  const result = await page.evaluate(() => (window as unknown as { axe: typeof axe }).axe.run());
  return result.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id}: ${violation.help}`);
}

function appCode(secret: string, steps = 0): string {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) }).generate({ timestamp: Date.now() + steps * 30_000 });
}

async function authorizationUrl(config: oidc.Configuration) {
  return oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid',
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
    state: oidc.randomState(),
  }).href;
}

it('enrolment with the manual key, recovery codes, then password + code, each page accessible', async () => {
  const { user, config } = await setUpSignIn(tarn, { pool: { signIn: { mfa: 'required' } } });

  const { context } = await newContext(chromium, REDIRECT_URI);
  const page = await context.newPage();
  await page.goto(await authorizationUrl(config));
  await page.fill('input[name=email]', user.email);
  await page.fill('input[name=password]', user.password);
  await page.click('button[type=submit]');
  expect(await page.locator('h1').textContent()).toBe('Set up two-step verification');
  expect(await page.locator('svg[role=img]').count()).toBe(1);
  expect(await seriousViolations(page)).toEqual([]);
  const secret = (await page.locator('#totp-secret').textContent())!;

  await page.fill('input[name=code]', appCode(secret));
  await page.click('form[action$="/mfa/enrol"] button[type=submit]');
  expect(await page.locator('h1').textContent()).toBe('Your recovery codes');
  expect(await page.locator('#recovery-codes li').count()).toBe(10);
  expect(await seriousViolations(page)).toEqual([]);
  await page.click('#continue');
  if (await page.locator('button[value=allow]').count()) await page.click('button[value=allow]');
  await page.waitForURL(`${REDIRECT_URI}**`);
  await context.close();

  const later = await newContext(chromium, REDIRECT_URI);
  const again = await later.context.newPage();
  await again.goto(await authorizationUrl(config));
  await again.fill('input[name=email]', user.email);
  await again.fill('input[name=password]', user.password);
  await again.click('button[type=submit]');
  expect(await again.locator('h1').textContent()).toBe('Two-step verification');
  expect(await seriousViolations(again)).toEqual([]);
  await again.fill('input[name=code]', '000000' === appCode(secret, 1) ? '111111' : '000000');
  await again.click('form[action$="/mfa/totp"] button[type=submit]');
  expect(await again.locator('[role=alert]').textContent()).toContain('That code is not right');
  expect(await seriousViolations(again)).toEqual([]);
  await again.fill('input[name=code]', appCode(secret, 1));
  await again.click('form[action$="/mfa/totp"] button[type=submit]');
  if (await again.locator('button[value=allow]').count()) await again.click('button[value=allow]');
  await again.waitForURL(`${REDIRECT_URI}**`);
  await later.context.close();
});
