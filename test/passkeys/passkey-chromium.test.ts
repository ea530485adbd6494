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
import { discover } from '../support/relying-party.js';
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
  const config = await discover(pool.issuer, app.clientId, app.clientSecret);
  return { pool, app, user, config };
}

async function authorize(config: oidc.Configuration, page: Page) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  await page.goto(url.href);
  return { verifier, state };
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
  const checks = await authorize(setup.config, session.page);
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

  const checks = await authorize(setup.config, session.page);
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
