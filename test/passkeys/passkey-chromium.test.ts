/**
 * Passkeys in a real headless Chromium with a virtual authenticator (Chrome DevTools Protocol
 * WebAuthn domain: resident keys, user verification). Tarn runs at http://localhost:PORT, because
 * a WebAuthn relying-party id must be a domain or "localhost", never an IP address.
 * The story: password sign-in → "add a passkey" → signed out → sign-in with only the passkey,
 * and the relying party (openid-client) gets tokens for the same user. Then what must fail:
 * the passkey at another pool, and after the user deleted it.
 */
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import * as oidc from 'openid-client';
import { createClient, createPool, createUser, REDIRECT_URI } from '../support/fixtures.js';
import { launchChromium, newContext } from '../support/chromium.js';
import { authorizeInChromium, discover } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
let chromium: Browser;
beforeAll(async () => {
  tarn = await startTarn({ PUBLIC_URL: 'http://localhost:{port}' });
  chromium = await launchChromium();
});
afterAll(async () => {
  await chromium?.close();
  await tarn?.close();
});

const PASSKEY_POOL = { signIn: { password: true, emailCode: false, passkey: true } };

interface Session {
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
  authenticatorId: string;
  callbacks: string[];
}

/** A browser tab whose device has a platform authenticator (like a laptop with a fingerprint reader). */
async function openBrowserWithAuthenticator(): Promise<Session> {
  const { context, callbacks } = await newContext(chromium, REDIRECT_URI);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
  });
  return { context, page, cdp, authenticatorId, callbacks };
}

async function setUpPool() {
  const pool = await createPool(tarn, { name: 'Fjord Bank', ...PASSKEY_POOL });
  const app = await createClient(tarn, pool.id, { name: 'Fjord Online' });
  const user = await createUser(tarn, pool.id);
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  return { pool, app, user, config };
}

/** Allows access when the consent page shows, then waits for the relying party's callback. */
async function consentAndReturn(session: Session) {
  const heading = await session.page.waitForSelector('h1:text-is("Allow access"), p:text-is("relying party callback"), [role=alert]');
  if ((await heading.textContent()) === 'Allow access') await session.page.click('button[value=allow]');
  await session.page.waitForURL(`${REDIRECT_URI}**`);
}

async function tokensFrom(config: oidc.Configuration, session: Session, checks: { verifier: string; state: string }) {
  const callback = session.callbacks.at(-1)!;
  return oidc.authorizationCodeGrant(config, new URL(callback), { pkceCodeVerifier: checks.verifier, expectedState: checks.state });
}

async function signInWithPasswordAndAddPasskey(session: Session, setup: Awaited<ReturnType<typeof setUpPool>>) {
  const checks = await authorizeInChromium(setup.config, session.page);
  await session.page.fill('input[name=email]', setup.user.email);
  await session.page.fill('input[name=password]', setup.user.password);
  await session.page.click('button:text-is("Sign in")');
  expect(await session.page.locator('h1').textContent()).toBe('Add a passkey');
  await session.page.fill('input[name=name]', 'Work laptop');
  await session.page.click('#passkey-start');
  await consentAndReturn(session);
  return tokensFrom(setup.config, session, checks);
}

async function signOut(session: Session) {
  // RP-initiated logout needs a click on its confirmation page; dropping the cookies is the same for the pool.
  await session.context.clearCookies();
}

it('a user adds a passkey after a password sign-in, then signs in with only the passkey: same sub', async () => {
  const setup = await setUpPool();
  const session = await openBrowserWithAuthenticator();

  const first = await signInWithPasswordAndAddPasskey(session, setup);
  expect(first.claims()!.sub).toBe(setup.user.id);
  // The device now holds one discoverable credential for the relying-party id "localhost".
  const { credentials } = await session.cdp.send('WebAuthn.getCredentials', { authenticatorId: session.authenticatorId });
  expect(credentials).toHaveLength(1);
  expect(credentials[0]).toMatchObject({ rpId: 'localhost', isResidentCredential: true });

  await signOut(session);

  const checks = await authorizeInChromium(setup.config, session.page);
  expect(await session.page.locator('h1').textContent()).toBe('Sign in');
  // No email typed: the browser offers the discoverable credential.
  await session.page.click('button:text-is("Sign in with a passkey")');
  await consentAndReturn(session);
  const second = await tokensFrom(setup.config, session, checks);
  expect(second.claims()!.sub).toBe(setup.user.id);

  // The admin sees the passkey, with its name, and that it was used.
  const listed = await tarn.admin('GET', `/pools/${setup.pool.id}/users/${setup.user.id}/passkeys`);
  expect(listed.status).toBe(200);
  expect(listed.body.items).toHaveLength(1);
  expect(listed.body.items[0]).toMatchObject({ name: 'Work laptop' });
  expect(listed.body.items[0].lastUsedAt).not.toBeNull();
  await session.context.close();
});

