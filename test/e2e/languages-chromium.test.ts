/**
 * Hosted pages in the person's language, in a real Chromium at phone width (390 px):
 * the language comes from ui_locales, then Accept-Language, then the pool's default; the
 * pages (login, registration, verification, consent, errors, device pages) render in German
 * and Japanese with `lang`, `dir`, no sideways scrolling and no serious axe violations; a mail
 * arrives in German through a real SMTP server; errors a browser can reach are pages, not JSON.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { catalogueOf, type Locale } from '../../src/i18n/catalogues.js';
import { translatorFor } from '../../src/i18n/translator.js';
import { seriousViolations } from '../support/axe.js';
import { launchChromium, newContext } from '../support/chromium.js';
import { createClient, createPool, createUser, REDIRECT_URI, uniqueId } from '../support/fixtures.js';
import { codeIn, startMailbox, type Mailbox } from '../support/smtp.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
let mailbox: Mailbox;
let chromium: Browser;
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

const PHONE = { width: 390, height: 844 };
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const text = (locale: Locale, key: string) => catalogueOf(locale)[key]!;

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

async function phoneContext(locale?: string): Promise<BrowserContext> {
  const { context } = await newContext(chromium, REDIRECT_URI);
  await context.close();
  const fresh = await chromium.newContext({ viewport: PHONE, ...(locale ? { locale } : {}) });
  await fresh.route(`${REDIRECT_URI}**`, (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>callback</title><p>callback</p>' }),
  );
  return fresh;
}

/** What every hosted page must be: in the language, left to right, within the phone's width, and without serious axe violations. */
async function expectPage(page: Page, locale: Locale, heading: string) {
  expect(await page.locator('h1').textContent()).toBe(heading);
  expect(await page.getAttribute('html', 'lang')).toBe(locale);
  expect(await page.getAttribute('html', 'dir')).toBe('ltr');
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
  expect(await seriousViolations(page)).toEqual([]);
}

describe.each([
  ['de', 'Anmelden'],
  ['ja', 'サインイン'],
] as const)('ui_locales=%s', (locale, signIn) => {
  it('login, a wrong password, registration with field errors, the verification mail and page, and consent are in the language', async () => {
    const pool = await createPool(tarn, { name: 'Donaudampfschifffahrtsgesellschaftskapitänsverein', selfRegistration: true });
    const app = await createClient(tarn, pool.id, { name: 'Harbour Desk' });
    const user = await createUser(tarn, pool.id);
    const context = await phoneContext('en-US');
    const page = await context.newPage();

    // ui_locales wins over the browser's English.
    await page.goto(authorizeUrl(pool.issuer, app.clientId, { ui_locales: `tlh ${locale}` }));
    await expectPage(page, locale, signIn);
    expect(text(locale, 'login.title')).toBe(signIn);

    await page.fill('#email', user.email);
    await page.fill('#password', 'not the password');
    await page.click('button[type=submit]');
    expect(await page.locator('[role=alert]').first().textContent()).toBe(text(locale, 'login.invalid'));
    await expectPage(page, locale, signIn);

    // Registration: the policy's messages in the user's words, tied to the field that gets the focus.
    await page.click('#register');
    await expectPage(page, locale, text(locale, 'register.title'));
    const email = `${uniqueId('new')}@example.test`;
    await page.fill('#email', email);
    await page.fill('#password', 'short');
    await page.click('button[type=submit]');
    const tooShort = translatorFor(locale).t('validation.password.minLength', { minLength: pool.passwordPolicy.minLength });
    expect(await page.locator('#password-error').textContent()).toBe(tooShort);
    expect(await page.textContent('body')).not.toContain('minLength');
    expect(await page.getAttribute('#password', 'aria-invalid')).toBe('true');
    expect((await page.getAttribute('#password', 'aria-describedby'))!.split(' ')).toContain('password-error');
    await page.waitForFunction(() => document.activeElement?.id === 'password');
    await expectPage(page, locale, text(locale, 'register.title'));

    await page.fill('#password', 'a long and lovely password');
    await page.click('button[type=submit]');
    await expectPage(page, locale, text(locale, 'verify.title'));
    // "expires in 10 minutes" in the language's words, and ways forward.
    const inTenMinutes = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' }).format(10, 'minute');
    expect(await page.locator('#code-sent').textContent()).toContain(inTenMinutes);
    expect(await page.locator('#new-code').textContent()).toBe(text(locale, 'verify.resend'));
    expect(await page.locator('#other-email').textContent()).toBe(text(locale, 'verify.otherEmail'));

    // The mail, through the real SMTP server, is in the page's language.
    const mail = await mailbox.next(email);
    expect(mail.subject).toBe(translatorFor(locale).t('email.verification.subject', { code: codeIn(mail), pool: pool.name }));
    expect(mail.html).toContain(`lang="${locale}"`);
    expect(mail.text).toContain(inTenMinutes);

    await page.fill('#code', '000000');
    await page.click('button[type=submit]');
    expect(await page.locator('#code-error').textContent()).toBe(text(locale, 'register.wrongCode'));
    await page.waitForFunction(() => document.activeElement?.id === 'code');
    await expectPage(page, locale, text(locale, 'verify.title'));

    await page.fill('#code', codeIn(mail));
    await page.click('button[type=submit]');
    await expectPage(page, locale, text(locale, 'consent.title'));
    expect(await page.locator('.scopes li').first().textContent()).toBe(text(locale, 'scope.openid'));
    await context.close();
  });
});

