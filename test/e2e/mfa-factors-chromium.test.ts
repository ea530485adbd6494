/**
 * Second factors beside the authenticator app, in a real headless Chromium with a virtual
 * authenticator (Chrome DevTools Protocol WebAuthn domain), a real SMTP server and a relying
 * party on openid-client (docs/adr/0309):
 * - a passkey after a password, and a passkey alone, both give amr with `mfa`;
 * - a code mailed to the verified address after a password, where the pool allows it;
 * - an application that requires MFA makes a user of a pool without MFA enrol;
 * - in a pool that requires MFA, an emailed-code sign-in asks for a factor other than the email;
 * - wrong emailed codes and forged passkey answers lock the user, after which the right ones fail too.
 * Tarn runs at http://localhost:PORT (a WebAuthn relying-party id cannot be an IP address).
 * Every new page passes axe-core with no serious or critical violation.
 */
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import * as OTPAuth from 'otpauth';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { seriousViolations } from '../support/axe.js';
import { launchChromium, newContext } from '../support/chromium.js';
import { createClient, createPool, createUser, REDIRECT_URI } from '../support/fixtures.js';
import { discover } from '../support/relying-party.js';
import { codeIn, startMailbox, type Mailbox } from '../support/smtp.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
let chromium: Browser;
let mailbox: Mailbox;
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

interface Tab {
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
  authenticatorId: string;
  callbacks: string[];
}

/** A tab on a device with a platform authenticator that verifies its user (like a laptop's fingerprint reader). */
async function openTab(options: { synced?: boolean } = {}): Promise<Tab> {
  const { context, callbacks } = await newContext(chromium, REDIRECT_URI);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      // A synced passkey (WebAuthn backup eligible and backed up), as a phone's password manager makes.
      ...(options.synced ? { defaultBackupEligibility: true, defaultBackupState: true } : {}),
    },
  });
  return { context, page, cdp, authenticatorId, callbacks };
}

async function setUp(poolFields: Record<string, unknown>, clientFields: Record<string, unknown> = {}) {
  const pool = await createPool(tarn, { name: 'Fjord Bank', ...poolFields });
  const app = await createClient(tarn, pool.id, { name: 'Fjord Online', ...clientFields });
  const user = await createUser(tarn, pool.id, { emailVerified: true });
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  return { pool, app, user, config };
}

async function authorize(config: oidc.Configuration, page: Page, params: Record<string, string> = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...params,
  });
  await page.goto(url.href);
  return { verifier, state };
}

/** Allows access when the consent page shows, waits for the relying party's callback, and redeems its code. */
async function tokens(tab: Tab, config: oidc.Configuration, checks: { verifier: string; state: string }) {
  const heading = await tab.page.waitForSelector('h1:text-is("Allow access"), p:text-is("relying party callback")');
  if ((await heading.textContent()) === 'Allow access') await tab.page.click('button[value=allow]');
  await tab.page.waitForURL(`${REDIRECT_URI}**`);
  const result = await oidc.authorizationCodeGrant(config, new URL(tab.callbacks.at(-1)!), { pkceCodeVerifier: checks.verifier, expectedState: checks.state });
  return decodeJwt(result.id_token!) as { sub: string; amr?: string[]; acr?: string };
}

async function typePassword(page: Page, user: { email: string; password: string }) {
  await page.fill('#email', user.email);
  await page.fill('#password', user.password);
  await page.click('button:text-is("Sign in")');
}

async function heading(page: Page) {
  return (await page.locator('h1').textContent())?.trim();
}

/** What the authenticator app shows, `steps` periods from now. */
function appCode(secret: string, steps = 0): string {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) }).generate({ timestamp: Date.now() + steps * 30_000 });
}

/** A password sign-in in a pool without MFA, where the user accepts "Add a passkey". */
async function addPasskey(tab: Tab, setup: Awaited<ReturnType<typeof setUp>>) {
  const checks = await authorize(setup.config, tab.page);
  await typePassword(tab.page, setup.user);
  expect(await heading(tab.page)).toBe('Add a passkey');
  await tab.page.click('#passkey-start');
  await tokens(tab, setup.config, checks);
  await tab.context.clearCookies();
}