it("after typing the email, the browser is asked only for that user's passkeys; the add step can be skipped", async () => {
  const setup = await setUpPool();
  const other = await createUser(tarn, setup.pool.id);
  const session = await openBrowserWithAuthenticator();
  await signInWithPasswordAndAddPasskey(session, setup);

  // Another user of the pool signs in with a password on the same device and says "Not now".
  await signOut(session);
  let checks = await authorizeInChromium(setup.config, session.page);
  await session.page.fill('input[name=email]', other.email);
  await session.page.fill('input[name=password]', other.password);
  await session.page.click('button:text-is("Sign in")');
  expect(await session.page.locator('h1').textContent()).toBe('Add a passkey');
  await session.page.click('text=Not now');
  await consentAndReturn(session);
  expect((await tokensFrom(setup.config, session, checks)).claims()!.sub).toBe(other.id);

  // Email first: the first user's passkey signs them in.
  await signOut(session);
  checks = await authorizeInChromium(setup.config, session.page);
  await session.page.fill('input[name=email]', setup.user.email);
  await session.page.click('button:text-is("Sign in with a passkey")');
  await consentAndReturn(session);
  expect((await tokensFrom(setup.config, session, checks)).claims()!.sub).toBe(setup.user.id);

  // The other user's email: the device has no passkey of theirs, so the browser finds none.
  await signOut(session);
  await authorizeInChromium(setup.config, session.page);
  await session.page.fill('input[name=email]', other.email);
  await session.page.click('button:text-is("Sign in with a passkey")');
  await session.page.waitForSelector('#passkey-error:visible');
  expect(await session.page.locator('#passkey-error').textContent()).toContain('no passkey for this site was found');
  expect(await session.page.locator('h1').textContent()).toBe('Sign in with a passkey');
  await session.context.close();
});

it('an unknown email gets the same kind of passkey request as a known one', async () => {
  const setup = await setUpPool();
  const session = await openBrowserWithAuthenticator();
  await signInWithPasswordAndAddPasskey(session, setup);
  await signOut(session);

  async function optionsFor(email: string) {
    await authorizeInChromium(setup.config, session.page);
    await session.page.fill('input[name=email]', email);
    // Keep the browser from answering, to read the request as the server made it.
    await session.cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId: session.authenticatorId, enabled: false });
    await session.page.click('button:text-is("Sign in with a passkey")');
    const options = JSON.parse((await session.page.locator('#passkey').getAttribute('data-options'))!);
    // Leave the pending ceremony with its page before the authenticator answers again: else,
    // for a known email, the page signs in and navigates while the next request is starting.
    await session.page.goto('about:blank');
    await session.cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId: session.authenticatorId, enabled: true });
    return options;
  }
  const known = await optionsFor(setup.user.email);
  const unknown = await optionsFor('nobody-here@example.test');
  const unknownAgain = await optionsFor('NOBODY-here@example.test');
  expect(Object.keys(unknown).sort()).toEqual(Object.keys(known).sort());
  expect(unknown.allowCredentials).toHaveLength(1);
  expect(unknown.allowCredentials[0].id).toHaveLength(known.allowCredentials[0].id.length);
  // Stable: asking twice does not reveal a made-up answer by changing.
  expect(unknownAgain.allowCredentials[0].id).toBe(unknown.allowCredentials[0].id);
  expect(unknown.allowCredentials[0].id).not.toBe(known.allowCredentials[0].id);
  await session.context.close();
});

