/**
 * OIDC Core §3.1.2.1 and RP-Initiated Logout §2 in a real Chromium: a relying party's page
 * POSTs an authorization request or a logout (with an id_token_hint) from its own site. The
 * browser signs the person out, or signs them in with their existing session, and no URL it
 * visits (its history, its Location headers) ever carries the id_token_hint.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import * as oidc from 'openid-client';
import { launchChromium, newContext } from '../support/chromium.js';
import { createClient, createPool, createUser, REDIRECT_URI } from '../support/fixtures.js';
import { discover } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

const RP_PAGE = 'http://rp.example.test/page';
const LOGGED_OUT = 'http://rp.example.test/logged-out';

let tarn: RunningTarn;
let chromium: Browser;
beforeAll(async () => {
  tarn = await startTarn();
  chromium = await launchChromium();
});
afterAll(async () => {
  await chromium?.close();
  await tarn?.close();
});

/** A person signed in to the app in a fresh Chromium; every URL the tab visits and every Location it is sent to are recorded. */
async function signedInBrowser() {
  const pool = await createPool(tarn);
  const app = await createClient(tarn, pool.id, { postLogoutRedirectUris: [LOGGED_OUT] });
  const user = await createUser(tarn, pool.id);
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  const { context } = await newContext(chromium, REDIRECT_URI);
  // What the relying party receives (the navigations that reach its site) and every URL any tab of
  // this browser visits or is sent to.
  const callbacks: string[] = [];
  const visited: string[] = [];
  const watch = (tab: Page) => {
    tab.on('request', (request) => {
      if (request.isNavigationRequest() && request.url().startsWith('http://rp.example.test/') && !request.url().startsWith(RP_PAGE))
        callbacks.push(request.url());
    });
    tab.on('framenavigated', (frame) => {
      if (frame === tab.mainFrame()) visited.push(frame.url());
    });
    tab.on('response', (response) => {
      const location = response.headers().location;
      if (location) visited.push(location);
    });
  };
  context.on('page', watch);
  const page = await context.newPage();

  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  await page.goto(
    oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    }).href,
  );
  await page.fill('input[name=email]', user.email);
  await page.fill('input[name=password]', user.password);
  await page.click('button[type=submit]');
  await Promise.all([page.waitForRequest(`${REDIRECT_URI}**`), page.click('button[value=allow]')]);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(callbacks.at(-1)!), { pkceCodeVerifier: verifier, expectedState: state });
  return { pool, app, config, context, callbacks, visited, tokens };
}

/**
 * The relying party's own page (another site than Tarn's), in a new tab of the same browser, with a
 * form that POSTs `fields` to `action`. (A new tab: the sign-in's redirect to the callback, which
 * nothing serves here, may still be failing in the first tab and would interrupt a navigation there.)
 */
async function postFromRelyingParty(context: BrowserContext, action: string, fields: Record<string, string>): Promise<Page> {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${value}">`)
    .join('');
  const page = await context.newPage();
  await page.route(RP_PAGE, (route) =>
    route.fulfill({
      status: 200,
      contentType: 'text/html',
      body: `<!doctype html><form method="post" action="${action}">${inputs}<button id="go">Go</button></form>`,
    }),
  );
  await page.goto(RP_PAGE);
  await page.click('#go', { noWaitAfter: true });
  return page;
}

it('RP-Initiated Logout §2 by POST: the person is signed out, and no URL carries the id_token_hint', async () => {
  const { pool, context, callbacks, visited, tokens } = await signedInBrowser();
  const idToken = tokens.id_token!;

  const page = await postFromRelyingParty(context, `${pool.issuer}/session/end`, {
    id_token_hint: idToken,
    post_logout_redirect_uri: LOGGED_OUT,
    state: 'bye',
  });
  // The provider saw the browser's session: it asks to sign out of it.
  await page.waitForSelector('h1:text-is("Sign out?")');
  await Promise.all([page.waitForRequest(`${LOGGED_OUT}**`), page.click('button[name=logout][value=yes]')]);
  expect(new URL(callbacks.at(-1)!).searchParams.get('state')).toBe('bye');

  for (const url of visited) {
    expect(url).not.toContain('id_token_hint');
    expect(url).not.toContain(idToken);
  }
  // Signed out for real: a new authorization request asks for a password again. (In a new tab of the same
  // browser, so the logout's own redirect, still settling in the first tab, cannot interrupt it.)
  const again = await context.newPage();
  await again.goto(
    `${pool.issuer}/auth?${new URLSearchParams({ client_id: tokens.claims()!.aud as string, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })}`,
  );
  expect(await again.locator('input[name=password]').count()).toBe(1);
  await context.close();
});

it('OIDC Core §3.1.2.1 by POST: the existing session signs the person in silently, and no URL carries the id_token_hint', async () => {
  const { pool, app, config, context, callbacks, visited, tokens } = await signedInBrowser();
  const idToken = tokens.id_token!;
  const verifier = oidc.randomPKCECodeVerifier();
  const before = callbacks.length;

  const page = await postFromRelyingParty(context, `${pool.issuer}/auth`, {
    client_id: app.clientId,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: REDIRECT_URI,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: 'again',
    prompt: 'none',
    id_token_hint: idToken,
  });
  await page.waitForRequest(`${REDIRECT_URI}**`);
  expect(callbacks).toHaveLength(before + 1);
  const again = await oidc.authorizationCodeGrant(config, new URL(callbacks.at(-1)!), { pkceCodeVerifier: verifier, expectedState: 'again' });
  expect(again.claims()!.sub).toBe(tokens.claims()!.sub);

  for (const url of visited) {
    expect(url).not.toContain('id_token_hint');
    expect(url).not.toContain(idToken);
  }
  await context.close();
});