it('password then passkey: the second-factor page offers the passkey, and the ID token says pwd, hwk, mfa; a passkey alone is MFA too', async () => {
  const setup = await setUp({ signIn: { password: true, emailCode: false, passkey: true, mfa: 'off' } });
  const tab = await openTab();
  await addPasskey(tab, setup);
  expect((await tarn.admin('PATCH', `/pools/${setup.pool.id}`, { signIn: { mfa: 'required' } })).status).toBe(200);

  let checks = await authorize(setup.config, tab.page);
  await typePassword(tab.page, setup.user);
  expect(await heading(tab.page)).toBe('Two-step verification');
  // No app and no emailed code here: the passkey is the one way on.
  expect(await tab.page.locator('#mfa-passkey').count()).toBe(1);
  expect(await tab.page.locator('#mfa-email').count()).toBe(0);
  expect(await tab.page.locator('input[name=code]').count()).toBe(0);
  expect(await seriousViolations(tab.page)).toEqual([]);

  // Hold the authenticator back to read the page as it first shows, then go back and use it.
  await tab.cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId: tab.authenticatorId, enabled: false });
  await tab.page.click('#mfa-passkey');
  expect(await heading(tab.page)).toBe('Confirm with your passkey');
  const options = JSON.parse((await tab.page.locator('#passkey').getAttribute('data-options'))!) as { allowCredentials?: unknown[] };
  expect(options.allowCredentials).toHaveLength(1); // the user's own passkey, not any of the pool's
  expect(await seriousViolations(tab.page)).toEqual([]);
  await tab.page.click('a:text-is("Choose another way")');
  expect(await heading(tab.page)).toBe('Two-step verification');
  await tab.cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId: tab.authenticatorId, enabled: true });
  await tab.page.click('#mfa-passkey');
  let claims = await tokens(tab, setup.config, checks);
  expect(claims.sub).toBe(setup.user.id);
  expect(claims.amr).toEqual(expect.arrayContaining(['pwd', 'hwk', 'user', 'mfa']));
  expect(claims.acr).toBe('urn:tarn:acr:mfa');

  // In the same pool that requires MFA, the passkey alone (user verification included) goes straight through.
  await tab.context.clearCookies();
  checks = await authorize(setup.config, tab.page);
  await tab.page.click('button:text-is("Sign in with a passkey")');
  claims = await tokens(tab, setup.config, checks);
  expect(claims.amr).toEqual(expect.arrayContaining(['hwk', 'user', 'mfa']));
  expect(claims.amr).not.toContain('pwd');
  expect(claims.acr).toBe('urn:tarn:acr:mfa');
  await tab.context.close();
});

it('a synced passkey after a password is a software-secured key: amr swk, not hwk', async () => {
  const setup = await setUp({ signIn: { password: true, emailCode: false, passkey: true, mfa: 'off' } });
  const tab = await openTab({ synced: true });
  await addPasskey(tab, setup);
  expect((await tarn.admin('GET', `/pools/${setup.pool.id}/users/${setup.user.id}/passkeys`)).body.items[0].backupEligible).toBe(true);
  expect((await tarn.admin('PATCH', `/pools/${setup.pool.id}`, { signIn: { mfa: 'optional' } })).status).toBe(200);

  const checks = await authorize(setup.config, tab.page);
  await typePassword(tab.page, setup.user);
  await tab.page.click('#mfa-passkey');
  const claims = await tokens(tab, setup.config, checks);
  expect(claims.amr).toEqual(expect.arrayContaining(['pwd', 'swk', 'user', 'mfa']));
  expect(claims.amr).not.toContain('hwk');
  await tab.context.close();
});