it('without ui_locales, Accept-Language chooses; with neither, the pool default; ui_locales beats both', async () => {
  const pool = await createPool(tarn, { defaultLocale: 'ja' });
  const app = await createClient(tarn, pool.id);

  const french = await phoneContext('fr-FR');
  const page = await french.newPage();
  await page.goto(authorizeUrl(pool.issuer, app.clientId));
  await expectPage(page, 'fr', 'Connexion');
  await page.goto(authorizeUrl(pool.issuer, app.clientId, { ui_locales: 'es' }));
  await expectPage(page, 'es', 'Iniciar sesión');
  await french.close();

  // Portuguese is not shipped: the pool's default (Japanese) is used, not English.
  const portuguese = await phoneContext('pt-BR');
  const other = await portuguese.newPage();
  await other.goto(authorizeUrl(pool.issuer, app.clientId));
  await expectPage(other, 'ja', 'サインイン');
  await portuguese.close();

  const shown = await tarn.admin('GET', `/pools/${pool.id}`);
  expect(shown.body.defaultLocale).toBe('ja');
  const refused = await tarn.admin('PATCH', `/pools/${pool.id}`, { defaultLocale: 'xx' });
  expect(refused.status).toBe(400);
  expect(refused.body.errors[0].field).toBe('defaultLocale');
});

it('discovery lists the languages of the hosted pages', async () => {
  const pool = await createPool(tarn);
  const discovery = await (await fetch(`${pool.issuer}/.well-known/openid-configuration`)).json();
  expect(discovery.ui_locales_supported).toEqual(['en', 'de', 'fr', 'es', 'zh-CN', 'ja']);
});

describe('errors a browser reaches are translated pages with a reference', () => {
  it('an unknown pool is a page for a browser and problem+json for an API client', async () => {
    const context = await phoneContext('de-DE');
    const page = await context.newPage();
    const response = await page.goto(`${tarn.url}/pools/no-such-pool-here/auth?client_id=x`);
    expect(response!.status()).toBe(404);
    expect(response!.headers()['content-type']).toContain('text/html');
    await expectPage(page, 'de', text('de', 'error.unknownPool.title'));
    expect(await page.textContent('body')).toContain(text('de', 'error.unknownPool.message'));
    expect(await page.locator('.reference').textContent()).toMatch(/^Referenz: \S+/);
    await context.close();

    const api = await fetch(`${tarn.url}/pools/no-such-pool-here/auth`, { headers: { accept: 'application/json' } });
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toContain('application/problem+json');
    expect((await api.json()).title).toBe('Pool not found');
  });

  it('an unknown client, a redirect_uri not registered and an expired sign-in: words for people, in Chinese', async () => {
    const pool = await createPool(tarn);
    const app = await createClient(tarn, pool.id, { initiateLoginUri: 'https://desk.example.test/login', clientUri: 'https://desk.example.test/' });
    expect(app).toMatchObject({ initiateLoginUri: 'https://desk.example.test/login', clientUri: 'https://desk.example.test/' });
    const context = await phoneContext('zh-CN');
    const page = await context.newPage();

    const unknownClient = await page.goto(authorizeUrl(pool.issuer, 'no-such-client'));
    expect(unknownClient!.headers()['content-type']).toContain('text/html');
    await expectPage(page, 'zh-CN', text('zh-CN', 'error.unknownClient.title'));
    expect(await page.textContent('body')).not.toContain('invalid_client');

    await page.goto(authorizeUrl(pool.issuer, app.clientId, { redirect_uri: 'https://evil.example.test/cb' }));
    await expectPage(page, 'zh-CN', text('zh-CN', 'error.badRedirect.title'));
    expect(await page.textContent('body')).not.toContain('redirect_uri');
    expect(await page.locator('.reference').textContent()).toContain('参考编号');
    // The way forward: start again where the application starts a sign-in.
    expect(await page.getAttribute('#start-again', 'href')).toBe('https://desk.example.test/login');
    expect(await page.locator('#start-again').textContent()).toBe(text('zh-CN', 'error.startAgain'));

    const expired = await page.goto(`${pool.issuer}/interaction/no-such-interaction`);
    expect(expired!.status()).toBe(400);
    await expectPage(page, 'zh-CN', text('zh-CN', 'error.expired.title'));
    await context.close();
  });
});

