/**
 * Signing out upstream (docs/adr/0900), in a real headless Chromium with another Tarn pool as the
 * upstream: a user who signed in through a connection with `upstreamLogout` and then signs out of the
 * downstream pool is sent to the upstream's end_session_endpoint (RP-Initiated Logout, id_token_hint
 * the upstream's own ID token kept sealed for it), signs out there too, and comes back to the relying
 * party's post-logout address. Without the setting (the default) the upstream session is left alone.
 * Every page on the way passes axe-core with no serious or critical violation.
 */
import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { seriousViolations } from '../support/axe.js';
import { launchChromium, newContext } from '../support/chromium.js';
import { createClient, createPool, createUser, REDIRECT_URI } from '../support/fixtures.js';
import { authorizeInChromium, discover } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

const LOGGED_OUT = 'http://rp.example.test/logged-out';

let tarn: RunningTarn;
let chromium: Browser;
beforeAll(async () => {
  // The upstream pool is on this machine: loopback must be allowed deliberately.
  tarn = await startTarn({ OUTGOING_NETWORKS: 'loopback' });
  chromium = await launchChromium();
});
afterAll(async () => {
  await chromium?.close();
  await tarn?.close();
});

async function federate(connection: Record<string, unknown>) {
  const upstream = await createPool(tarn, { name: 'Partner Corp' });
  const downstream = await createPool(tarn, { name: 'Harbour Co' });
  const created = await tarn.admin('POST', `/pools/${downstream.id}/connections`, {
    name: 'partner',
    type: 'oidc',
    displayName: 'Partner Corp',
    issuer: upstream.issuer,
    clientId: 'set-below',
    clientSecret: 'set-below',
    ...connection,
  });
  expect(created.status).toBe(201);
  const { id, callbackUrl, postLogoutRedirectUrl } = created.body as { id: string; callbackUrl: string; postLogoutRedirectUrl: string };
  expect(postLogoutRedirectUrl).toBe(`${tarn.url}/pools/${downstream.id}/connections/partner/logged-out`);
  const link = await createClient(tarn, upstream.id, {
    name: 'Harbour Co sign-in',
    redirectUris: [callbackUrl],
    postLogoutRedirectUris: [postLogoutRedirectUrl],
  });
  expect((await tarn.admin('PATCH', `/pools/${downstream.id}/connections/${id}`, { clientId: link.clientId, clientSecret: link.secret?.value })).status).toBe(
    200,
  );
  const person = await createUser(tarn, upstream.id, { emailVerified: true });
  const app = await createClient(tarn, downstream.id, { name: 'Harbour Desk', postLogoutRedirectUris: [LOGGED_OUT] });
  const config = await discover(downstream.issuer, app.clientId, app.secret?.value);
  return { upstream, downstream, person, config };
}

/** Allows what is asked until the relying party's callback is reached. */
async function untilCallback(page: Page) {
  for (let steps = 0; steps < 3; steps += 1) {
    const seen = await page.waitForSelector('h1:text-is("Allow access"), p:text-is("relying party callback")');
    if ((await seen.textContent()) !== 'Allow access') return;
    await page.click('button[value=allow]');
  }
}

/** Continues with the partner from the downstream login page, and signs in upstream; answers the downstream ID token. */
async function signInThroughPartner(f: Awaited<ReturnType<typeof federate>>, page: Page, callbacks: string[]) {
  const checks = await authorizeInChromium(f.config, page);
  await page.click('text=Continue with Partner Corp');
  await page.waitForURL(`**/pools/${f.upstream.id}/interaction/**`);
  await page.fill('input[name=email]', f.person.email);
  await page.fill('input[name=password]', f.person.password);
  await page.click('button[type=submit]');
  await untilCallback(page);
  const tokens = await oidc.authorizationCodeGrant(f.config, new URL(callbacks.at(-1)!), { pkceCodeVerifier: checks.verifier, expectedState: checks.state });
  return tokens.id_token!;
}

async function signOutDownstream(f: Awaited<ReturnType<typeof federate>>, page: Page, idToken: string) {
  const end = new URL(`${f.downstream.issuer}/session/end`);
  end.searchParams.set('id_token_hint', idToken);
  end.searchParams.set('post_logout_redirect_uri', LOGGED_OUT);
  end.searchParams.set('state', 'bye');
  await page.goto(end.href);
  await page.click('button[name=logout][value=yes]');
}

it('signs the user out of the upstream too, and back to the relying party, where the connection says so', async () => {
  const f = await federate({ upstreamLogout: true });
  const { context, callbacks } = await newContext(chromium, REDIRECT_URI);
  await context.route(`${LOGGED_OUT}**`, (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>bye</title><p>signed out</p>' }),
  );
  const page = await context.newPage();
  const idToken = await signInThroughPartner(f, page, callbacks);

  await signOutDownstream(f, page, idToken);
  // Signed out of the downstream pool; now the upstream asks, as it does for any relying party's sign-out.
  await page.waitForURL(`**/pools/${f.upstream.id}/session/end?**`);
  const upstreamEnd = new URL(page.url());
  expect(upstreamEnd.searchParams.get('post_logout_redirect_uri')).toBe(`${tarn.url}/pools/${f.downstream.id}/connections/partner/logged-out`);
  // The hint is the upstream's own ID token for this user, not the downstream's.
  const hint = JSON.parse(Buffer.from(upstreamEnd.searchParams.get('id_token_hint')!.split('.')[1]!, 'base64url').toString()) as { iss: string; sub: string };
  expect(hint).toMatchObject({ iss: f.upstream.issuer, sub: f.person.id });
  expect(await seriousViolations(page)).toEqual([]);
  const [request] = await Promise.all([page.waitForRequest(`${LOGGED_OUT}**`), page.click('button[name=logout][value=yes]')]);
  const back = new URL(request.url());
  await page.waitForSelector('p:text-is("signed out")');
  expect(`${back.origin}${back.pathname}`).toBe(LOGGED_OUT);
  expect(back.searchParams.get('state')).toBe('bye');

  // Both sessions ended: continuing with the partner asks for the upstream password again.
  await authorizeInChromium(f.config, page);
  await page.click('text=Continue with Partner Corp');
  await page.waitForURL(`**/pools/${f.upstream.id}/interaction/**`);
  expect(await page.locator('input[name=password]').count()).toBe(1);
  await context.close();
});

it('leaves the upstream session alone by default', async () => {
  const f = await federate({});
  const { context, callbacks } = await newContext(chromium, REDIRECT_URI);
  await context.route(`${LOGGED_OUT}**`, (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>bye</title><p>signed out</p>' }),
  );
  const page = await context.newPage();
  const idToken = await signInThroughPartner(f, page, callbacks);

  const [request] = await Promise.all([page.waitForRequest(`${LOGGED_OUT}**`), signOutDownstream(f, page, idToken)]);
  // Straight from the downstream pool to the relying party: the upstream was not visited.
  expect(request.url()).toBe(`${LOGGED_OUT}?state=bye`);
  expect(request.redirectedFrom()?.url()).toContain(`/pools/${f.downstream.id}/session/end/confirm`);
  await page.waitForSelector('p:text-is("signed out")');

  // Still signed in upstream: continuing with the partner comes straight back without its password.
  const checks = await authorizeInChromium(f.config, page);
  await page.click('text=Continue with Partner Corp');
  await untilCallback(page);
  const again = await oidc.authorizationCodeGrant(f.config, new URL(callbacks.at(-1)!), { pkceCodeVerifier: checks.verifier, expectedState: checks.state });
  expect(again.claims()!.sub).toBeTruthy();
  await context.close();
});
