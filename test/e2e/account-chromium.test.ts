/**
 * The hosted account page (docs/adr/0306) in a real headless Chromium, with real SMTP and a
 * virtual WebAuthn authenticator: a person signs in to /pools/{pool}/account through the pool's
 * own login, edits their profile (errors tied to their fields), changes their password and
 * email, adds and removes a passkey, turns on two-step verification with the manual key,
 * regenerates recovery codes, sees and ends sessions, and deletes the account where the pool
 * allows it. Sensitive pages ask for the password again once the sign-in is older than five
 * minutes (max_age). Another pool's session cannot open the page. Every page passes axe-core.
 * Tarn runs at http://localhost:PORT: a WebAuthn relying-party id cannot be an IP address.
 */
import * as oidc from 'openid-client';
import * as OTPAuth from 'otpauth';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { seriousViolations } from '../support/axe.js';
import { launchChromium, newContext } from '../support/chromium.js';
import { createPool, createUser } from '../support/fixtures.js';
import { setUpSignIn, signIn } from '../support/relying-party.js';
import { codeIn, startMailbox, type Mailbox } from '../support/smtp.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
let mailbox: Mailbox;
let chromium: Browser;
// The app's clock: moved forward to make a sign-in "old" without waiting.
let offsetMs = 0;
beforeAll(async () => {
  mailbox = await startMailbox();
  tarn = await startTarn({ PUBLIC_URL: 'http://localhost:{port}', SMTP_URL: mailbox.url }, undefined, { clock: () => new Date(Date.now() + offsetMs) });
  chromium = await launchChromium();
  // Run alone on PGlite, this file migrates a fresh cluster first, which a busy machine takes long over.
}, 180_000);
afterAll(async () => {
  await chromium?.close();
  await tarn?.close();
  await mailbox?.close();
});
afterEach(() => {
  offsetMs = 0;
});

const contexts: BrowserContext[] = [];
afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
});

async function newPage(): Promise<Page> {
  const { context } = await newContext(chromium, 'http://rp.example.test/');
  contexts.push(context);
  return context.newPage();
}

const h1 = (page: Page) => page.locator('h1').textContent();

async function expectAccessible(page: Page) {
  expect(await seriousViolations(page)).toEqual([]);
}

/** From the login page the account page sent the browser to: password (and the app's code when asked), then back. */
async function passLogin(page: Page, user: { email: string; password: string }, appCode?: () => string) {
  expect(await h1(page)).toBe('Sign in');
  if (await page.locator('input[name=email]').isEditable()) await page.fill('input[name=email]', user.email);
  await page.fill('input[name=password]', user.password);
  await page.click('form button[type=submit] >> nth=0');
  await page.waitForSelector('h1');
  if (appCode && (await h1(page)) === 'Two-step verification') {
    await page.fill('input[name=code]', appCode());
    await page.click('form[action$="/mfa/totp"] button[type=submit]');
  }
  if (await page.locator('#passkey-skip').count()) await page.click('#passkey-skip');
}

async function openAccount(page: Page, poolId: string, user: { email: string; password: string }, appCode?: () => string) {
  await page.goto(`${tarn.url}/pools/${poolId}/account`);
  await passLogin(page, user, appCode);
  await page.waitForSelector('h1:text-is("Your account")');
}

const PROFILE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['given_name'],
  properties: {
    given_name: { type: 'string', title: 'First name', minLength: 1, maxLength: 50 },
    family_name: { type: 'string', title: 'Last name', maxLength: 50 },
    age: { type: 'integer', title: 'Age', minimum: 0, maximum: 150 },
    plan: { type: 'string', title: 'Plan', enum: ['free', 'pro'] },
  },
};

