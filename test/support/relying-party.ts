/**
 * A relying party built on openid-client, signing a user in through the hosted pages
 * the way a browser would (cookies, CSRF field, redirects).
 */
import * as oidc from 'openid-client';
import type { Page as ChromiumPage } from 'playwright-core';
import { Browser, decodeEntities, type Page } from './browser.js';
import { createClient, createPool, createUser, REDIRECT_URI } from './fixtures.js';
import type { RunningTarn } from './tarn.js';

export async function discover(issuer: string, clientId: string, clientSecret?: string) {
  return oidc.discovery(new URL(issuer), clientId, clientSecret, clientSecret ? undefined : oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  });
}

export interface SignInResult {
  tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
  browser: Browser;
  callback: URL;
}

export interface SignInOptions {
  scope?: string;
  browser?: Browser;
  /** Extra authorization parameters (prompt, max_age, …). */
  params?: Record<string, string>;
  consent?: boolean;
  /** Answer "Not now" when the pool offers to add a passkey after the password. */
  declinePasskey?: boolean;
}

/** Starts an authorization request and returns the first hosted page the browser lands on. */
export async function startAuthorization(config: oidc.Configuration, browser: Browser, options: SignInOptions = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: options.scope ?? 'openid profile email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...options.params,
  });
  const page = await browser.get(url.href);
  return { page, verifier, state, nonce };
}

/** Opens an authorization request (code flow with PKCE, scope "openid email") in a Chromium page. */
export async function authorizeInChromium(config: oidc.Configuration, page: ChromiumPage) {
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

export async function finishAuthorization(config: oidc.Configuration, leftTo: string | undefined, checks: { verifier: string; state: string; nonce: string }) {
  if (!leftTo?.startsWith(REDIRECT_URI)) throw new Error(`expected a redirect to the client, got ${leftTo}`);
  const callback = new URL(leftTo);
  const tokens = await oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: checks.verifier,
    expectedState: checks.state,
    expectedNonce: checks.nonce,
  });
  return { tokens, callback };
}

export async function signIn(
  config: oidc.Configuration,
  origin: string,
  user: { email: string; password: string },
  options: SignInOptions = {},
): Promise<SignInResult> {
  const browser = options.browser ?? new Browser(origin);
  const start = await startAuthorization(config, browser, options);
  let page: Page & { leftTo?: string } = start.page;
  if (!page.leftTo && page.html.includes('name="password"')) {
    page = await browser.submit(page, { email: user.email, password: user.password });
  }
  const skip = options.declinePasskey ? /href="([^"]*\/passkey\/skip)"/.exec(page.html) : null;
  if (!page.leftTo && skip) page = await browser.get(decodeEntities(skip[1]!));
  if (!page.leftTo && page.html.includes('name="decision"')) {
    page = await browser.submit(page, { decision: options.consent === false ? 'deny' : 'allow' });
  }
  const { tokens, callback } = await finishAuthorization(config, page.leftTo, start);
  return { tokens, browser, callback };
}

/** The usual cast of a sign-in story: a pool, a confidential application, a user, and the RP's configuration. */
export async function setUpSignIn(
  tarn: RunningTarn,
  fields: { pool?: Record<string, unknown>; client?: Record<string, unknown>; user?: Record<string, unknown> } = {},
) {
  const pool = await createPool(tarn, fields.pool);
  const app = await createClient(tarn, pool.id, fields.client);
  const user = await createUser(tarn, pool.id, fields.user);
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  return { pool, app, user, config };
}
