/**
 * Linking an upstream identity to an existing account proven by one of its passkeys, in a real
 * headless Chromium with a virtual authenticator (docs/adr/0900): the account's owner added a
 * passkey at the downstream pool; later they continue with the upstream pool, whose verified email
 * matches; the link page offers the passkey, and only that account's passkey links and signs in.
 * Tarn runs at http://localhost:PORT (a WebAuthn relying-party id cannot be an IP address). The
 * link page passes axe-core with no serious or critical violation.
 */
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { seriousViolations } from '../support/axe.js';
import { launchChromium, newContext } from '../support/chromium.js';
import { createClient, createUser, REDIRECT_URI } from '../support/fixtures.js';
import { discover } from '../support/relying-party.js';
import { partnerPools } from '../support/partner.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
let chromium: Browser;
beforeAll(async () => {
  tarn = await startTarn({ PUBLIC_URL: 'http://localhost:{port}', OUTGOING_NETWORKS: 'loopback' });
  chromium = await launchChromium();
});
afterAll(async () => {
  await chromium?.close();
  await tarn?.close();
});

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

it("links after the existing account's owner proves it with their passkey", async () => {
  const { upstream, downstream } = await partnerPools(tarn, { signIn: { password: true, passkey: true, mfa: 'off' } });
  const person = await createUser(tarn, upstream.id, { emailVerified: true });
  const existing = await createUser(tarn, downstream.id, { email: person.email, emailVerified: true });
  const app = await createClient(tarn, downstream.id, { name: 'Harbour Desk' });
  const config = await discover(downstream.issuer, app.clientId, app.secret?.value);

  // The account's owner signs in with the password and accepts "Add a passkey".
  const { context, page, callbacks } = await enrolPasskey(config, existing);

  // Later: continue with the upstream pool, whose verified email is this account's.
  const checks = await authorize(config, page);
  await page.click('text=Continue with Partner Corp');
  await page.waitForURL(`**/pools/${upstream.id}/interaction/**`);
  await page.fill('input[name=email]', person.email);
  await page.fill('input[name=password]', person.password);
  await page.click('button[type=submit]');
  await page.click('button[value=allow]');
  await page.waitForURL(`**/pools/${downstream.id}/interaction/**/connection/partner/link`);
  expect((await page.locator('h1').textContent())?.trim()).toBe('Link your account');
  expect(await seriousViolations(page)).toEqual([]);
  expect((await tarn.admin('GET', `/pools/${downstream.id}/users/${existing.id}/identities`)).body.items).toEqual([]);

  await page.click('#link-passkey');
  const after = await page.waitForSelector('h1:text-is("Allow access"), p:text-is("relying party callback")');
  if ((await after.textContent()) === 'Allow access') await page.click('button[value=allow]');
  await page.waitForURL(`${REDIRECT_URI}**`);
  await context.close();

  const tokens = await oidc.authorizationCodeGrant(config, new URL(callbacks.at(-1)!), { pkceCodeVerifier: checks.verifier, expectedState: checks.state });
  const claims = decodeJwt(tokens.id_token!) as { sub: string; amr?: string[] };
  expect(claims.sub).toBe(existing.id);
  expect(claims.amr).toEqual(expect.arrayContaining(['fed', 'hwk']));
  expect((await tarn.admin('GET', `/pools/${downstream.id}/users/${existing.id}/identities`)).body.items).toEqual([
    expect.objectContaining({ connection: 'partner', subject: person.id }),
  ]);
});

/** A fresh context with its own virtual authenticator, where `user` signs in with the password and adds a passkey. */
async function enrolPasskey(config: oidc.Configuration, user: { email: string; password: string }) {
  const { context, callbacks } = await newContext(chromium, REDIRECT_URI);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
  });
  await authorize(config, page);
  await page.fill('#email', user.email);
  await page.fill('#password', user.password);
  await page.click('button:text-is("Sign in")');
  expect((await page.locator('h1').textContent())?.trim()).toBe('Add a passkey');
  await page.click('#passkey-start');
  const consent = await page.waitForSelector('h1:text-is("Allow access"), p:text-is("relying party callback")');
  if ((await consent.textContent()) === 'Allow access') await page.click('button[value=allow]');
  await page.waitForURL(`${REDIRECT_URI}**`);
  await context.clearCookies();
  return { context, page, callbacks };
}

it("refuses to link when the proof is another user's passkey, even with the page's choice of passkeys undone", async () => {
  const { upstream, downstream } = await partnerPools(tarn, { signIn: { password: true, passkey: true, mfa: 'off' } });
  // The victim's account has a passkey; the upstream identity asserts the victim's email.
  const person = await createUser(tarn, upstream.id, { emailVerified: true });
  const victim = await createUser(tarn, downstream.id, { email: person.email, emailVerified: true });
  const attacker = await createUser(tarn, downstream.id, { emailVerified: true });
  const app = await createClient(tarn, downstream.id, { name: 'Harbour Desk' });
  const config = await discover(downstream.issuer, app.clientId, app.secret?.value);
  const victims = await enrolPasskey(config, victim);
  await victims.context.close();

  // The attacker's browser holds only the attacker's own passkey, and offers it whatever credentials the page asks for.
  const { context, page, callbacks } = await enrolPasskey(config, attacker);
  const signedIn = callbacks.length;
  await context.addInitScript(() => {
    const get = navigator.credentials.get.bind(navigator.credentials);
    navigator.credentials.get = (options?: CredentialRequestOptions) => {
      if (options?.publicKey) delete (options.publicKey as { allowCredentials?: unknown }).allowCredentials;
      return get(options);
    };
  });
  await authorize(config, page);
  await page.click('text=Continue with Partner Corp');
  await page.waitForURL(`**/pools/${upstream.id}/interaction/**`);
  await page.fill('input[name=email]', person.email);
  await page.fill('input[name=password]', person.password);
  await page.click('button[type=submit]');
  await page.click('button[value=allow]');
  await page.waitForURL(`**/pools/${downstream.id}/interaction/**/connection/partner/link`);
  expect(await page.locator('#link-passkey').count()).toBe(1);
  await page.click('#link-passkey');

  // The attacker's passkey was used (the ceremony completed) and refused: a page saying so, nobody signed in, nothing linked.
  await page.waitForSelector('text=That passkey could not be used to confirm it is you.');
  expect(await seriousViolations(page)).toEqual([]);
  expect(page.url()).toContain(`/pools/${downstream.id}/interaction/`);
  expect(callbacks.length).toBe(signedIn);
  for (const user of [victim, attacker]) {
    expect((await tarn.admin('GET', `/pools/${downstream.id}/users/${user.id}/identities`)).body.items).toEqual([]);
  }
  const audit = await tarn.admin('GET', `/pools/${downstream.id}/audit`);
  expect(JSON.stringify(audit.body)).toContain('connection partner: link_proof_failed');
  await context.close();
});