it('signs in through the pool, edits the profile with errors tied to their fields, and the admin API sees the change', async () => {
  const pool = await createPool(tarn, { name: 'Birch Library', tagColor: '#0b6e4f', profileSchema: PROFILE_SCHEMA });
  const user = await createUser(tarn, pool.id, { profile: { given_name: 'Ada' } });
  const page = await newPage();
  await page.goto(`${tarn.url}/pools/${pool.id}/account`);
  expect(await page.locator('.hint').first().textContent()).toContain('Your account');
  await passLogin(page, user);
  await page.waitForSelector('h1:text-is("Your account")');
  expect(await page.locator('.pool-name').textContent()).toBe('Birch Library');
  expect(await page.inputValue('#profile-given_name')).toBe('Ada');
  await expectAccessible(page);

  await page.fill('#profile-given_name', '');
  await page.fill('#profile-age', '-4');
  await page.selectOption('#profile-plan', 'pro');
  await page.click('#profile-form button[type=submit]');
  expect(await page.locator('[role=alert]').textContent()).toContain('2 fields need a change');
  for (const name of ['given_name', 'age']) {
    const input = page.locator(`#profile-${name}`);
    expect(await input.getAttribute('aria-invalid')).toBe('true');
    const described = (await input.getAttribute('aria-describedby'))!;
    expect(await page.locator(`#${described}`).textContent()).toBeTruthy();
  }
  expect(await page.locator('#profile-age-error').textContent()).toBe('Age must be at least 0.');
  // What the person typed is kept.
  expect(await page.inputValue('#profile-plan')).toBe('pro');
  await expectAccessible(page);

  await page.fill('#profile-given_name', 'Ada');
  await page.fill('#profile-family_name', 'Lovelace');
  await page.fill('#profile-age', '36');
  await page.click('#profile-form button[type=submit]');
  expect(await page.locator('.notice').textContent()).toBe('Your profile was saved.');
  const stored = await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}`);
  expect(stored.body.profile).toEqual({ given_name: 'Ada', family_name: 'Lovelace', age: 36, plan: 'pro' });
  const audit = await tarn.admin('GET', `/pools/${pool.id}/audit?action=user.profile_changed`);
  expect(audit.body.items[0]).toMatchObject({ actor: { kind: 'user', id: user.id }, details: { fields: ['age', 'family_name', 'plan'] } });

  // A form without the page's CSRF token is refused.
  const forged = await page.request.post(`${tarn.url}/pools/${pool.id}/account/profile`, { form: { csrf: 'forged', given_name: 'Mallory' } });
  expect(forged.status()).toBe(403);
});

it("another pool's session cannot open the page: a user signed in at A is asked to sign in at B", async () => {
  const a = await createPool(tarn, { name: 'Pool Alder' });
  const b = await createPool(tarn, { name: 'Pool Beech' });
  const user = await createUser(tarn, a.id);
  const page = await newPage();
  await openAccount(page, a.id, user);
  await page.goto(`${tarn.url}/pools/${b.id}/account`);
  expect(await h1(page)).toBe('Sign in');
  expect(await page.locator('.pool-name').textContent()).toBe('Pool Beech');
  // A's user and password mean nothing at B.
  await page.fill('input[name=email]', user.email);
  await page.fill('input[name=password]', user.password);
  await page.click('form button[type=submit] >> nth=0');
  expect(await page.locator('[role=alert]').textContent()).toContain('Invalid email or password');
  // And A's account page is still A's.
  await page.goto(`${tarn.url}/pools/${a.id}/account`);
  expect(await h1(page)).toBe('Your account');
  // The built-in client is not among A's applications.
  const clients = await tarn.admin('GET', `/pools/${a.id}/clients`);
  expect(clients.body.items).toEqual([]);
  expect(
    (await tarn.admin('POST', `/pools/${a.id}/clients`, { name: 'Impostor', clientId: 'tarn:account', redirectUris: ['https://x.example/cb'] })).status,
  ).toBe(400);
});

it('changes the password: asks the current one, applies the policy, ends other sessions, mails a notice; sensitive pages re-authenticate after five minutes', async () => {
  const { pool, user, config } = await setUpSignIn(tarn, {
    pool: { passwordPolicy: { minLength: 12 } },
    client: { grantTypes: ['authorization_code', 'refresh_token'] },
  });
  const elsewhere = await signIn(config, tarn.url, user);
  const page = await newPage();
  await openAccount(page, pool.id, user);
  await page.click('nav >> text=Password');
  expect(await h1(page)).toBe('Change your password');
  await expectAccessible(page);

  await page.fill('#current_password', 'not my password');
  await page.fill('#password', 'a long enough new one');
  await page.click('form[action$="/account/password"] button[type=submit]');
  expect(await page.locator('#current_password-error').textContent()).toBe('Your current password is not right.');
  expect(await page.getAttribute('#current_password', 'aria-describedby')).toBe('current_password-error');
  await expectAccessible(page);

  await page.fill('#current_password', user.password);
  await page.fill('#password', 'short');
  await page.click('form[action$="/account/password"] button[type=submit]');
  expect(await page.locator('#password-error').textContent()).toContain('at least 12 characters');
  expect(await page.getAttribute('#password', 'aria-invalid')).toBe('true');

  await page.fill('#current_password', user.password);
  await page.fill('#password', 'a long enough new one');
  await page.click('form[action$="/account/password"] button[type=submit]');
  expect(await page.locator('.notice').textContent()).toContain('Your password was changed');
  expect((await mailbox.next(user.email)).subject).toContain('password was changed');
  // The other session's refresh token is gone; this browser stays signed in to its account page.
  await expect(oidc.refreshTokenGrant(config, elsewhere.tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  await page.goto(`${tarn.url}/pools/${pool.id}/account/sessions`);
  expect(await h1(page)).toBe('Sessions');
  expect(await page.locator('#sessions > li').count()).toBe(1);
  expect((await tarn.admin('GET', `/pools/${pool.id}/audit?action=user.password_changed`)).body.items).toHaveLength(1);

  // Six minutes later, the password page wants the password again (max_age), then comes back.
  offsetMs = 6 * 60_000;
  await page.goto(`${tarn.url}/pools/${pool.id}/account/password`);
  expect(await h1(page)).toBe('Sign in');
  expect(await page.inputValue('input[name=email]')).toBe(user.email);
  await passLogin(page, { email: user.email, password: 'a long enough new one' });
  await page.waitForSelector('h1:text-is("Change your password")');
  // The profile page itself does not ask again.
  offsetMs = 12 * 60_000;
  await page.goto(`${tarn.url}/pools/${pool.id}/account`);
  expect(await h1(page)).toBe('Your account');
});

it('changes the email: a code at the new address, a wrong code refused, then a notice to the old address', async () => {
  const pool = await createPool(tarn);
  const user = await createUser(tarn, pool.id);
  const newEmail = `new-${user.email}`;
  const page = await newPage();
  await openAccount(page, pool.id, user);
  await page.click('nav >> text=Email');
  expect(await h1(page)).toBe('Change your email address');
  await expectAccessible(page);
  await page.fill('#email', 'not an address');
  await page.click('form[action$="/account/email"] button[type=submit]');
  expect(await page.locator('#email-error').textContent()).toBe('Enter an email address, like name@example.com.');
  await page.fill('#email', newEmail);
  await page.click('form[action$="/account/email"] button[type=submit]');
  expect(await page.locator('[role=status]').textContent()).toContain(newEmail);
  await expectAccessible(page);
  const code = codeIn(await mailbox.next(newEmail));
  await page.fill('#code', code === '000000' ? '111111' : '000000');
  await page.click('form[action$="/email/confirm"] button[type=submit]');
  expect(await page.locator('#code-error').textContent()).toContain('That code is wrong');
  // Nothing changed yet.
  expect((await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}`)).body.email).toBe(user.email);
  await page.fill('#code', code);
  await page.click('form[action$="/email/confirm"] button[type=submit]');
  expect(await page.locator('.notice').textContent()).toBe('Your email address was changed.');
  const stored = (await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}`)).body;
  expect(stored).toMatchObject({ email: newEmail, emailVerified: true });
  const notice = await mailbox.next(user.email);
  expect(notice.text).toContain(newEmail);
  expect((await tarn.admin('GET', `/pools/${pool.id}/audit?action=user.email_changed`)).body.items).toHaveLength(1);
});

it('turns on two-step verification with the manual key, regenerates recovery codes once shown, and removes the app', async () => {
  const pool = await createPool(tarn, { signIn: { mfa: 'optional' } });
  const user = await createUser(tarn, pool.id);
  const page = await newPage();
  await page.goto(`${tarn.url}/pools/${pool.id}/account`);
  await passLogin(page, user);
  // The optional policy offers enrolment after the password: "Not now" is a form.
  expect(await h1(page)).toBe('Set up two-step verification');
  await page.click('#mfa-skip');
  await page.waitForSelector('h1:text-is("Your account")');

  await page.click('nav >> text=Two-step verification');
  expect(await page.locator('#two-step-status').textContent()).toContain('off');
  expect(await page.locator('svg[role=img]').count()).toBe(1);
  await expectAccessible(page);
  const secret = (await page.locator('#totp-secret').textContent())!;
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) });
  await page.fill('#code', totp.generate({ timestamp: Date.now() - 10 * 60_000 }));
  await page.click('form[action$="/two-step/totp"] button[type=submit]');
  expect(await page.locator('[role=alert]').textContent()).toContain('That code is not right');
  await page.fill('#code', totp.generate());
  await page.click('form[action$="/two-step/totp"] button[type=submit]');
  expect(await h1(page)).toBe('Your recovery codes');
  const first = await page.locator('#recovery-codes li').allTextContents();
  expect(first).toHaveLength(10);
  await expectAccessible(page);
  await page.click('#continue');
  expect(await page.locator('#two-step-status').textContent()).toContain('on');
  expect(await page.locator('#recovery-remaining').textContent()).toContain('10 unused');
  await expectAccessible(page);
  await page.click('#new-recovery-codes');
  const second = await page.locator('#recovery-codes li').allTextContents();
  expect(second).toHaveLength(10);
  expect(second.filter((code) => first.includes(code))).toEqual([]);

  // The next sign-in asks for the app's code; a replaced recovery code does not work.
  const later = await newPage();
  await later.goto(`${tarn.url}/pools/${pool.id}/account`);
  await passLogin(later, user);
  expect(await h1(later)).toBe('Two-step verification');
  await later.fill('input[name=recovery_code]', first[0]!);
  await later.click('form[action$="/mfa/recovery"] button[type=submit]');
  expect(await later.locator('[role=alert]').textContent()).toContain('That recovery code is not right');
  await later.fill('input[name=recovery_code]', second[0]!);
  await later.click('form[action$="/mfa/recovery"] button[type=submit]');
  await later.waitForSelector('h1:text-is("Your account")');

  await page.goto(`${tarn.url}/pools/${pool.id}/account/two-step`);
  await page.click('#remove-totp');
  expect(await page.locator('.notice').textContent()).toBe('Two-step verification was turned off.');
  expect((await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}/factors`)).body.items).toEqual([]);
  const actions = (await tarn.admin('GET', `/pools/${pool.id}/audit?actor=user`)).body.items.map((item: { action: string }) => item.action);
  expect(actions).toEqual(expect.arrayContaining(['user.totp_enrolled', 'user.recovery_codes_regenerated', 'user.totp_removed']));
});

