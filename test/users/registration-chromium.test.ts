/**
 * Self-registration in a real headless Chromium: from the application's sign-in, the
 * person follows "Create an account", gives email, password and the fields the pool's
 * profile schema requires, types the code that arrived at a real SMTP server, and lands
 * back at the application signed in (tokens exchanged with openid-client).
 * With registration off, the login page has no link and the page is a branded 404.
 */
import type { Browser as Chromium } from 'playwright-core';
import * as oidc from 'openid-client';
import { Browser, visibleText } from '../support/browser.js';
import { launchChromium, newContext } from '../support/chromium.js';
import { createClient, createPool, REDIRECT_URI, uniqueId } from '../support/fixtures.js';
import { discover, startAuthorization } from '../support/relying-party.js';
import { codeIn, startMailbox, type Mailbox } from '../support/smtp.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
let mailbox: Mailbox;
let chromium: Chromium;
beforeAll(async () => {
  mailbox = await startMailbox();
  tarn = await startTarn({ SMTP_URL: mailbox.url });
  chromium = await launchChromium();
});
afterAll(async () => {
  await chromium?.close();
  await tarn?.close();
  await mailbox?.close();
});

const profileSchema = {
  type: 'object',
  required: ['given_name', 'family_name'],
  properties: {
    given_name: { type: 'string', minLength: 1, title: 'First name' },
    family_name: { type: 'string', minLength: 1, title: 'Last name' },
    nickname: { type: 'string' },
  },
  additionalProperties: false,
};

async function authorizationUrl(config: oidc.Configuration) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  return { url, verifier, state };
}

it('a person registers from the login page, confirms their email with a code, and is signed in to the app', async () => {
  const pool = await createPool(tarn, { name: 'Lakeside Club', selfRegistration: true, profileSchema });
  const app = await createClient(tarn, pool.id, { name: 'Club App' });
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  const { url, verifier, state } = await authorizationUrl(config);
  const email = `${uniqueId('member')}@example.test`;

  const { context, callbacks } = await newContext(chromium, REDIRECT_URI);
  const page = await context.newPage();
  await page.goto(url.href);
  expect(await page.locator('h1').textContent()).toBe('Sign in');
  await page.click('a#register');
  expect(await page.locator('h1').textContent()).toBe('Create an account');
  expect(await page.locator('.pool-name').textContent()).toBe('Lakeside Club');
  expect(await page.locator('label[for=profile-given_name]').textContent()).toBe('First name');

  // The pool's policy says what was wrong in the user's words, beneath the field, which gets the focus.
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', `${email}!`);
  await page.fill('input[name="profile.given_name"]', 'Ada');
  await page.fill('input[name="profile.family_name"]', 'Byron');
  await page.click('button[type=submit]');
  expect(await page.locator('#password-error').textContent()).toBe('Your password must not contain your email address.');
  expect(await page.getAttribute('#password', 'aria-invalid')).toBe('true');
  expect(await page.getAttribute('#password', 'aria-describedby')).toContain('password-error');
  await page.waitForFunction(() => document.activeElement?.id === 'password');

  await page.fill('input[name=password]', 'a long and lovely password');
  await page.click('button[type=submit]');
  expect(await page.locator('h1').textContent()).toBe('Check your email');

  const mail = await mailbox.next(email);
  expect(mail.subject).toContain('Lakeside Club verification code');
  // Nothing exists until the code proves the address.
  expect((await tarn.admin('GET', `/pools/${pool.id}/users?email=${encodeURIComponent(email)}`)).body.items).toHaveLength(0);

  await page.fill('input[name=code]', codeIn(mail));
  await page.click('button[type=submit]');
  expect(await page.locator('h1').textContent()).toBe('Allow access');
  await page.click('button[value=allow]');
  await page.waitForURL(`${REDIRECT_URI}**`);
  await context.close();

  const tokens = await oidc.authorizationCodeGrant(config, new URL(callbacks[0]!), { pkceCodeVerifier: verifier, expectedState: state });
  const claims = tokens.claims()!;
  expect(claims).toMatchObject({ email, email_verified: true, given_name: 'Ada', family_name: 'Byron' });

  const listed = await tarn.admin('GET', `/pools/${pool.id}/users?email=${encodeURIComponent(email)}`);
  expect(listed.body.items[0]).toMatchObject({ id: claims.sub, status: 'active', emailVerified: true, profile: { given_name: 'Ada', family_name: 'Byron' } });
});

it('a wrong registration code creates nothing', async () => {
  const pool = await createPool(tarn, { selfRegistration: true });
  const app = await createClient(tarn, pool.id);
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  const browser = new Browser(tarn.url);
  const start = await startAuthorization(config, browser);
  const registerUrl = /href="([^"]+\/register)"/.exec(start.page.html)![1]!;
  const form = await browser.get(registerUrl);
  const email = `${uniqueId('member')}@example.test`;
  const verify = await browser.submit(form, { email, password: 'a long and lovely password' });
  const code = codeIn(await mailbox.next(email));
  const wrong = await browser.submit(verify, { code: code === '000000' ? '000001' : '000000' });
  expect(wrong.status).toBe(401);
  expect(visibleText(wrong.html)).toContain('That code is wrong or has expired');
  expect((await tarn.admin('GET', `/pools/${pool.id}/users?email=${encodeURIComponent(email)}`)).body.items).toHaveLength(0);
});

it('registering an email that already has an account reveals nothing on the page', async () => {
  const pool = await createPool(tarn, { name: 'Quiet Pool', selfRegistration: true });
  const app = await createClient(tarn, pool.id);
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  const email = `${uniqueId('member')}@example.test`;
  await tarn.admin('POST', `/pools/${pool.id}/users`, { email, mode: 'password', password: 'some existing password' });
  const browser = new Browser(tarn.url);
  const start = await startAuthorization(config, browser);
  const form = await browser.get(/href="([^"]+\/register)"/.exec(start.page.html)![1]!);
  const page = await browser.submit(form, { email, password: 'a long and lovely password' });
  expect(page.status).toBe(200);
  expect(visibleText(page.html)).toContain('Check your email');
  // The owner of the address is told instead, by mail.
  const mail = await mailbox.next(email);
  expect(mail.text).toContain('already has one');
});

it('with registration off the login page has no link and the page is a branded 404', async () => {
  const pool = await createPool(tarn, { name: 'Closed Club' });
  const app = await createClient(tarn, pool.id);
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  const { url } = await authorizationUrl(config);
  const { context } = await newContext(chromium, REDIRECT_URI);
  const page = await context.newPage();
  await page.goto(url.href);
  expect(await page.locator('h1').textContent()).toBe('Sign in');
  expect(await page.locator('a#register').count()).toBe(0);
  expect(await page.textContent('body')).not.toContain('Create an account');

  const registerUrl = page.url().replace(/\/interaction\/([^/?]+).*$/, '/interaction/$1/register');
  const response = await page.goto(registerUrl);
  expect(response!.status()).toBe(404);
  expect(await page.locator('.pool-name').textContent()).toBe('Closed Club');
  expect(await page.textContent('body')).toContain('This way of signing in is not offered here.');
  await context.close();
});
