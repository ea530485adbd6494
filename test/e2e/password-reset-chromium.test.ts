/**
 * "Forgot password?" in a real Chromium with real SMTP: the person asks for a reset from
 * the login page, gets a code and link by mail, chooses a new password, and signs in with it.
 * Every session and refresh token of before is gone; the old password no longer works; an
 * unknown address gets the same page; the admin can send the same mail.
 */
import type { Browser as Chromium } from 'playwright-core';
import * as oidc from 'openid-client';
import { seriousViolations } from '../support/axe.js';
import { Browser, visibleText } from '../support/browser.js';
import { launchChromium, newContext } from '../support/chromium.js';
import { REDIRECT_URI, uniqueId } from '../support/fixtures.js';
import { setUpSignIn, signIn, startAuthorization } from '../support/relying-party.js';
import { codeIn, linkIn, startMailbox, type Mailbox } from '../support/smtp.js';
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

it('a person resets a forgotten password from the login page; old password and old refresh token stop working', async () => {
  const { user, config } = await setUpSignIn(tarn, { client: { grantTypes: ['authorization_code', 'refresh_token'] } });
  const before = await signIn(config, tarn.url, user);
  expect(before.tokens.refresh_token).toBeTruthy();

  const { context } = await newContext(chromium, REDIRECT_URI);
  const page = await context.newPage();
  const challenge = await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier());
  await page.goto(
    oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256' }).href,
  );
  expect(await page.locator('h1').textContent()).toBe('Sign in');
  await page.click('#forgot-password');
  expect(await page.locator('h1').textContent()).toBe('Reset your password');
  expect(await seriousViolations(page)).toEqual([]);
  await page.fill('input[name=email]', user.email);
  await page.click('button[type=submit]');
  expect(await page.locator('h1').textContent()).toBe('Choose a new password');
  expect(await seriousViolations(page)).toEqual([]);

  const mail = await mailbox.next(user.email);
  expect(mail.subject).toContain('Reset your');
  await page.goto(linkIn(mail));
  expect(await page.locator('h1').textContent()).toBe('Choose a new password');
  expect(await seriousViolations(page)).toEqual([]);
  // The old password is refused as the new one.
  await page.fill('input[name=password]', user.password);
  await page.click('button[type=submit]');
  expect(await page.locator('[role=alert]').textContent()).toContain('different from your current one');
  await page.fill('input[name=password]', 'a brand new passphrase');
  await page.click('button[type=submit]');
  expect(await page.locator('h1').textContent()).toBe('Password changed');
  expect(await seriousViolations(page)).toEqual([]);
  // The link worked once.
  const again = await page.goto(linkIn(mail));
  expect(again?.status()).toBe(410);
  await context.close();

  const notice = await mailbox.next(user.email);
  expect(notice.subject).toContain('password was changed');
  await expect(oidc.refreshTokenGrant(config, before.tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  const oldBrowser = new Browser(tarn.url);
  const oldTry = await startAuthorization(config, oldBrowser);
  const refused = await oldBrowser.submit(oldTry.page, { email: user.email, password: user.password });
  expect(visibleText(refused.html)).toContain('Invalid email or password.');
  const after = await signIn(config, tarn.url, { email: user.email, password: 'a brand new passphrase' });
  expect(after.tokens.claims()!.sub).toBe(user.id);
});

it('an unknown address gets the same page as a known one, and a typed code works once', async () => {
  const { pool, user, config } = await setUpSignIn(tarn);
  const ask = async (email: string) => {
    const browser = new Browser(tarn.url);
    const form = await browser.get(`/pools/${pool.id}/password-reset`);
    const page = await browser.submit(form, { email });
    return { browser, page, text: visibleText(page.html).replace(email, 'ADDRESS') };
  };
  const unknown = await ask(`${uniqueId('nobody')}@example.test`);
  const known = await ask(user.email);
  expect(unknown.page.status).toBe(200);
  expect(known.page.status).toBe(200);
  expect(unknown.text).toBe(known.text);

  const code = codeIn(await mailbox.next(user.email));
  const wrong = await known.browser.submit(known.page, { code: code === '000000' ? '111111' : '000000', password: 'another new passphrase' });
  expect(wrong.status).toBe(401);
  const done = await known.browser.submit(wrong, { code, password: 'another new passphrase' });
  expect(visibleText(done.html)).toContain('Password changed');
  // The same code typed again, from a fresh form, no longer works.
  const other = new Browser(tarn.url);
  const form = await other.get(`/pools/${pool.id}/password-reset`);
  const csrf = /name="csrf" value="([^"]+)"/.exec(form.html)![1]!;
  const reused = await other.navigate('POST', `/pools/${pool.id}/password-reset/new`, { csrf, email: user.email, code, password: 'yet another passphrase' });
  expect(reused.status).toBe(401);
  expect(visibleText(reused.html)).toContain('That code is wrong or has expired.');
  await mailbox.next(user.email);
  const audited = await tarn.admin('GET', `/pools/${pool.id}/audit?action=user.password_reset`);
  expect((audited.body as { items: { target: unknown; actor: unknown }[] }).items).toEqual([
    expect.objectContaining({ target: { type: 'user', id: user.id }, actor: expect.objectContaining({ kind: 'user', id: user.id }) }),
  ]);
  const after = await signIn(config, tarn.url, { email: user.email, password: 'another new passphrase' });
  expect(after.tokens.claims()!.sub).toBe(user.id);
});

it('an admin sends a password reset to an active user; a disabled user is refused with a problem', async () => {
  const { pool, user, config } = await setUpSignIn(tarn);
  const sent = await tarn.admin('POST', `/pools/${pool.id}/users/${user.id}/password-reset`);
  expect(sent.status).toBe(202);
  expect(sent.body).toMatchObject({ sentTo: user.email });
  const browser = new Browser(tarn.url);
  const form = await browser.get(linkIn(await mailbox.next(user.email)));
  const done = await browser.submit(form, { password: 'chosen by the owner' });
  expect(visibleText(done.html)).toContain('Password changed');
  await mailbox.next(user.email);
  expect((await signIn(config, tarn.url, { email: user.email, password: 'chosen by the owner' })).tokens.claims()!.sub).toBe(user.id);

  expect((await tarn.admin('PATCH', `/pools/${pool.id}/users/${user.id}`, { status: 'disabled' })).status).toBe(200);
  const refused = await tarn.admin('POST', `/pools/${pool.id}/users/${user.id}/password-reset`);
  expect(refused.status).toBe(409);
  expect(refused.body).toMatchObject({ detail: expect.stringContaining('disabled') });
});
