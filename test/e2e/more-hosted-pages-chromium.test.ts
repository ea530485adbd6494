/**
 * The hosted pages the other Chromium tests pass by, at phone width (390 px), each checked with
 * axe-core (no serious or critical violation) and for sideways scrolling:
 * - the device flow to its end: code, confirmation, sign-in, consent, the "done" page;
 * - activation of an invited account and its confirmation; "add a passkey" after it and the
 *   "passkey added" confirmation; the passkey script's words in the page's language;
 * - "your account is ready" after declining a passkey; the passkey sign-in page as it waits;
 * - the emailed-code page with its ways forward;
 * - sign-out and the "signed out" page, which links back to the application it came from and
 *   keeps the language the sign-out was asked in, with or without a session, and the page that
 *   re-posts a cross-site sign-out form;
 * - "forgot password" in the language of the login page that linked to it, in German and Japanese.
 * Tarn runs at http://localhost:PORT (a WebAuthn relying-party id cannot be an IP address).
 */
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { catalogueOf, type Locale } from '../../src/i18n/catalogues.js';
import { translatorFor } from '../../src/i18n/translator.js';
import { seriousViolations } from '../support/axe.js';
import { launchChromium } from '../support/chromium.js';
import { createClient, createPool, createUser, REDIRECT_URI } from '../support/fixtures.js';
import { codeIn, linkIn, startMailbox, type Mailbox } from '../support/smtp.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
let mailbox: Mailbox;
let chromium: Browser;
beforeAll(async () => {
  mailbox = await startMailbox();
  tarn = await startTarn({ PUBLIC_URL: 'http://localhost:{port}', SMTP_URL: mailbox.url });
  chromium = await launchChromium();
});
afterAll(async () => {
  await chromium?.close();
  await tarn?.close();
  await mailbox?.close();
});

const contexts: BrowserContext[] = [];
afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
});

const PHONE = { width: 390, height: 844 };
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const text = (locale: Locale, key: string) => catalogueOf(locale)[key]!;

/** A phone's browser in a language; the relying party's callback is answered here, not loaded. */
async function phone(locale = 'en-US'): Promise<Page> {
  const context = await chromium.newContext({ viewport: PHONE, locale });
  contexts.push(context);
  await context.route(`${REDIRECT_URI}**`, (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>callback</title><p>relying party callback</p>' }),
  );
  return context.newPage();
}

/** A platform authenticator that verifies its user, in the page's browser. */
async function withAuthenticator(page: Page): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
  });
  return { cdp, authenticatorId };
}

/** What every page here must be: its heading, its language, within the phone's width, and without serious axe violations. */
async function expectPage(page: Page, heading: string, locale: Locale = 'en') {
  await page.waitForSelector('h1');
  expect((await page.locator('h1').textContent())?.trim()).toBe(heading);
  expect(await page.getAttribute('html', 'lang')).toBe(locale);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
  expect(await seriousViolations(page)).toEqual([]);
}

function authorizeUrl(issuer: string, clientId: string, extra: Record<string, string> = {}): string {
  const url = new URL(`${issuer}/auth`);
  url.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: 'openid email',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    state: 'state-1',
    ...extra,
  }).toString();
  return url.href;
}

async function typePassword(page: Page, user: { email: string; password: string }) {
  await page.fill('#email', user.email);
  await page.fill('#password', user.password);
  await page.click('button[type=submit] >> nth=0');
}

async function invite(poolId: string) {
  const created = await tarn.admin('POST', `/pools/${poolId}/users`, {
    email: `invited-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.test`,
    mode: 'invite',
  });
  expect(created.status).toBe(201);
  const email = created.body.email as string;
  return { id: created.body.id as string, email, link: linkIn(await mailbox.next(email)) };
}

