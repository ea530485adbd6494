/**
 * The first five minutes: `npm run demo` starts a relying party that registers itself with
 * the admin token, and a person signs in through it in Chromium, sees the ID token's
 * claims, and signs out again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { seriousViolations } from '../support/axe.js';
import { launchChromium } from '../support/chromium.js';
import { uniqueId } from '../support/fixtures.js';
import { freePort, waitFor } from '../support/tarn-process.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

const root = new URL('../../', import.meta.url).pathname;

let tarn: RunningTarn;
let chromium: Browser;
let demo: ChildProcess | undefined;
beforeAll(async () => {
  tarn = await startTarn();
  chromium = await launchChromium();
});
afterAll(async () => {
  demo?.kill('SIGTERM');
  await chromium?.close();
  await tarn?.close();
});

it('npm run demo: sign in, see the claims, sign out', async () => {
  const poolId = uniqueId('demo');
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, TARN_URL: tarn.url, TARN_ADMIN_TOKEN: tarn.adminToken, DEMO_POOL: poolId, DEMO_PORT: String(port) };
  delete env.NODE_OPTIONS;
  demo = spawn('npm', ['run', 'demo', '--silent'], { cwd: root, env });
  let out = '';
  demo.stdout!.on('data', (chunk) => (out += chunk));
  demo.stderr!.on('data', (chunk) => (out += chunk));
  await waitFor(() => out.includes('Tarn demo relying party: open'), `the demo to listen (${out})`);
  // The pool was missing: the demo created it with a user, and registered itself.
  expect(out).toContain('ada@example.com');
  expect((await tarn.admin('GET', `/pools/${poolId}/clients/tarn-demo`)).body.redirectUris).toEqual([`http://localhost:${port}/callback`]);

  const context = await chromium.newContext();
  const page = await context.newPage();
  await page.goto(`http://localhost:${port}/`);
  await page.click('text=Sign in');
  await page.waitForURL(`${tarn.url}/pools/${poolId}/interaction/**`);
  expect(await page.locator('h1').textContent()).toBe('Sign in');
  expect(await seriousViolations(page)).toEqual([]);
  await page.fill('input[name=email]', 'ada@example.com');
  await page.fill('input[name=password]', 'correct horse battery');
  await page.click('button[type=submit]');
  expect(await page.locator('h1').textContent()).toBe('Allow access');
  await page.click('button[value=allow]');
  await page.waitForURL(`http://localhost:${port}/`);
  const claims = JSON.parse((await page.locator('#claims').textContent())!) as Record<string, unknown>;
  expect(claims).toMatchObject({ iss: `${tarn.url}/pools/${poolId}`, aud: 'tarn-demo', email: 'ada@example.com' });

  await page.click('text=Sign out');
  // Tarn asks whether to sign out (RP-initiated logout), then returns to the demo.
  await page.waitForURL(`${tarn.url}/pools/${poolId}/**`);
  expect(await seriousViolations(page)).toEqual([]);
  await page.locator('button[type=submit]').first().click();
  await page.waitForURL(`http://localhost:${port}/`);
  expect(await page.locator('a', { hasText: 'Sign in' }).count()).toBe(1);
  await context.close();
}, 120_000);