it('the device pages, in Japanese from Accept-Language: the code page, a wrong code tied to its field, the confirmation', async () => {
  const pool = await createPool(tarn);
  const app = await createClient(tarn, pool.id, { name: 'Living Room TV', grantTypes: [DEVICE_GRANT], redirectUris: [], tokenEndpointAuthMethod: 'none' });
  const started = await fetch(`${pool.issuer}/device/auth`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: app.clientId, scope: 'openid' }),
  });
  const grant = (await started.json()) as { verification_uri: string; user_code: string };

  const context = await phoneContext('ja-JP');
  const page = await context.newPage();
  await page.goto(grant.verification_uri);
  await expectPage(page, 'ja', text('ja', 'device.code.title'));
  await page.fill('#user_code', 'BCDF-GHJK');
  await page.click('button[type=submit]');
  expect(await page.locator('#user_code-error').textContent()).toBe(text('ja', 'device.error.incorrect'));
  expect(await page.getAttribute('#user_code', 'aria-invalid')).toBe('true');
  await page.waitForFunction(() => document.activeElement?.id === 'user_code');
  await expectPage(page, 'ja', text('ja', 'device.code.title'));

  await page.fill('#user_code', grant.user_code);
  await page.click('button[type=submit]');
  await expectPage(page, 'ja', text('ja', 'device.confirm.title'));
  expect(await page.textContent('body')).toContain('Living Room TV');
  await context.close();
});

it('a disabled or locked account learns it only with the right password; the lock ends at a time in the language', async () => {
  const pool = await createPool(tarn, { lockout: { maxAttempts: 2, windowSeconds: 600 } });
  const app = await createClient(tarn, pool.id);
  const locked = await createUser(tarn, pool.id);
  const disabled = await createUser(tarn, pool.id);
  await tarn.admin('PATCH', `/pools/${pool.id}/users/${disabled.id}`, { status: 'disabled' });
  const context = await phoneContext('de-DE');
  const page = await context.newPage();
  const attempt = async (email: string, password: string) => {
    await page.goto(authorizeUrl(pool.issuer, app.clientId));
    await page.fill('#email', email);
    await page.fill('#password', password);
    await page.click('button[type=submit]');
    return page.locator('[role=alert]').first().textContent();
  };

  expect(await attempt(disabled.email, 'wrong password here')).toBe(text('de', 'login.invalid'));
  expect(await attempt(disabled.email, disabled.password)).toBe(text('de', 'login.disabled'));

  expect(await attempt(locked.email, 'wrong password one')).toBe(text('de', 'login.invalid'));
  expect(await attempt(locked.email, 'wrong password two')).toBe(text('de', 'login.invalid'));
  // Locked now: a wrong password still gets the one generic answer (no oracle) ...
  expect(await attempt(locked.email, 'wrong password three')).toBe(text('de', 'login.invalid'));
  // ... the right one learns until when, in German.
  const message = await attempt(locked.email, locked.password);
  expect(message).toMatch(/^Dieses Konto ist nach zu vielen Fehlversuchen gesperrt\. Versuchen Sie es in \d+ Minuten erneut \(.+ UTC\)\.$/);
  await expectPage(page, 'de', 'Anmelden');
  await context.close();
});

it('sign-out asks and confirms in French', async () => {
  const pool = await createPool(tarn, { name: 'Quai' });
  const app = await createClient(tarn, pool.id, { name: 'Harbour Desk', clientUri: 'https://desk.example.test/' });
  const user = await createUser(tarn, pool.id);
  const context = await phoneContext('fr-FR');
  const page = await context.newPage();
  await page.goto(authorizeUrl(pool.issuer, app.clientId));
  await page.fill('#email', user.email);
  await page.fill('#password', user.password);
  await page.click('button[type=submit]');
  await expectPage(page, 'fr', text('fr', 'consent.title'));
  // Signed in: the browser is sent on to the application (which is not a real server here).
  await Promise.all([page.waitForRequest(`${REDIRECT_URI}**`), page.click('button[value=allow]')]);

  // In a new tab of the same browser, so the redirect still settling in the first cannot interrupt it.
  const tab = await context.newPage();
  await tab.goto(`${pool.issuer}/session/end?client_id=${encodeURIComponent(app.clientId)}`);
  await expectPage(tab, 'fr', text('fr', 'logout.question'));
  await tab.click('button[name=logout]');
  await expectPage(tab, 'fr', text('fr', 'loggedOut.heading'));
  expect(await tab.locator('[role=status]').textContent()).toBe('Vous vous êtes déconnecté de Quai et de Harbour Desk.');
  expect(await tab.locator('#back-to-app').textContent()).toBe('Retour à Harbour Desk');
  expect(await tab.getAttribute('#back-to-app', 'href')).toBe('https://desk.example.test/');
  await context.close();
});