it('a passkey registered in pool A does not sign in at pool B on the same host', async () => {
  const a = await setUpPool();
  const b = await setUpPool();
  const session = await openBrowserWithAuthenticator();
  await signInWithPasswordAndAddPasskey(session, a);
  await signOut(session);

  // Same rpId (the host), so the browser offers pool A's credential; pool B does not know it.
  await authorizeInChromium(b.config, session.page);
  await session.page.click('button:text-is("Sign in with a passkey")');
  await session.page.waitForSelector('p.error[role=alert]:text("could not be used")');
  expect(await session.page.locator('h1').textContent()).toBe('Sign in with a passkey');
  expect(session.callbacks).toHaveLength(1); // only pool A's sign-in ever reached the app
  expect((await tarn.admin('GET', `/pools/${b.pool.id}/users/${b.user.id}/passkeys`)).body.items).toHaveLength(0);
  await session.context.close();
});

it('a user lists, renames and deletes their passkeys with their access token; a deleted passkey no longer signs in', async () => {
  const setup = await setUpPool();
  const session = await openBrowserWithAuthenticator();
  const tokens = await signInWithPasswordAndAddPasskey(session, setup);
  const me = (path: string, init: RequestInit = {}, token = tokens.access_token) =>
    fetch(`${setup.pool.issuer}/me/passkeys${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
    });

  const listed = await me('');
  expect(listed.status).toBe(200);
  const { items } = (await listed.json()) as { items: { id: string; name: string }[] };
  expect(items).toEqual([expect.objectContaining({ name: 'Work laptop', backupEligible: expect.any(Boolean) })]);

  const renamed = await me(`/${items[0]!.id}`, { method: 'PATCH', body: JSON.stringify({ name: 'Home laptop' }) });
  expect(renamed.status).toBe(200);
  expect(await renamed.json()).toMatchObject({ id: items[0]!.id, name: 'Home laptop' });
  const badName = await me(`/${items[0]!.id}`, { method: 'PATCH', body: JSON.stringify({ name: '' }) });
  expect(badName.status).toBe(400);
  expect(badName.headers.get('content-type')).toContain('application/problem+json');

  // No token, a wrong token: 401 with a Bearer challenge.
  const anonymous = await fetch(`${setup.pool.issuer}/me/passkeys`);
  expect(anonymous.status).toBe(401);
  expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
  expect((await me('', {}, 'not-a-token')).status).toBe(401);

  expect((await me(`/${items[0]!.id}`, { method: 'DELETE' })).status).toBe(204);
  expect((await me(`/${items[0]!.id}`, { method: 'DELETE' })).status).toBe(404);
  expect(((await (await me('')).json()) as { items: unknown[] }).items).toHaveLength(0);

  // The device still holds the credential, but the pool has forgotten it.
  await signOut(session);
  await authorizeInChromium(setup.config, session.page);
  await session.page.click('button:text-is("Sign in with a passkey")');
  await session.page.waitForSelector('p.error[role=alert]:text("could not be used")');
  expect(session.callbacks).toHaveLength(1);
  await session.context.close();
});

it('a pool without passkeys offers none of it, and its passkey endpoints are not found', async () => {
  const pool = await createPool(tarn, { name: 'Plain Co' });
  const app = await createClient(tarn, pool.id);
  const user = await createUser(tarn, pool.id);
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  const session = await openBrowserWithAuthenticator();
  const checks = await authorizeInChromium(config, session.page);
  expect(await session.page.locator('button:text-is("Sign in with a passkey")').count()).toBe(0);
  const uid = new URL(session.page.url()).pathname.split('/').at(-1)!;
  const direct = await session.page.request.get(`${pool.issuer}/interaction/${uid}/passkey/add`);
  expect(direct.status()).toBe(404);
  await session.page.fill('input[name=email]', user.email);
  await session.page.fill('input[name=password]', user.password);
  await session.page.click('button:text-is("Sign in")');
  // Straight on to the app: no "add a passkey" step.
  await consentAndReturn(session);
  const tokens = await tokensFrom(config, session, checks);
  const me = await fetch(`${pool.issuer}/me/passkeys`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  expect(me.status).toBe(404);
  expect(me.headers.get('content-type')).toContain('application/problem+json');
  expect((await fetch(`${pool.issuer}/me/passkeys`)).status).toBe(404);
  await session.context.close();
});

it('a browser without WebAuthn sees a clear page instead of a broken button', async () => {
  const setup = await setUpPool();
  const { context } = await newContext(chromium, REDIRECT_URI);
  await context.addInitScript(() => {
    // As in a browser that predates WebAuthn.
    delete (window as { PublicKeyCredential?: unknown }).PublicKeyCredential;
  });
  const page = await context.newPage();
  await authorizeInChromium(setup.config, page);
  await page.click('button:text-is("Sign in with a passkey")');
  await page.waitForSelector('#passkey-unsupported:visible');
  expect(await page.locator('#passkey-unsupported').textContent()).toContain('This browser cannot use passkeys.');
  expect(await page.locator('#passkey-start').isVisible()).toBe(false);
  expect(await page.locator('a:text-is("Sign in another way")').isVisible()).toBe(true);
  await context.close();
});

it('when the browser refuses to create the passkey, the add step says so and lets them try again or skip', async () => {
  const setup = await setUpPool();
  const session = await openBrowserWithAuthenticator();
  // The person fails the fingerprint / screen-lock check: the authenticator cannot verify them.
  await session.cdp.send('WebAuthn.setUserVerified', { authenticatorId: session.authenticatorId, isUserVerified: false });
  await authorizeInChromium(setup.config, session.page);
  await session.page.fill('input[name=email]', setup.user.email);
  await session.page.fill('input[name=password]', setup.user.password);
  await session.page.click('button:text-is("Sign in")');
  await session.page.click('#passkey-start');
  await session.page.waitForSelector('#passkey-error:visible');
  expect(await session.page.locator('#passkey-error').textContent()).toContain('cancelled');
  expect(await session.page.locator('#passkey-start').textContent()).toBe('Try again');
  await session.page.click('text=Not now');
  await consentAndReturn(session);
  expect(session.callbacks).toHaveLength(1);
  await session.context.close();
});

it('outside a sign-in (right after activation), a user adds a passkey and then signs in with it alone', async () => {
  const setup = await setUpPool();
  const session = await openBrowserWithAuthenticator();
  // What the activation page does (offerStandaloneEnrolment): a 15-minute grant in an httpOnly cookie.
  const grant = tarn.tarn.services.passkeys.issueEnrolmentGrant(setup.pool.id, setup.user.id);
  const enrolUrl = `${setup.pool.issuer}/passkeys/enrol`;
  const cookie = {
    name: '_tarn_passkey_enrol',
    domain: 'localhost',
    path: `/pools/${setup.pool.id}/passkeys/enrol`,
    httpOnly: true,
    sameSite: 'Strict' as const,
  };
  await session.context.addCookies([{ ...cookie, value: grant }]);
  await session.page.goto(enrolUrl);
  expect(await session.page.locator('h1').textContent()).toBe('Add a passkey');
  expect(await session.page.textContent('body')).toContain(setup.user.email);
  await session.page.click('#passkey-start');
  await session.page.waitForSelector('h1:text-is("Passkey added")');

  // The grant is spent with the cookie; without it the page is a clear "expired".
  const again = await session.page.goto(enrolUrl);
  expect(again!.status()).toBe(400);
  expect(await session.page.locator('h1').textContent()).toBe('Passkey step expired');
  // A forged grant (another user's id with a made-up signature) is refused the same way.
  const forged = `${setup.user.id}.${Date.now() + 60_000}.AAAA`;
  await session.context.addCookies([{ ...cookie, value: forged }]);
  expect((await session.page.goto(enrolUrl))!.status()).toBe(400);

  const checks = await authorizeInChromium(setup.config, session.page);
  await session.page.click('button:text-is("Sign in with a passkey")');
  await consentAndReturn(session);
  expect((await tokensFrom(setup.config, session, checks)).claims()!.sub).toBe(setup.user.id);
  await session.context.close();
});