it('adds a passkey with the device authenticator, lists it, and removes it', async () => {
  const pool = await createPool(tarn, { signIn: { password: true, emailCode: false, passkey: true } });
  const user = await createUser(tarn, pool.id);
  const page = await newPage();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
  });
  await openAccount(page, pool.id, user);
  await page.click('nav >> text=Passkeys');
  expect(await page.locator('#no-passkeys').count()).toBe(1);
  await expectAccessible(page);
  await page.fill('#passkey-name', 'Work laptop');
  await page.click('#passkey-start');
  await page.waitForSelector('.notice');
  expect(await page.locator('.notice').textContent()).toBe('The passkey was added.');
  expect(await page.locator('#passkeys li strong').allTextContents()).toEqual(['Work laptop']);
  expect((await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials).toHaveLength(1);
  await expectAccessible(page);
  await page.click('#passkeys li button');
  expect(await page.locator('.notice').textContent()).toBe('The passkey was removed.');
  expect(await page.locator('#no-passkeys').count()).toBe(1);
  expect((await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}/passkeys`)).body.items).toEqual([]);
});

it('lists sessions, signs one out, then every other; the signed-out browser must sign in again', async () => {
  const pool = await createPool(tarn);
  const user = await createUser(tarn, pool.id);
  const phone = await newPage();
  await openAccount(phone, pool.id, user);
  const tablet = await newPage();
  await openAccount(tablet, pool.id, user);
  const laptop = await newPage();
  await openAccount(laptop, pool.id, user);
  await laptop.click('nav >> text=Sessions');
  expect(await laptop.locator('#sessions > li').count()).toBe(3);
  expect(await laptop.locator('#this-session strong').textContent()).toBe('This browser');
  expect(await laptop.locator('#this-session').textContent()).toContain('Your account');
  await expectAccessible(laptop);

  await laptop.click('#sessions > li:not(#this-session) button >> nth=0');
  expect(await laptop.locator('.notice').textContent()).toBe('The session was signed out.');
  expect(await laptop.locator('#sessions > li').count()).toBe(2);
  await laptop.click('#sign-out-others');
  expect(await laptop.locator('.notice').textContent()).toBe('Every other session was signed out.');
  expect(await laptop.locator('#sessions > li').count()).toBe(1);

  for (const other of [phone, tablet]) {
    await other.goto(`${tarn.url}/pools/${pool.id}/account`);
    expect(await h1(other)).toBe('Sign in');
  }
  await laptop.goto(`${tarn.url}/pools/${pool.id}/account`);
  expect(await h1(laptop)).toBe('Your account');

  // Signing out of the account page ends the session there too.
  await laptop.click('#sign-out');
  await laptop.waitForSelector('h1');
  if (await laptop.locator('button[name=logout], button[value=yes]').count()) await laptop.click('button[name=logout], button[value=yes]');
  await laptop.waitForSelector('h1:text-is("Signed out")');
  await expectAccessible(laptop);
  await laptop.goto(`${tarn.url}/pools/${pool.id}/account`);
  expect(await h1(laptop)).toBe('Sign in');
});

it('deletes the account only where the pool allows it', async () => {
  const closed = await createPool(tarn);
  const kept = await createUser(tarn, closed.id);
  const page = await newPage();
  await openAccount(page, closed.id, kept);
  expect(await page.locator('#delete-account').count()).toBe(0);
  const refused = await page.goto(`${tarn.url}/pools/${closed.id}/account/delete`);
  expect(refused?.status()).toBe(404);
  await expectAccessible(page);

  const open = await createPool(tarn, { account: { allowDeletion: true } });
  expect((await tarn.admin('GET', `/pools/${open.id}`)).body.account).toEqual({ allowDeletion: true });
  const user = await createUser(tarn, open.id);
  await openAccount(page, open.id, user);
  await page.click('#delete-account');
  expect(await h1(page)).toBe('Delete your account');
  await expectAccessible(page);
  await page.fill('#confirm', 'someone-else@example.test');
  await page.click('#confirm-delete');
  expect(await page.locator('[role=alert]').textContent()).toContain('Type your email address');
  await page.fill('#confirm', user.email);
  await page.click('#confirm-delete');
  expect(await h1(page)).toBe('Account deleted');
  expect((await mailbox.next(user.email)).subject).toContain('was deleted');
  expect((await tarn.admin('GET', `/pools/${open.id}/users/${user.id}`)).status).toBe(404);
  await page.goto(`${tarn.url}/pools/${open.id}/account`);
  expect(await h1(page)).toBe('Sign in');
});

it("speaks the browser's language: German pages, a wrong code tied to its field, and German mails", async () => {
  const pool = await createPool(tarn);
  const user = await createUser(tarn, pool.id);
  const newEmail = `neu-${user.email}`;
  const page = await newPage();
  await page.setExtraHTTPHeaders({ 'Accept-Language': 'de-DE,de;q=0.9' });
  await page.goto(`${tarn.url}/pools/${pool.id}/account`);
  expect(await h1(page)).toBe('Anmelden');
  expect(await page.getAttribute('html', 'lang')).toBe('de');
  await page.fill('input[name=email]', user.email);
  await page.fill('input[name=password]', user.password);
  await page.click('form button[type=submit] >> nth=0');
  await page.waitForSelector('h1:text-is("Ihr Konto")');
  expect(await page.getAttribute('html', 'lang')).toBe('de');
  await expectAccessible(page);

  await page.click('nav >> text=E-Mail');
  expect(await h1(page)).toBe('E-Mail-Adresse ändern');
  await page.fill('#email', newEmail);
  await page.click('form[action$="/account/email"] button[type=submit]');
  const mail = await mailbox.next(newEmail);
  expect(mail.subject).toContain('Code zur Bestätigung dieser Adresse');
  const code = codeIn(mail);
  await page.fill('#code', code === '000000' ? '111111' : '000000');
  await page.click('form[action$="/email/confirm"] button[type=submit]');
  expect(await page.locator('#code-error').textContent()).toBe('Dieser Code ist falsch oder abgelaufen. Fordern Sie bei Bedarf einen neuen an.');
  expect(await page.getAttribute('#code', 'aria-invalid')).toBe('true');
  expect(await page.getAttribute('#code', 'aria-describedby')).toBe('code-error');
  await expectAccessible(page);
  await page.fill('#code', code);
  await page.click('form[action$="/email/confirm"] button[type=submit]');
  expect(await page.locator('.notice').textContent()).toBe('Ihre E-Mail-Adresse wurde geändert.');
  const notice = await mailbox.next(user.email);
  expect(notice.subject).toContain('E-Mail-Adresse wurde geändert');
  expect(notice.text).toContain(newEmail);
});
