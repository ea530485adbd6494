/**
 * A branded pool as its users see it in Chromium: the uploaded logo and favicon load on the
 * login page, the colours and texts are the pool's, the consent and registration pages link
 * its terms and privacy policy, and axe-core finds no serious violation in the light or the
 * dark scheme.
 */
import type { Browser, Page } from 'playwright-core';
import * as oidc from 'openid-client';
import { seriousViolations } from '../support/axe.js';
import { launchChromium, newContext } from '../support/chromium.js';
import { createClient, createPool, createUser, REDIRECT_URI } from '../support/fixtures.js';
import { onePixelPng } from '../support/images.js';
import { discover } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

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

const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 40" width="120" height="40"><rect width="40" height="40" rx="8" fill="#0b5cad"/><path d="M8 28 L20 10 L32 28 Z" fill="#ffffff"/><text x="48" y="27" font-family="sans-serif" font-size="18" fill="#0b5cad">Harbour</text></svg>`;

async function brandedPool(scheme: 'light' | 'dark') {
  const pool = await createPool(tarn, { name: 'Harbour Co', selfRegistration: true });
  const colours =
    scheme === 'dark'
      ? { scheme, primaryColor: '#1f5fd6', backgroundColor: '#10151c', textColor: '#e8edf4' }
      : { scheme, primaryColor: '#0b5cad', backgroundColor: '#fffdf7', textColor: '#1d232b' };
  const saved = await tarn.admin('PATCH', `/pools/${pool.id}`, {
    branding: {
      ...colours,
      title: { en: 'Harbour', de: 'Hafen' },
      signInSubtitle: { en: 'Your crew account for every Harbour app' },
      footer: { en: 'Harbour Co · Pier 4, Portsmouth' },
      termsUrl: { en: 'https://harbour.example/terms' },
      privacyUrl: { en: 'https://harbour.example/privacy' },
    },
  });
  expect(saved.status).toBe(200);
  const logo = await tarn.admin('PUT', `/pools/${pool.id}/branding/logo`, { mediaType: 'image/svg+xml', data: Buffer.from(LOGO_SVG).toString('base64') });
  const favicon = await tarn.admin('PUT', `/pools/${pool.id}/branding/favicon`, {
    mediaType: 'image/png',
    data: onePixelPng([11, 92, 173]).toString('base64'),
  });
  const app = await createClient(tarn, pool.id, { name: 'Harbour Desk' });
  const user = await createUser(tarn, pool.id);
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  return { pool, app, user, config, logoUrl: logo.body.logo.url as string, faviconUrl: favicon.body.favicon.url as string };
}

async function openLogin(config: oidc.Configuration, page: Page) {
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid email profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
  });
  await page.goto(url.href);
}

for (const scheme of ['light', 'dark'] as const) {
  it(`the login, consent and registration pages carry the uploaded logo, colours and texts (${scheme})`, async () => {
    const { user, config, logoUrl, faviconUrl } = await brandedPool(scheme);
    const { context } = await newContext(chromium, REDIRECT_URI);
    const page = await context.newPage();
    const images: { url: string; status: number; cacheControl: string | undefined }[] = [];
    page.on('response', (response) => {
      if (response.url().includes('/brand/'))
        images.push({ url: response.url(), status: response.status(), cacheControl: response.headers()['cache-control'] });
    });
    await openLogin(config, page);

    // The logo is loaded and drawn (an image that failed to load has no natural size).
    const logo = page.locator('img.logo');
    await logo.waitFor();
    expect(await logo.getAttribute('alt')).toBe('Harbour logo');
    expect(new URL((await logo.getAttribute('src'))!, tarn.url).href).toBe(logoUrl);
    expect(await logo.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(120);
    const logoResponse = images.find((image) => image.url === logoUrl);
    expect(logoResponse).toMatchObject({ status: 200, cacheControl: 'public, max-age=31536000, immutable' });
    expect(new URL((await page.locator('link[rel=icon]').getAttribute('href'))!, tarn.url).href).toBe(faviconUrl);

    expect(await page.locator('.pool-name').textContent()).toBe('Harbour');
    expect(await page.title()).toBe('Sign in · Harbour');
    expect(await page.locator('.subtitle').textContent()).toBe('Your crew account for every Harbour app');
    expect(await page.locator('.brand-footer').textContent()).toBe('Harbour Co · Pier 4, Portsmouth');
    const colours = await page.evaluate(() => {
      const body = getComputedStyle(document.body);
      const button = getComputedStyle(document.querySelector('button[type=submit]')!);
      return { text: body.color, background: body.backgroundColor, button: button.backgroundColor };
    });
    expect(colours).toEqual(
      scheme === 'dark'
        ? { text: 'rgb(232, 237, 244)', background: 'rgb(16, 21, 28)', button: 'rgb(31, 95, 214)' }
        : { text: 'rgb(29, 35, 43)', background: 'rgb(255, 253, 247)', button: 'rgb(11, 92, 173)' },
    );
    expect(await seriousViolations(page)).toEqual([]);

    // Registration links the terms and privacy policy.
    await page.click('text=Create an account');
    expect(await page.locator('.legal a').evaluateAll((links) => links.map((link) => (link as HTMLAnchorElement).href))).toEqual([
      'https://harbour.example/terms',
      'https://harbour.example/privacy',
    ]);
    expect(await seriousViolations(page)).toEqual([]);
    await page.goBack();

    await page.fill('input[name=email]', user.email);
    await page.fill('input[name=password]', user.password);
    await page.click('button[type=submit]');
    expect(await page.locator('h1').textContent()).toBe('Allow access');
    expect(await page.locator('.legal a').allTextContents()).toEqual(['Terms of service', 'Privacy policy']);
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });
}

it('the SVG logo opened on its own cannot run a script (its policy forbids it)', async () => {
  const pool = await createPool(tarn);
  // Even if a script slipped through, the served policy would stop it: checked here with the sanitised file.
  const uploaded = await tarn.admin('PUT', `/pools/${pool.id}/branding/logo`, {
    mediaType: 'image/svg+xml',
    data: Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" onload="document.title=\'owned\'"><script>document.title="owned"</script><rect width="5" height="5"/></svg>',
    ).toString('base64'),
  });
  const context = await chromium.newContext();
  const page = await context.newPage();
  const response = await page.goto(uploaded.body.logo.url);
  expect(response!.headers()['content-security-policy']).toBe("default-src 'none'; style-src 'unsafe-inline'");
  expect(await page.title()).not.toBe('owned');
  expect(await page.evaluate(() => document.querySelectorAll('script').length)).toBe(0);
  await context.close();
});
