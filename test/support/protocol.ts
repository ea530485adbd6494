/**
 * Protocol-level helpers for the conformance suite: raw authorization requests driven
 * through the hosted pages, raw token-endpoint calls (for requests a real library
 * would refuse to send), and a controllable clock for expiry tests.
 */
import * as oidc from 'openid-client';
import { Browser, type Page } from './browser.js';
import { createClient, createPool, createUser, REDIRECT_URI, type AdminApi } from './fixtures.js';
import { discover } from './relying-party.js';

export interface PoolSetup {
  pool: Awaited<ReturnType<typeof createPool>>;
  app: Awaited<ReturnType<typeof createClient>>;
  user: Awaited<ReturnType<typeof createUser>>;
  config: oidc.Configuration;
}

/** A pool with one application and one user, and an openid-client Configuration for the app. */
export async function setupPool(tarn: AdminApi, clientFields: Record<string, unknown> = {}, poolFields: Record<string, unknown> = {}): Promise<PoolSetup> {
  const pool = await createPool(tarn, poolFields);
  const app = await createClient(tarn, pool.id, clientFields);
  const user = await createUser(tarn, pool.id, { emailVerified: true, profile: { name: 'Grace Hopper', given_name: 'Grace', family_name: 'Hopper' } });
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  return { pool, app, user, config };
}

/** An authorization request URL with exactly these parameters (nothing added). */
export function authorizationUrl(issuer: string, params: Record<string, string>): string {
  const url = new URL(`${issuer}/auth`);
  url.search = new URLSearchParams(params).toString();
  return url.href;
}

export type Navigation = Page & { leftTo?: string };

/**
 * Follows an authorization request through the hosted pages: signs in when the login
 * page shows (and a user is given), allows (or denies) when the consent page shows.
 */
export async function authorize(
  browser: Browser,
  url: string,
  user?: { email: string; password: string },
  options: { consent?: boolean } = {},
): Promise<Navigation> {
  let page: Navigation = await browser.get(url);
  if (!page.leftTo && user && page.html.includes('name="password"')) {
    page = await browser.submit(page, { email: user.email, password: user.password });
  }
  if (!page.leftTo && page.html.includes('name="decision"')) {
    page = await browser.submit(page, { decision: options.consent === false ? 'deny' : 'allow' });
  }
  return page;
}

/** The query (or form_post) parameters the relying party received. */
export function callbackParams(leftTo: string | undefined): URLSearchParams {
  if (!leftTo) throw new Error('the browser did not return to the application');
  return new URL(leftTo).searchParams;
}

export interface ClientAuth {
  clientId: string;
  clientSecret?: string | undefined;
}

/** A raw POST to a pool endpoint (token, introspection, revocation …), client_secret_basic when a secret is given. */
export async function postForm(url: string, form: Record<string, string>, auth?: ClientAuth, headers: Record<string, string> = {}) {
  const body = new URLSearchParams(form);
  const authHeaders: Record<string, string> = {};
  if (auth?.clientSecret) {
    authHeaders.authorization = `Basic ${Buffer.from(`${encodeURIComponent(auth.clientId)}:${encodeURIComponent(auth.clientSecret)}`).toString('base64')}`;
  } else if (auth) {
    body.set('client_id', auth.clientId);
  }
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...authHeaders, ...headers },
    body,
  });
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, body: json, text, headers: response.headers };
}

/** A PKCE pair (RFC 7636 §4.1, §4.2). */
export async function pkce() {
  const verifier = oidc.randomPKCECodeVerifier();
  return { verifier, challenge: await oidc.calculatePKCECodeChallenge(verifier) };
}

/** Standard code-flow parameters for an app, with PKCE S256; override as needed. */
export async function codeRequest(clientId: string, overrides: Record<string, string> = {}) {
  const { verifier, challenge } = await pkce();
  const params: Record<string, string> = {
    client_id: clientId,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile email',
    state: oidc.randomState(),
    nonce: oidc.randomNonce(),
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...overrides,
  };
  return { params, verifier };
}

/**
 * Runs `run` with the process clock moved forward: oidc-provider (in this process) then
 * sees codes, sessions and tokens as that much older, without the test sleeping.
 */
export async function withClockAdvanced<T>(seconds: number, run: () => Promise<T>): Promise<T> {
  const realNow = Date.now;
  Date.now = () => realNow() + seconds * 1000;
  try {
    return await run();
  } finally {
    Date.now = realNow;
  }
}
