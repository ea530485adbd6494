/**
 * One-off: takes the console screenshots under docs/screenshots/ (the README shows them).
 *   node --import tsx test/support/console-screenshots.ts
 * A whole Tarn in process (PGlite unless DATABASE_URL is set), a real Chromium, the same
 * steps a new owner takes: setup, sign in, a pool with users and an application, sign-ins.
 */
import { launchChromium } from './chromium.js';
import { REDIRECT_URI } from './fixtures.js';
import { discover, signIn } from './relying-party.js';
import { startTarn } from './tarn.js';

const out = new URL('../../docs/screenshots/', import.meta.url).pathname;
const tarn = await startTarn();
const chromium = await launchChromium();
try {
  const link = (await tarn.tarn.console.prepareFirstRun())!;
  const context = await chromium.newContext({ viewport: { width: 1100, height: 760 } });
  const page = await context.newPage();
  await page.goto(link);
  await page.fill('#email', 'olivia@example.com');
  await page.fill('#password', 'correct horse battery');
  await page.fill('#confirm', 'correct horse battery');
  await page.click('button[type=submit]');
  await page.fill('input[name=email]', 'olivia@example.com');
  await page.fill('input[name=password]', 'correct horse battery');
  await page.click('button[type=submit]');
  await page.waitForURL(`${tarn.url}/console`);

  const pools = [
    { id: 'acme-shop', name: 'Acme Shop', tagColor: '#1f5fd6' },
    { id: 'acme-staff', name: 'Acme Staff', tagColor: '#b42318' },
    { id: 'partners', name: 'Partner portal', tagColor: '#1a7f37' },
  ];
  for (const pool of pools) await tarn.admin('POST', '/pools', pool);
  const people = ['ada', 'grace', 'alan', 'barbara', 'edsger'];
  for (const name of people) {
    await tarn.admin('POST', '/pools/acme-shop/users', { mode: 'password', email: `${name}@example.com`, password: 'a long passphrase 1', profile: { name } });
  }
  const app = await tarn.admin('POST', '/pools/acme-shop/clients', { name: 'Shop', redirectUris: [REDIRECT_URI] });
  const config = await discover(`${tarn.url}/pools/acme-shop`, app.body.clientId, app.body.secret.value);
  for (const name of people.slice(0, 4)) await signIn(config, tarn.url, { email: `${name}@example.com`, password: 'a long passphrase 1' });
  await signIn(config, tarn.url, { email: 'ada@example.com', password: 'wrong' }).catch(() => undefined);

  await page.goto(`${tarn.url}/console`);
  await page.screenshot({ path: `${out}console-pools.png`, fullPage: true });
  await page.goto(`${tarn.url}/console/pools/acme-shop/audit`);
  await page.screenshot({ path: `${out}console-audit.png`, fullPage: true });
  await page.goto(`${tarn.url}/console/pools/acme-shop/users`);
  await page.screenshot({ path: `${out}console-users.png`, fullPage: true });
  await context.close();
} finally {
  await chromium.close();
  await tarn.close();
}
