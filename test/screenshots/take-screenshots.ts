/**
 * The README's screenshots of the hosted pages, at phone width (390 px) and on a laptop (1024 px).
 *
 *   node --import tsx test/screenshots/take-screenshots.ts
 *     starts a Tarn of its own (DATABASE_URL, or PGlite without it) and writes
 *     docs/screenshots/login-{default,light,dark}.png (a branded login page, light and dark) and
 *     docs/screenshots/after-{login,error}-{390,1024}.png (the login page and the page a bad
 *     redirect address leads to).
 *
 *   TARN_URL=http://localhost:3901 TARN_ADMIN_TOKEN=… node --import tsx test/screenshots/take-screenshots.ts before
 *     uses a Tarn already running (an older version, say) and writes only
 *     docs/screenshots/before-{login,error}-{390,1024}.png, through the admin API every version has.
 */
import type { Browser } from 'playwright-core';
import { launchChromium, newContext } from '../support/chromium.js';
import { createClient, createPool, REDIRECT_URI, type AdminApi } from '../support/fixtures.js';
import { startTarn } from '../support/tarn.js';

const out = new URL('../../docs/screenshots/', import.meta.url).pathname;
const LOGO = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40" width="40" height="40"><rect width="40" height="40" rx="9" fill="#0b5cad"/><path d="M8 29 L20 9 L32 29 Z" fill="#ffffff"/></svg>`;
const WIDTHS = [390, 1024] as const;

function authorizeUrl(issuer: string, clientId: string, redirectUri = REDIRECT_URI): string {
  const url = new URL(`${issuer}/auth`);
  url.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid email',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    state: 'state-1',
  }).toString();
  return url.href;
}

async function shoot(chromium: Browser, url: string, file: string, width: number): Promise<void> {
  const { context } = await newContext(chromium, REDIRECT_URI);
  const page = await context.newPage();
  await page.setViewportSize({ width, height: width < 600 ? 720 : 640 });
  await page.goto(url);
  await page.screenshot({ path: `${out}${file}` });
  await context.close();
  console.log(`${out}${file}`);
}

/** The login page and the page a redirect address the application never registered leads to. */
async function loginAndError(admin: AdminApi, chromium: Browser, name: string): Promise<void> {
  const pool = await createPool(admin, { name: 'Harbour Co' });
  const app = await createClient(admin, pool.id, { name: 'Harbour Desk' });
  for (const width of WIDTHS) {
    await shoot(chromium, authorizeUrl(pool.issuer, app.clientId), `${name}-login-${width}.png`, width);
    await shoot(chromium, authorizeUrl(pool.issuer, app.clientId, 'https://elsewhere.example/callback'), `${name}-error-${width}.png`, width);
  }
}

async function brandedLogins(admin: AdminApi, chromium: Browser): Promise<void> {
  const variants = {
    default: undefined,
    light: { scheme: 'light', primaryColor: '#0b5cad', backgroundColor: '#fffdf7', textColor: '#1d232b' },
    dark: { scheme: 'dark', primaryColor: '#1f5fd6', backgroundColor: '#10151c', textColor: '#e8edf4' },
  } as const;
  for (const [name, colours] of Object.entries(variants)) {
    const pool = await createPool(admin, { name: 'Harbour Co', selfRegistration: true });
    if (colours) {
      await admin.admin('PATCH', `/pools/${pool.id}`, {
        branding: {
          ...colours,
          title: { en: 'Harbour' },
          signInSubtitle: { en: 'Your crew account for every Harbour app' },
          footer: { en: 'Harbour Co · Pier 4' },
        },
      });
      await admin.admin('PUT', `/pools/${pool.id}/branding/logo`, { mediaType: 'image/svg+xml', data: Buffer.from(LOGO).toString('base64') });
    }
    const app = await createClient(admin, pool.id, { name: 'Harbour Desk' });
    await shoot(chromium, authorizeUrl(pool.issuer, app.clientId), `login-${name}.png`, 390);
  }
}

/** The admin API of a Tarn already running, reached with its token. */
function remoteAdmin(url: string, token: string): AdminApi {
  return {
    async admin(method, path, body) {
      const response = await fetch(`${url}/admin${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
    },
  };
}

const chromium = await launchChromium();
try {
  if (process.env.TARN_URL) {
    if (!process.env.TARN_ADMIN_TOKEN) throw new Error('TARN_URL needs TARN_ADMIN_TOKEN');
    await loginAndError(remoteAdmin(process.env.TARN_URL, process.env.TARN_ADMIN_TOKEN), chromium, process.argv[2] ?? 'before');
  } else {
    const tarn = await startTarn();
    try {
      await brandedLogins(tarn, chromium);
      await loginAndError(tarn, chromium, 'after');
    } finally {
      await tarn.close();
    }
  }
} finally {
  await chromium.close();
}