it('password then an emailed code, where the pool counts email as a second factor', async () => {
  const setup = await setUp({ signIn: { mfa: 'required', emailSecondFactor: true } });
  expect((await tarn.admin('GET', `/pools/${setup.pool.id}`)).body.signIn.emailSecondFactor).toBe(true);
  const tab = await openTab();
  const checks = await authorize(setup.config, tab.page);
  await typePassword(tab.page, setup.user);
  expect(await heading(tab.page)).toBe('Two-step verification');
  expect(await tab.page.locator('#mfa-passkey').count()).toBe(0);
  await tab.page.click('#mfa-email');
  expect(await heading(tab.page)).toBe('Check your email');
  expect(await seriousViolations(tab.page)).toEqual([]);
  const mail = await mailbox.next(setup.user.email);
  await tab.page.fill('input[name=code]', codeIn(mail) === '000000' ? '000001' : '000000');
  await tab.page.click('button:text-is("Verify")');
  expect(await tab.page.locator('p.error[role=alert]').textContent()).toContain('That code is wrong');
  expect(await seriousViolations(tab.page)).toEqual([]);
  await tab.page.fill('input[name=code]', codeIn(mail));
  await tab.page.click('button:text-is("Verify")');
  const claims = await tokens(tab, setup.config, checks);
  expect(claims.amr).toEqual(expect.arrayContaining(['pwd', 'otp', 'mfa']));
  expect(claims.acr).toBe('urn:tarn:acr:mfa');
  await tab.context.close();
});

it('an application that requires MFA makes a user of a pool without MFA enrol; another application of the pool does not', async () => {
  const setup = await setUp({ signIn: { mfa: 'off' } }, { requireMfa: true });
  const read = await tarn.admin('GET', `/pools/${setup.pool.id}/clients/${setup.app.clientId}`);
  expect(read.body.requireMfa).toBe(true);
  const bad = await tarn.admin('PATCH', `/pools/${setup.pool.id}/clients/${setup.app.clientId}`, { requireMfa: 'yes' });
  expect(bad.status).toBe(400);
  expect(bad.headers.get('content-type')).toContain('application/problem+json');
  expect(JSON.stringify(bad.body)).toContain('requireMfa');

  const plain = await createClient(tarn, setup.pool.id, { name: 'Fjord News' });
  const plainConfig = await discover(setup.pool.issuer, plain.clientId, plain.secret?.value);
  const tab = await openTab();
  // The other application: a password is enough.
  let checks = await authorize(plainConfig, tab.page);
  await typePassword(tab.page, setup.user);
  let claims = await tokens(tab, plainConfig, checks);
  expect(claims.amr).toEqual(['pwd']);

  // Same browser session, the application that requires MFA: asked to enrol, without "Not now".
  checks = await authorize(setup.config, tab.page);
  expect(await heading(tab.page)).toBe('Set up two-step verification');
  expect(await tab.page.locator('#mfa-skip').count()).toBe(0);
  const secret = (await tab.page.locator('#totp-secret').textContent())!;
  await tab.page.fill('input[name=code]', appCode(secret));
  await tab.page.click('form[action$="/mfa/enrol"] button[type=submit]');
  expect(await heading(tab.page)).toBe('Your recovery codes');
  await tab.page.click('#continue');
  claims = await tokens(tab, setup.config, checks);
  expect(claims.sub).toBe(setup.user.id);
  expect(claims.amr).toEqual(expect.arrayContaining(['pwd', 'otp', 'mfa']));
  expect(claims.acr).toBe('urn:tarn:acr:mfa');
  await tab.context.close();
});

