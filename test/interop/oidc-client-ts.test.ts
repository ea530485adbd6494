/**
 * oidc-client-ts (the library most single-page apps use) in a static page in Chromium,
 * against Tarn started as `npm start` starts it: a public client with PKCE, the claims of the
 * profile, a refresh-token renew, revocation, and the sign-out redirect.
 */
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/chromium.js';
import { createPool, createUser } from '../support/fixtures.js';
import { freePort, startTarnProcess, stopAllTarnProcesses, type TarnProcess } from '../support/tarn-process.js';

const library = readFileSync(new URL('../../node_modules/oidc-client-ts/dist/browser/oidc-client-ts.min.js', import.meta.url), 'utf8');

let tarn: TarnProcess;
let browser: Browser;
let spa: Server;

/** The SPA: one page that builds a UserManager from its query (?authority=&client_id=) kept in sessionStorage. */
function page(body: string): string {
  return `<!doctype html><meta charset="utf-8"><title>spa</title><script src="/oidc-client-ts.js"></script>
<script>
  const settings = JSON.parse(sessionStorage.getItem('settings') || 'null');
  window.manager = settings && new oidc.UserManager({ ...settings, redirect_uri: location.origin + '/callback.html',
    post_logout_redirect_uri: location.origin + '/logged-out.html', response_type: 'code', scope: 'openid profile email',
    automaticSilentRenew: false, userStore: new oidc.WebStorageStateStore({ store: sessionStorage }) });
</script>
<body>${body}</body>`;
}

beforeAll(async () => {
  tarn = await startTarnProcess();
  browser = await launchChromium();
  const port = await freePort();
  spa = createServer((req, res) => {
    const path = new URL(req.url!, 'http://spa').pathname;
    if (path === '/oidc-client-ts.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(library);
    const pages: Record<string, string> = {
      '/index.html': page('<p id="ready">ready</p>'),
      '/callback.html': page(`<p id="status">…</p><script>
        manager.signinRedirectCallback().then((user) => { document.getElementById('status').textContent = 'signed in as ' + user.profile.email; },
          (error) => { document.getElementById('status').textContent = 'error: ' + error.message; });</script>`),
      '/logged-out.html': page('<p id="status">signed out</p>'),
    };
    const html = pages[path];
    res.writeHead(html ? 200 : 404, { 'content-type': 'text/html' }).end(html ?? 'not found');
  });
  await new Promise<void>((resolve) => spa.listen(port, '127.0.0.1', resolve));
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => spa.close(() => resolve()));
  await stopAllTarnProcesses();
});

it('public client with PKCE: sign-in, claims, refresh renew, revocation and sign-out redirect', async () => {
  const origin = `http://127.0.0.1:${(spa.address() as { port: number }).port}`;
  const pool = await createPool(tarn);
  const client = await tarn.admin('POST', `/pools/${pool.id}/clients`, {
    name: 'SPA',
    tokenEndpointAuthMethod: 'none',
    redirectUris: [`${origin}/callback.html`],
    postLogoutRedirectUris: [`${origin}/logged-out.html`],
  });
  expect(client.status).toBe(201);
  const user = await createUser(tarn, pool.id, { emailVerified: true, profile: { name: 'Ada Lovelace' } });

  const context = await browser.newContext();
  const tab = await context.newPage();
  try {
    await tab.goto(`${origin}/index.html`);
    await tab.evaluate((settings) => sessionStorage.setItem('settings', JSON.stringify(settings)), { authority: pool.issuer, client_id: client.body.clientId });
    await tab.reload();
    const authorization = tab.waitForRequest((request) => request.url().startsWith(`${pool.issuer}/auth?`));
    // The page navigates away: start the redirect without waiting for its promise.
    await tab.evaluate(() => {
      void (window as any).manager.signinRedirect();
    });
    expect(new URL((await authorization).url()).searchParams.get('code_challenge_method')).toBe('S256');
    await tab.fill('input[name=email]', user.email);
    await tab.fill('input[name=password]', user.password);
    await tab.click('button[type=submit]');
    await tab.click('button[value=allow]');
    await tab.waitForURL(`${origin}/callback.html**`);
    await tab.waitForSelector(`text=signed in as ${user.email}`);

    const first = await tab.evaluate(() =>
      (window as any).manager.getUser().then((u: any) => ({ access: u.access_token, refresh: u.refresh_token, profile: u.profile })),
    );
    expect(first.profile).toMatchObject({ sub: user.id, email: user.email, name: 'Ada Lovelace', iss: pool.issuer });
    expect(typeof first.refresh).toBe('string');

    // Renew with the refresh token (oidc-client-ts prefers it to an iframe when it has one).
    const renewed = await tab.evaluate(() =>
      (window as any).manager.signinSilent().then((u: any) => ({ access: u.access_token, refresh: u.refresh_token, sub: u.profile.sub })),
    );
    expect(renewed.sub).toBe(user.id);
    expect(renewed.access).not.toBe(first.access);
    expect(renewed.refresh).not.toBe(first.refresh);

    // Revocation: the library insists on a JSON answer.
    const revoked = await tab.evaluate(() =>
      (window as any).manager.revokeTokens(['refresh_token']).then(
        () => 'revoked',
        (error: Error) => `error: ${error.message}`,
      ),
    );
    expect(revoked).toBe('revoked');

    await tab.evaluate(() => {
      void (window as any).manager.signoutRedirect();
    });
    await tab.click('button[value=yes]');
    await tab.waitForURL(`${origin}/logged-out.html**`);
    await tab.waitForSelector('text=signed out');
  } finally {
    await context.close();
  }
});
