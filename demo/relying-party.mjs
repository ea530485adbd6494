/**
 * `npm run demo`: a tiny relying party for a first look at Tarn's hosted pages. It listens
 * on the port the README's quick start registers (http://localhost:8080/callback), shows a
 * "Sign in" button, the ID token's claims after sign-in, and a "Sign out" button
 * (RP-initiated logout). Plain node:http and openid-client; no build step.
 *
 * Settings (environment):
 *   TARN_URL            where Tarn runs (default http://localhost:3000)
 *   DEMO_POOL           the pool (default acme)
 *   DEMO_PORT           this server's port (default 8080)
 *   DEMO_CLIENT_ID / DEMO_CLIENT_SECRET   an application you registered; without them, the
 *                       demo registers a public application "tarn-demo" itself, with the admin
 *                       token (TARN_ADMIN_TOKEN, or DATA_DIR/admin.token as `npm start` keeps it),
 *                       and creates the pool and a user ada@example.com when the pool is missing.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, resolve } from 'node:path';
import * as oidc from 'openid-client';

const tarnUrl = (process.env.TARN_URL ?? 'http://localhost:3000').replace(/\/$/, '');
const poolId = process.env.DEMO_POOL ?? 'acme';
const port = Number(process.env.DEMO_PORT ?? 8080);
const base = `http://localhost:${port}`;
const redirectUri = `${base}/callback`;
const issuer = `${tarnUrl}/pools/${poolId}`;

function adminToken() {
  if (process.env.TARN_ADMIN_TOKEN) return process.env.TARN_ADMIN_TOKEN;
  const file = join(resolve(process.env.DATA_DIR ?? 'data'), 'admin.token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  throw new Error(`no DEMO_CLIENT_ID, and no admin token to register one (TARN_ADMIN_TOKEN or ${file}); start Tarn with npm start first`);
}

async function admin(method, path, body) {
  const response = await fetch(`${tarnUrl}/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken()}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** The demo's own application (public, PKCE), registered once; the pool and a user too when missing. */
async function ensureDemoClient() {
  if ((await admin('GET', `/pools/${poolId}`)).status === 404) {
    const pool = await admin('POST', '/pools', { id: poolId, name: 'Acme' });
    if (pool.status !== 201) throw new Error(`could not create pool ${poolId}: ${JSON.stringify(pool.body)}`);
    await admin('POST', `/pools/${poolId}/users`, { email: 'ada@example.com', mode: 'password', password: 'correct horse battery' });
    console.log(`Created pool "${poolId}" and the user ada@example.com (password: correct horse battery).`);
  }
  const clientId = 'tarn-demo';
  const fields = { name: 'Tarn demo', redirectUris: [redirectUri], postLogoutRedirectUris: [`${base}/`], tokenEndpointAuthMethod: 'none' };
  const existing = await admin('GET', `/pools/${poolId}/clients/${clientId}`);
  const saved =
    existing.status === 200
      ? await admin('PATCH', `/pools/${poolId}/clients/${clientId}`, fields)
      : await admin('POST', `/pools/${poolId}/clients`, { clientId, ...fields });
  if (saved.status >= 300) throw new Error(`could not register the demo application: ${JSON.stringify(saved.body)}`);
  return { clientId, clientSecret: undefined };
}

const registered = process.env.DEMO_CLIENT_ID
  ? { clientId: process.env.DEMO_CLIENT_ID, clientSecret: process.env.DEMO_CLIENT_SECRET }
  : await ensureDemoClient();
const config = await oidc.discovery(new URL(issuer), registered.clientId, registered.clientSecret, registered.clientSecret ? undefined : oidc.None(), {
  execute: [oidc.allowInsecureRequests],
});

/** Browser sessions of this demo, in memory: id → { pending checks } or { tokens }. */
const sessions = new Map();

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function page(body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tarn demo</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:640px;margin:40px auto;padding:0 16px;color:#1c2430}
a.button,button{display:inline-block;background:#1f5fd6;color:#fff;padding:10px 16px;border-radius:8px;border:0;font:inherit;text-decoration:none;cursor:pointer}
pre{background:#f4f6f9;padding:12px;border-radius:8px;overflow:auto}</style></head><body><main><h1>Tarn demo</h1>${body}</main></body></html>`;
}

function sessionOf(request, response) {
  const id = /(?:^|;\s*)demo_session=([\w-]+)/.exec(request.headers.cookie ?? '')?.[1];
  if (id && sessions.has(id)) return sessions.get(id);
  const fresh = randomBytes(16).toString('base64url');
  const session = {};
  sessions.set(fresh, session);
  response.setHeader('Set-Cookie', `demo_session=${fresh}; Path=/; HttpOnly; SameSite=Lax`);
  return session;
}

function send(response, status, html) {
  response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  response.end(html);
}

const server = createServer(async (request, response) => {
  try {
    const url = new URL(request.url ?? '/', base);
    const session = sessionOf(request, response);
    if (url.pathname === '/') {
      if (session.tokens) {
        const claims = session.tokens.claims();
        return send(
          response,
          200,
          page(`<p>Signed in to <strong>${escape(poolId)}</strong> as <strong>${escape(claims.email ?? claims.sub)}</strong>. The ID token says:</p>
<pre id="claims">${escape(JSON.stringify(claims, null, 2))}</pre><p><a class="button" href="/logout">Sign out</a></p>`),
        );
      }
      return send(
        response,
        200,
        page(`<p>A relying party of the pool <strong>${escape(issuer)}</strong>.</p><p><a class="button" href="/login">Sign in</a></p>`),
      );
    }
    if (url.pathname === '/login') {
      session.verifier = oidc.randomPKCECodeVerifier();
      session.state = oidc.randomState();
      session.nonce = oidc.randomNonce();
      const target = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid profile email',
        code_challenge: await oidc.calculatePKCECodeChallenge(session.verifier),
        code_challenge_method: 'S256',
        state: session.state,
        nonce: session.nonce,
      });
      response.writeHead(303, { location: target.href });
      return response.end();
    }
    if (url.pathname === '/callback') {
      session.tokens = await oidc.authorizationCodeGrant(config, url, {
        pkceCodeVerifier: session.verifier,
        expectedState: session.state,
        expectedNonce: session.nonce,
      });
      response.writeHead(303, { location: '/' });
      return response.end();
    }
    if (url.pathname === '/logout') {
      const idToken = session.tokens?.id_token;
      delete session.tokens;
      const target = oidc.buildEndSessionUrl(config, { post_logout_redirect_uri: `${base}/`, ...(idToken ? { id_token_hint: idToken } : {}) });
      response.writeHead(303, { location: target.href });
      return response.end();
    }
    send(response, 404, page('<p>Not found.</p>'));
  } catch (error) {
    send(
      response,
      500,
      page(`<p>Something went wrong: ${escape(error instanceof Error ? error.message : String(error))}</p><p><a href="/">Start again</a></p>`),
    );
  }
});

server.listen(port, () => console.log(`Tarn demo relying party: open ${base}/ (issuer ${issuer}, client ${registered.clientId})`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