it('in a pool that requires MFA, a sign-in with an emailed code asks for a second factor that is not the email', async () => {
  const setup = await setUp({ signIn: { password: true, emailCode: true, passkey: false, mfa: 'required', emailSecondFactor: true } });
  const tab = await openTab();
  const checks = await authorize(setup.config, tab.page);
  await tab.page.fill('#code-email', setup.user.email);
  await tab.page.click('#email-code');
  await tab.page.fill('input[name=code]', codeIn(await mailbox.next(setup.user.email)));
  await tab.page.click('button:text-is("Sign in")');
  // The email was the first factor: no emailed code is offered as the second; with no app yet, the user enrols one.
  expect(await heading(tab.page)).toBe('Set up two-step verification');
  expect(await tab.page.locator('#mfa-email').count()).toBe(0);
  expect(await tab.page.locator('#mfa-skip').count()).toBe(0);
  expect(tab.callbacks).toHaveLength(0);
  const secret = (await tab.page.locator('#totp-secret').textContent())!;
  await tab.page.fill('input[name=code]', appCode(secret));
  await tab.page.click('form[action$="/mfa/enrol"] button[type=submit]');
  await tab.page.click('#continue');
  const claims = await tokens(tab, setup.config, checks);
  expect(claims.amr).toEqual(expect.arrayContaining(['otp', 'mfa']));
  expect(claims.acr).toBe('urn:tarn:acr:mfa');
  await tab.context.close();
});

it('in an optional pool, an emailed-code sign-in of a user with an app asks for the app, never the email again', async () => {
  const setup = await setUp({ signIn: { password: true, emailCode: true, passkey: false, mfa: 'optional', emailSecondFactor: true } });
  const tab = await openTab();
  let checks = await authorize(setup.config, tab.page);
  await typePassword(tab.page, setup.user);
  expect(await heading(tab.page)).toBe('Set up two-step verification');
  const secret = (await tab.page.locator('#totp-secret').textContent())!;
  await tab.page.fill('input[name=code]', appCode(secret));
  await tab.page.click('form[action$="/mfa/enrol"] button[type=submit]');
  await tab.page.click('#continue');
  await tokens(tab, setup.config, checks);
  await tab.context.clearCookies();

  checks = await authorize(setup.config, tab.page);
  await tab.page.fill('#code-email', setup.user.email);
  await tab.page.click('#email-code');
  await tab.page.fill('input[name=code]', codeIn(await mailbox.next(setup.user.email)));
  await tab.page.click('button:text-is("Sign in")');
  expect(await heading(tab.page)).toBe('Two-step verification');
  expect(await tab.page.locator('#mfa-email').count()).toBe(0);
  expect(tab.callbacks).toHaveLength(1);
  // The next period's code: the one used at enrolment may still be the current one, and is never accepted twice.
  await tab.page.fill('input[name=code]', appCode(secret, 1));
  await tab.page.click('form[action$="/mfa/totp"] button[type=submit]');
  const claims = await tokens(tab, setup.config, checks);
  expect(claims.amr).toEqual(expect.arrayContaining(['otp', 'mfa']));
  expect(claims.amr).not.toContain('pwd');
  expect(claims.acr).toBe('urn:tarn:acr:mfa');
  await tab.context.close();
});

it('step-up of a session that began with an emailed code asks for a factor other than the email', async () => {
  const setup = await setUp({ signIn: { password: true, emailCode: true, passkey: false, mfa: 'off', emailSecondFactor: true } });
  const tab = await openTab();
  let checks = await authorize(setup.config, tab.page);
  await tab.page.fill('#code-email', setup.user.email);
  await tab.page.click('#email-code');
  await tab.page.fill('input[name=code]', codeIn(await mailbox.next(setup.user.email)));
  await tab.page.click('button:text-is("Sign in")');
  let claims = await tokens(tab, setup.config, checks);
  expect(claims.amr).toEqual(['otp']);
  expect(claims.acr).toBe('urn:tarn:acr:pwd');

  // The relying party now asks for MFA: the signed-in user is not offered the email again, and enrols an app.
  checks = await authorize(setup.config, tab.page, { acr_values: 'urn:tarn:acr:mfa' });
  expect(await heading(tab.page)).toBe('Set up two-step verification');
  expect(await tab.page.locator('#mfa-email').count()).toBe(0);
  expect(await tab.page.locator('#mfa-skip').count()).toBe(0);
  const secret = (await tab.page.locator('#totp-secret').textContent())!;
  await tab.page.fill('input[name=code]', appCode(secret));
  await tab.page.click('form[action$="/mfa/enrol"] button[type=submit]');
  await tab.page.click('#continue');
  claims = await tokens(tab, setup.config, checks);
  expect(claims.amr).toEqual(expect.arrayContaining(['otp', 'mfa']));
  expect(claims.acr).toBe('urn:tarn:acr:mfa');
  await tab.context.close();
});