it('the device flow to its end: code, confirmation, sign-in, consent and the "done" page', async () => {
  const pool = await createPool(tarn);
  const app = await createClient(tarn, pool.id, { name: 'Living Room TV', grantTypes: [DEVICE_GRANT], redirectUris: [], tokenEndpointAuthMethod: 'none' });
  const user = await createUser(tarn, pool.id);
  const started = await fetch(`${pool.issuer}/device/auth`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: app.clientId, scope: 'openid' }),
  });
  const grant = (await started.json()) as { verification_uri: string; user_code: string; device_code: string };

  const page = await phone();
  await page.goto(grant.verification_uri);
  await expectPage(page, text('en', 'device.code.title'));
  await page.fill('#user_code', grant.user_code);
  await page.click('button[type=submit]');
  await expectPage(page, text('en', 'device.confirm.title'));
  await page.click('button[name=confirm]');
  await expectPage(page, text('en', 'login.title'));
  await typePassword(page, user);
  await expectPage(page, text('en', 'consent.title'));
  await page.click('button[value=allow]');
  await expectPage(page, text('en', 'device.success.title'));
  expect(await page.locator('[role=status]').textContent()).toBe(translatorFor('en').t('device.success.textWithClient', { client: 'Living Room TV' }));

  // The device, polling, now gets its tokens.
  const token = await fetch(`${pool.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: DEVICE_GRANT, device_code: grant.device_code, client_id: app.clientId }),
  });
  expect(token.status).toBe(200);
});

it('an invited person activates the account: the form, a refused password tied to its field, the confirmation', async () => {
  const pool = await createPool(tarn, { name: 'Harbour Co' });
  const { email, link } = await invite(pool.id);
  const page = await phone();
  await page.goto(link);
  await expectPage(page, text('en', 'activate.title'));
  await page.fill('#password', 'short');
  await page.click('button[type=submit]');
  expect(await page.getAttribute('#password', 'aria-invalid')).toBe('true');
  expect(await page.locator('#password-error').textContent()).toBe(
    translatorFor('en').t('validation.password.minLength', { minLength: pool.passwordPolicy.minLength }),
  );
  await expectPage(page, text('en', 'activate.title'));
  await page.fill('#password', 'a long and lovely password');
  await page.click('button[type=submit]');
  await expectPage(page, text('en', 'activated.heading'));
  expect(await page.locator('[role=status]').textContent()).toBe(translatorFor('en').t('activated.text', { email, pool: 'Harbour Co' }));
});

it('after activation in a pool with passkeys: "add a passkey", then the confirmation that it was added', async () => {
  const pool = await createPool(tarn, { signIn: { password: true, passkey: true } });
  const { id, link } = await invite(pool.id);
  const page = await phone();
  await withAuthenticator(page);
  await page.goto(link);
  await page.fill('#password', 'a long and lovely password');
  await page.click('button[type=submit]');
  await expectPage(page, text('en', 'passkey.add.title'));
  await page.click('#passkey-start');
  await expectPage(page, text('en', 'passkey.done.added'));
  expect(await page.locator('[role=status]').textContent()).toBe(text('en', 'passkey.done.addedText'));
  const passkeys = await tarn.admin('GET', `/pools/${pool.id}/users/${id}/passkeys`);
  expect(passkeys.body.items).toHaveLength(1);
});

it('"not now" after activation: the account is ready (in Chinese)', async () => {
  const pool = await createPool(tarn, { signIn: { password: true, passkey: true } });
  const { link } = await invite(pool.id);
  const page = await phone('zh-CN');
  await page.goto(link);
  await page.fill('#password', 'a long and lovely password');
  await page.click('button[type=submit]');
  await expectPage(page, text('zh-CN', 'passkey.add.title'), 'zh-CN');
  await page.click('#passkey-skip');
  await expectPage(page, text('zh-CN', 'passkey.done.ready'), 'zh-CN');
  expect(await page.locator('[role=status]').textContent()).toBe(text('zh-CN', 'passkey.done.readyText'));
});

it('the passkey sign-in page, as it waits for the browser', async () => {
  const pool = await createPool(tarn, { signIn: { password: true, passkey: true } });
  const app = await createClient(tarn, pool.id);
  const page = await phone();
  const { cdp, authenticatorId } = await withAuthenticator(page);
  // The authenticator waits for a touch that does not come, so the page is read as it first shows.
  await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: false });
  await page.goto(authorizeUrl(pool.issuer, app.clientId));
  await page.click(`button:text-is("${text('en', 'login.withPasskey')}") >> nth=0`);
  await expectPage(page, text('en', 'passkey.signin.title'));
  expect(await page.locator('#passkey-waiting').textContent()).toBe(text('en', 'passkey.signin.waiting'));
});

it('the passkey script\'s words are the page\'s language: a refused request in German, then "try again"', async () => {
  const pool = await createPool(tarn, { signIn: { password: true, passkey: true } });
  const { link } = await invite(pool.id);
  const page = await phone('de-DE');
  await withAuthenticator(page);
  // Opened at 127.0.0.1, where the pool's passkeys (relying party "localhost") cannot be made: the browser refuses at once.
  await page.goto(link.replace('//localhost:', '//127.0.0.1:'));
  await page.fill('#password', 'ein langes und schönes Passwort');
  await page.click('button[type=submit]');
  await expectPage(page, text('de', 'passkey.add.title'), 'de');
  await page.click('#passkey-start');
  await page.waitForSelector('#passkey-error:not([hidden])');
  expect(await page.locator('#passkey-error').textContent()).toBe(text('de', 'passkey.script.notPermitted'));
  expect(await page.locator('#passkey-start').textContent()).toBe(text('de', 'passkey.script.tryAgain'));
  await expectPage(page, text('de', 'passkey.add.title'), 'de');
});

it('the emailed-code page says when the code expires and offers a new code and another address', async () => {
  const pool = await createPool(tarn, { signIn: { password: true, emailCode: true } });
  const app = await createClient(tarn, pool.id);
  const user = await createUser(tarn, pool.id, { emailVerified: true });
  const page = await phone('ja-JP');
  await page.goto(authorizeUrl(pool.issuer, app.clientId));
  await expectPage(page, text('ja', 'login.title'), 'ja');
  const loginUrl = page.url();
  await page.fill('#code-email', user.email);
  await page.click('#email-code');
  await expectPage(page, text('ja', 'emailCode.title'), 'ja');
  expect(await page.locator('#code-sent').textContent()).toContain(new Intl.RelativeTimeFormat('ja', { numeric: 'auto' }).format(10, 'minute'));
  const code = codeIn(await mailbox.next(user.email));
  // "Use another email" goes back to the login page of this sign-in.
  expect(new URL((await page.getAttribute('#other-email', 'href'))!, page.url()).href).toBe(loginUrl);
  expect(await page.locator('#other-email').textContent()).toBe(text('ja', 'emailCode.otherEmail'));

  // "Send a new code" at once: the same page again, no error; within 30 seconds no second mail is
  // sent to the address (ADR 0304), so the code already mailed stays the one that works.
  expect(await page.locator('#resend-code').textContent()).toBe(text('ja', 'emailCode.resend'));
  await Promise.all([page.waitForNavigation(), page.click('#resend-code')]);
  await expectPage(page, text('ja', 'emailCode.title'), 'ja');
  expect(await page.locator('[role=alert]').count()).toBe(0);

  await page.fill('#code', code);
  await page.click('button[type=submit] >> nth=0');
  await expectPage(page, text('ja', 'consent.title'), 'ja');
});

describe('sign-out', () => {
  async function signedIn(clientFields: Record<string, unknown>) {
    const pool = await createPool(tarn, { name: 'Quai' });
    const app = await createClient(tarn, pool.id, { name: 'Harbour Desk', ...clientFields });
    const user = await createUser(tarn, pool.id);
    const page = await phone();
    await page.goto(authorizeUrl(pool.issuer, app.clientId));
    await typePassword(page, user);
    await page.click('button[value=allow]');
    await page.waitForURL(`${REDIRECT_URI}**`);
    return { pool, app, page };
  }

  it('"sign out" everywhere, and the signed-out page links back to the application\'s home page', async () => {
    const { pool, app, page } = await signedIn({ clientUri: 'https://desk.example.test/' });
    const tab = await page.context().newPage();
    await tab.goto(`${pool.issuer}/session/end?client_id=${encodeURIComponent(app.clientId)}`);
    await expectPage(tab, text('en', 'logout.question'));
    await tab.click('button[name=logout]');
    await expectPage(tab, text('en', 'loggedOut.heading'));
    expect(await tab.locator('[role=status]').textContent()).toBe(translatorFor('en').t('loggedOut.textWithClient', { pool: 'Quai', client: 'Harbour Desk' }));
    expect(await tab.getAttribute('#back-to-app', 'href')).toBe('https://desk.example.test/');
    expect(await tab.locator('#back-to-app').textContent()).toBe(translatorFor('en').t('loggedOut.back', { client: 'Harbour Desk' }));

    // Signed out for real: a new sign-in asks for the password.
    await tab.goto(authorizeUrl(pool.issuer, app.clientId));
    await expectPage(tab, text('en', 'login.title'));
  });

  it('an application without a home page: the link goes to the page it registered for after sign-out', async () => {
    const { pool, app, page } = await signedIn({ postLogoutRedirectUris: ['https://desk.example.test/goodbye'] });
    const tab = await page.context().newPage();
    await tab.goto(`${pool.issuer}/session/end?client_id=${encodeURIComponent(app.clientId)}`);
    await tab.click('button[name=logout]');
    await expectPage(tab, text('en', 'loggedOut.heading'));
    expect(await tab.getAttribute('#back-to-app', 'href')).toBe('https://desk.example.test/goodbye');
  });

  it('asked in Japanese by an English browser: both pages are in Japanese, the link too', async () => {
    const { pool, app, page } = await signedIn({ clientUri: 'https://desk.example.test/' });
    const tab = await page.context().newPage();
    await tab.goto(`${pool.issuer}/session/end?client_id=${encodeURIComponent(app.clientId)}&ui_locales=ja`);
    await expectPage(tab, text('ja', 'logout.question'), 'ja');
    await tab.click('button[name=logout]');
    await expectPage(tab, text('ja', 'loggedOut.heading'), 'ja');
    expect(await tab.locator('#back-to-app').textContent()).toBe(translatorFor('ja').t('loggedOut.back', { client: 'Harbour Desk' }));
  });

  it('a browser already signed out still gets the link back to the application', async () => {
    const pool = await createPool(tarn);
    const app = await createClient(tarn, pool.id, { name: 'Harbour Desk', initiateLoginUri: 'https://desk.example.test/login' });
    const page = await phone();
    await page.goto(`${pool.issuer}/session/end?client_id=${encodeURIComponent(app.clientId)}`);
    await page.waitForSelector('#back-to-app');
    await expectPage(page, text('en', 'loggedOut.heading'));
    expect(await page.getAttribute('#back-to-app', 'href')).toBe('https://desk.example.test/login');
  });

  it('with no application named, the page says so and offers no link', async () => {
    const pool = await createPool(tarn, { name: 'Quai' });
    const page = await phone();
    await page.goto(`${pool.issuer}/session/end`);
    await page.waitForSelector('[role=status]');
    await expectPage(page, text('en', 'loggedOut.heading'));
    expect(await page.locator('[role=status]').textContent()).toBe(translatorFor('en').t('loggedOut.text', { pool: 'Quai' }));
    expect(await page.locator('#back-to-app').count()).toBe(0);
  });
});

it("the page that re-posts a cross-site sign-out form from Tarn's own site, in the language asked for", async () => {
  const pool = await createPool(tarn);
  const app = await createClient(tarn, pool.id);
  const page = await phone('en-US');
  // Held back, its script would post the form at once; without it, the page waits for the button.
  await page.route('**/assets/repost.js', (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: '' }));
  await page.route('http://rp.example.test/signed-in', (route) =>
    route.fulfill({
      status: 200,
      contentType: 'text/html',
      body: `<!doctype html><html lang="en"><title>rp</title><form method="post" action="${pool.issuer}/session/end"><input type="hidden" name="client_id" value="${app.clientId}"><input type="hidden" name="ui_locales" value="fr"><button id="go">Go</button></form></html>`,
    }),
  );
  await page.goto('http://rp.example.test/signed-in');
  await page.click('#go');
  await expectPage(page, text('fr', 'repost.title'), 'fr');
  await page.click('#repost button[type=submit]');
  await expectPage(page, text('fr', 'loggedOut.heading'), 'fr');
});

describe.each(['de', 'ja'] as const)("forgot password in the login page's language (ui_locales=%s, an English browser)", (locale) => {
  it('the ask, the new password, the mail and its link, and the done page', async () => {
    const pool = await createPool(tarn);
    const app = await createClient(tarn, pool.id);
    const user = await createUser(tarn, pool.id);
    const page = await phone('en-US');
    await page.goto(authorizeUrl(pool.issuer, app.clientId, { ui_locales: locale }));
    await expectPage(page, text(locale, 'login.title'), locale);
    await page.click('#forgot-password');
    await expectPage(page, text(locale, 'forgot.title'), locale);
    await page.fill('#email', user.email);
    await page.click('button[type=submit]');
    await expectPage(page, text(locale, 'reset.title'), locale);
    const inTenMinutes = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' }).format(10, 'minute');
    expect(await page.textContent('body')).toContain(inTenMinutes);

    const mail = await mailbox.next(user.email);
    expect(mail.html).toContain(`lang="${locale}"`);
    // A wrong code, then a refused password: the answers stay in the language.
    await page.fill('#code', codeIn(mail) === '000000' ? '111111' : '000000');
    await page.fill('#password', 'a brand new passphrase');
    await page.click('button[type=submit]');
    expect(await page.locator('#code-error').textContent()).toBe(text(locale, 'reset.wrongCode'));
    await expectPage(page, text(locale, 'reset.title'), locale);

    // The mailed link, opened in another English browser, speaks the mail's language.
    const other = await phone('en-US');
    await other.goto(linkIn(mail));
    await expectPage(other, text(locale, 'reset.title'), locale);
    await other.fill('#password', 'a brand new passphrase');
    await other.click('button[type=submit]');
    await expectPage(other, text(locale, 'resetDone.title'), locale);
    // The notice that the password changed is in the same language.
    const notice = await mailbox.next(user.email);
    expect(notice.subject).toBe(translatorFor(locale).t('email.changed.subject', { pool: pool.name }));
  });
});
