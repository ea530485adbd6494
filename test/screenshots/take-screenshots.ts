/**
 * One-off: the README's screenshots of a branded login page, light and dark, at phone width.
 * Starts a Tarn of its own (DATABASE_URL, or PGlite without it) and Chromium:
 *   node --import tsx test/screenshots/take-screenshots.ts
 * Writes docs/screenshots/login-{default,light,dark}.png.
 */
import * as oidc from 'openid-client';
import { launchChromium, newContext } from '../support/chromium.js';
import { createClient, createPool, REDIRECT_URI } from '../support/fixtures.js';
import { discover } from '../support/relying-party.js';
import { startTarn } from '../support/tarn.js';

const out = new URL('../../docs/screenshots/', import.meta.url).pathname;
const LOGO = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40" width="40" height="40"><rect width="40" height="40" rx="9" fill="#0b5cad"/><path d="M8 29 L20 9 L32 29 Z" fill="#ffffff"/></svg>`;

const tarn = await startTarn();
const chromium = await launchChromium();
try {
  const variants = {
    default: undefined,
    light: { scheme: 'light', primaryColor: '#0b5cad', backgroundColor: '#fffdf7', textColor: '#1d232b' },
    dark: { scheme: 'dark', primaryColor: '#1f5fd6', backgroundColor: '#10151c', textColor: '#e8edf4' },
  } as const;
  for (const [name, colours] of Object.entries(variants)) {
    const pool = await createPool(tarn, { name: 'Harbour Co', selfRegistration: true });
    if (colours) {
      await tarn.admin('PATCH', `/pools/${pool.id}`, {
        branding: {
          ...colours,
          title: { en: 'Harbour' },
          signInSubtitle: { en: 'Your crew account for every Harbour app' },
          footer: { en: 'Harbour Co · Pier 4' },
        },
      });
      await tarn.admin('PUT', `/pools/${pool.id}/branding/logo`, { mediaType: 'image/svg+xml', data: Buffer.from(LOGO).toString('base64') });
    }
    const app = await createClient(tarn, pool.id, { name: 'Harbour Desk' });
    const config = await discover(pool.issuer, app.clientId, app.secret?.value);
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid email',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const { context } = await newContext(chromium, REDIRECT_URI);
    const page = await context.newPage();
    await page.setViewportSize({ width: 390, height: 720 });
    await page.goto(url.href);
    await page.screenshot({ path: `${out}login-${name}.png` });
    await context.close();
    console.log(`${out}login-${name}.png`);
  }
} finally {
  await chromium.close();
  await tarn.close();
}