describe('brute force of a second factor is stopped', () => {
  const LOCKOUT = { maxAttempts: 3, windowSeconds: 600 };

  it('emailed codes: after three wrong ones the right code fails too, and so does the password', async () => {
    const setup = await setUp({ signIn: { mfa: 'required', emailSecondFactor: true }, lockout: LOCKOUT });
    const tab = await openTab();
    await authorize(setup.config, tab.page);
    await typePassword(tab.page, setup.user);
    await tab.page.click('#mfa-email');
    const right = codeIn(await mailbox.next(setup.user.email));
    const wrong = ['111111', '222222', '333333', '444444'].filter((code) => code !== right);
    for (const code of wrong.slice(0, 3)) {
      await tab.page.fill('input[name=code]', code);
      const answer = tab.page.waitForResponse((response) => response.url().endsWith('/mfa/email/verify'));
      await tab.page.click('button:text-is("Verify")');
      expect((await answer).status()).toBe(401);
    }
    await tab.page.fill('input[name=code]', right);
    await tab.page.click('button:text-is("Verify")');
    expect(await tab.page.locator('p.error[role=alert]').textContent()).toContain('That code is wrong');
    expect(tab.callbacks).toHaveLength(0);

    await tab.context.clearCookies();
    await authorize(setup.config, tab.page);
    await typePassword(tab.page, setup.user);
    // The password is right, so the page says why it still refuses: the lock the wrong codes set.
    expect(await tab.page.locator('[role=alert]').textContent()).toContain('This account is locked');
    expect(tab.callbacks).toHaveLength(0);
    await tab.context.close();
  });

  it('passkeys: after three forged answers the real passkey fails too', async () => {
    const setup = await setUp({ signIn: { password: true, emailCode: false, passkey: true, mfa: 'off' }, lockout: LOCKOUT });
    const tab = await openTab();
    await addPasskey(tab, setup);
    expect((await tarn.admin('PATCH', `/pools/${setup.pool.id}`, { signIn: { mfa: 'optional' } })).status).toBe(200);

    await authorize(setup.config, tab.page);
    await typePassword(tab.page, setup.user);
    await tab.cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId: tab.authenticatorId, enabled: false });
    await tab.page.click('#mfa-passkey');
    // The passkey page has loaded (the choice page has no such field), so the script below runs on it.
    await tab.page.waitForSelector('#passkey-credential', { state: 'attached' });
    for (let round = 0; round < 3; round += 1) {
      // What an attacker without the device can send: an answer the authenticator did not sign.
      const answer = tab.page.waitForResponse((response) => response.url().endsWith('/mfa/passkey/verify'));
      const loaded = tab.page.waitForEvent('load');
      await tab.page.evaluate(() => {
        (document.getElementById('passkey-credential') as HTMLInputElement).value = JSON.stringify({
          id: 'Zm9yZ2Vk',
          rawId: 'Zm9yZ2Vk',
          type: 'public-key',
          response: { clientDataJSON: 'e30', authenticatorData: 'AA', signature: 'AA' },
          clientExtensionResults: {},
        });
        // Sent once this call has returned, so the navigation does not cut it short.
        setTimeout(() => (document.getElementById('passkey-form') as HTMLFormElement).submit(), 0);
      });
      expect((await answer).status()).toBe(401);
      await loaded;
    }
    expect(await tab.page.locator('p.error[role=alert]').first().textContent()).toContain('could not be used');
    // The real device now: refused, the user is locked.
    await tab.cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId: tab.authenticatorId, enabled: true });
    const answer = tab.page.waitForResponse((response) => response.url().endsWith('/mfa/passkey/verify'));
    await tab.page.click('#passkey-start');
    expect((await answer).status()).toBe(401);
    expect(tab.callbacks).toHaveLength(1); // only the first sign-in, before the attack, reached the application
    await tab.context.close();
  });
});
