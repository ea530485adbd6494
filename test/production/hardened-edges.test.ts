/**
 * Hardened edges (ADRs 0802, 0805): security headers and a strict CSP on hosted
 * pages; cookies HttpOnly and SameSite, Secure behind a TLS-terminating proxy only when
 * TRUST_PROXY says to believe it; body limits; failure-based rate limits on the admin API,
 * the hosted login form and the token endpoint.
 */
import { REDIRECT_URI, createClient, createPool, createUser } from '../support/fixtures.js';
import { Browser, visibleText } from '../support/browser.js';
import { discover, startAuthorization } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn.close();
});

async function authorizationUrl(target: RunningTarn) {
  const pool = await createPool(target);
  const app = await createClient(target, pool.id);
  const url = new URL(`${pool.issuer}/auth`);
  url.search = new URLSearchParams({
    client_id: app.clientId,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: REDIRECT_URI,
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
  }).toString();
  return { pool, app, url };
}

describe('hosted pages', () => {
  it('are served with a strict Content-Security-Policy and the usual security headers', async () => {
    const { url } = await authorizationUrl(tarn);
    const browser = new Browser(tarn.url);
    const page = await browser.get(url.href);
    expect(page.html).toContain('name="password"');
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("base-uri 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(page.headers.get('permissions-policy')).toContain('camera=()');
    // Plain HTTP without a trusted proxy: no HSTS.
    expect(page.headers.get('strict-transport-security')).toBeNull();
    // No inline script or style on the page itself.
    expect(page.html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
    expect(page.html).not.toMatch(/\sstyle=/i);
  });

  it('keep the document policies to pages, and the referrer policy to pages and redirects', async () => {
    const { pool, url } = await authorizationUrl(tarn);
    // A redirect (here to the login page; after sign-in, to the client with a code): no referrer leaks.
    const redirect = await fetch(url, { redirect: 'manual' });
    expect(redirect.status).toBeGreaterThanOrEqual(300);
    expect(redirect.status).toBeLessThan(400);
    expect(redirect.headers.get('referrer-policy')).toBe('no-referrer');
    // JSON: what protects a resource stays (nosniff, CORP, a request id); what only a document obeys goes.
    const discovery = await fetch(`${pool.issuer}/.well-known/openid-configuration`);
    expect(discovery.headers.get('content-type')).toMatch(/^application\/json/);
    expect(discovery.headers.get('x-content-type-options')).toBe('nosniff');
    expect(discovery.headers.get('cross-origin-resource-policy')).toBe('same-site');
    expect(discovery.headers.get('x-request-id')).toMatch(/^[\w.-]+$/);
    for (const documentOnly of ['content-security-policy', 'x-frame-options', 'cross-origin-opener-policy', 'permissions-policy', 'referrer-policy']) {
      expect([documentOnly, discovery.headers.get(documentOnly)]).toEqual([documentOnly, null]);
    }
  });

  it('set HttpOnly, SameSite cookies scoped to the pool, not Secure over plain HTTP', async () => {
    const { pool, url } = await authorizationUrl(tarn);
    const response = await fetch(url, { redirect: 'manual' });
    const cookies = response.headers.getSetCookie();
    expect(cookies.length).toBeGreaterThan(0);
    for (const cookie of cookies) {
      expect(cookie).toMatch(/;\s*httponly/i);
      expect(cookie).toMatch(/;\s*samesite=lax/i);
      expect(cookie).toContain(`path=/pools/${pool.id}`);
      expect(cookie).not.toMatch(/;\s*secure/i);
    }
  });

  it('set Secure cookies and HSTS behind a TLS proxy when TRUST_PROXY is on, and ignore the header otherwise', async () => {
    const trusting = await startTarn({ TRUST_PROXY: '1' });
    try {
      const { url } = await authorizationUrl(trusting);
      const viaProxy = await fetch(url, { redirect: 'manual', headers: { 'x-forwarded-proto': 'https' } });
      expect(viaProxy.headers.getSetCookie().every((cookie) => /;\s*secure/i.test(cookie))).toBe(true);
      expect(viaProxy.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    } finally {
      await trusting.close();
    }
    const { url } = await authorizationUrl(tarn);
    const spoofed = await fetch(url, { redirect: 'manual', headers: { 'x-forwarded-proto': 'https' } });
    expect(spoofed.headers.getSetCookie().some((cookie) => /;\s*secure/i.test(cookie))).toBe(false);
    expect(spoofed.headers.get('strict-transport-security')).toBeNull();
  });
});

describe('body limits', () => {
  it('refuses an oversized admin body with 413 and an oversized login form with a branded 413 page', async () => {
    const huge = await tarn.admin('POST', '/pools', { id: 'too-big', name: 'x'.repeat(200_000) });
    expect(huge.status).toBe(413);
    expect(huge.body.type).toMatch(/payload-too-large$/);

    const { url } = await authorizationUrl(tarn);
    const browser = new Browser(tarn.url);
    const page = await browser.get(url.href);
    const result = await browser.submit(page, { email: 'a@example.test', password: 'p'.repeat(200_000) });
    expect(result.status).toBe(413);
    expect(visibleText(result.html)).toContain('Too much data');
  });
});

describe('rate limits on failures', () => {
  let limited: RunningTarn;
  beforeAll(async () => {
    limited = await startTarn({ RATE_LIMIT_ADMIN_FAILURES: '3' });
  });
  afterAll(async () => {
    await limited.close();
  });

  it('answer 429 with Retry-After once an address has failed admin authentication too often', async () => {
    const wrong = { authorization: 'Bearer not-the-admin-token-at-all' };
    for (let i = 0; i < 3; i += 1) expect((await limited.admin('GET', '/pools', undefined, wrong)).status).toBe(401);
    const blocked = await limited.admin('GET', '/pools', undefined, wrong);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(blocked.body.type).toMatch(/too-many-requests$/);
    // The address is blocked, whatever it sends, until its window ends.
    expect((await limited.admin('GET', '/pools')).status).toBe(429);
  });

  it('show a branded "too many attempts" page after repeated failed sign-ins', async () => {
    const other = await startTarn({ RATE_LIMIT_LOGIN_FAILURES: '2' });
    try {
      const pool = await createPool(other);
      const app = await createClient(other, pool.id);
      const user = await createUser(other, pool.id);
      const config = await discover(pool.issuer, app.clientId, app.secret?.value);
      const browser = new Browser(other.url);
      const start = await startAuthorization(config, browser);
      const first = await browser.submit(start.page, { email: user.email, password: 'wrong-1' });
      const second = await browser.submit(first, { email: user.email, password: 'wrong-2' });
      expect([first.status, second.status]).toEqual([401, 401]);
      const third = await browser.submit(second, { email: user.email, password: user.password });
      expect(third.status).toBe(429);
      expect(visibleText(third.html)).toContain('Too many attempts');
      expect(third.leftTo).toBeUndefined();
    } finally {
      await other.close();
    }
  });

  it('answer 429 at the token endpoint after repeated failed client authentication', async () => {
    const other = await startTarn({ RATE_LIMIT_TOKEN_FAILURES: '2' });
    try {
      const pool = await createPool(other);
      const app = await createClient(other, pool.id, { grantTypes: ['client_credentials'], redirectUris: [] });
      const attempt = (secret: string) =>
        fetch(`${pool.issuer}/token`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: `Basic ${Buffer.from(`${app.clientId}:${secret}`).toString('base64')}`,
          },
          body: 'grant_type=client_credentials',
        });
      expect((await attempt('guess-1')).status).toBe(401);
      expect((await attempt('guess-2')).status).toBe(401);
      const blocked = await attempt(app.secret!.value);
      expect(blocked.status).toBe(429);
      expect(blocked.headers.get('retry-after')).toBeTruthy();
    } finally {
      await other.close();
    }
  });
});
