/**
 * The console in a real Chromium (ADR 1000): first run, signing in through the admin pool,
 * pools, applications, users, the audit view, roles, CSRF and the end of a console session.
 * axe-core checks every console page the tests open.
 */
import type { Browser as Chromium, BrowserContext } from 'playwright-core';
import { launchChromium } from '../support/chromium.js';
import { accessible, signInToConsole as signInAt } from '../support/console.js';
import { REDIRECT_URI, uniqueId } from '../support/fixtures.js';
import { discover, signIn } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
let chromium: Chromium;
const owner = { email: 'olivia@example.test', password: 'correct horse battery 1' };
beforeAll(async () => {
  tarn = await startTarn();
  chromium = await launchChromium();
});
afterAll(async () => {
  await chromium?.close();
  await tarn?.close();
});

const signInToConsole = (context: BrowserContext, who: { email: string; password: string }) => signInAt(tarn.url, context, who);

/** The console's access token, as the browser holds it (its own session cookie). */
async function consoleToken(context: BrowserContext): Promise<string> {
  const cookie = (await context.cookies()).find((item) => item.name === 'tarn_console');
  return (JSON.parse(Buffer.from(cookie!.value, 'base64url').toString('utf8')) as { accessToken: string }).accessToken;
}

async function api(token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${tarn.url}/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

let poolA: string;

it('first run: the setup link makes the first owner, who creates a pool, an application and a user; the sign-in shows in the audit view', async () => {
  // Nobody can become owner without the link.
  const noLink = await fetch(`${tarn.url}/console/setup?token=guessed`);
  expect(noLink.status).toBe(410);
  const link = await tarn.tarn.console.prepareFirstRun();
  expect(link).toMatch(/\/console\/setup\?token=/);

  const context = await chromium.newContext();
  const page = await context.newPage();
  await page.goto(link!);
  expect(await page.locator('h1').textContent()).toBe('Set up Tarn');
  await accessible(page);
  await page.fill('#email', owner.email);
  await page.fill('#password', owner.password);
  await page.fill('#confirm', owner.password);
  await page.click('button[type=submit]');
  // Straight on to the admin pool's own hosted login.
  expect(await page.locator('h1').textContent()).toBe('Sign in');
  await accessible(page);
  await page.fill('input[name=email]', owner.email);
  await page.fill('input[name=password]', owner.password);
  await page.click('button[type=submit]');
  await page.waitForURL(`${tarn.url}/console`);
  expect(await page.locator('h1').textContent()).toBe('Pools');
  expect(await page.locator('.who').textContent()).toContain(owner.email);
  await accessible(page);

  // The link worked once; no second owner through it, nor through a new one.
  expect((await fetch(link!)).status).toBe(410);
  expect(await tarn.tarn.console.prepareFirstRun()).toBeUndefined();

  poolA = uniqueId('acme');
  await page.fill('#pool-name', 'Acme');
  await page.fill('#pool-id', poolA);
  await page.click('text=Create pool');
  await page.waitForURL(`${tarn.url}/console/pools/${poolA}`);
  expect(await page.locator('h1').textContent()).toContain('Acme');
  await accessible(page);

  // A mistake is shown with the field named, in words.
  await page.fill('#app-name', 'Shop');
  await page.fill('#app-redirects', 'not a url');
  await page.click('text=Register application');
  expect(await page.locator('[role=alert]').textContent()).toContain('Redirect URIs');
  await accessible(page);
  await page.fill('#app-name', 'Shop');
  await page.fill('#app-redirects', REDIRECT_URI);
  await page.click('text=Register application');
  const clientId = (await page.locator('#new-client-id').textContent())!;
  const clientSecret = (await page.locator('#new-client-secret').textContent())!;
  expect(clientSecret).toMatch(/^tcs/);
  const issuer = (await page.locator('#issuer').textContent())!;
  expect(issuer).toBe(`${tarn.url}/pools/${poolA}`);
  await accessible(page);

  await page.goto(`${tarn.url}/console/pools/${poolA}/users`);
  await accessible(page);
  await page.fill('#user-email', 'carol@example.test');
  await page.fill('#user-password', 'blue kite morning 4');
  await page.click('text=Create user');
  expect(await page.locator('[role=status]').textContent()).toContain('carol@example.test');
  await accessible(page);

  // Carol signs in at the pool's relying party, with the secret the console showed once.
  const config = await discover(issuer, clientId, clientSecret);
  const result = await signIn(config, tarn.url, { email: 'carol@example.test', password: 'blue kite morning 4' });
  expect(result.tokens.claims()?.email).toBe('carol@example.test');
  // And one failed attempt.
  await signIn(config, tarn.url, { email: 'carol@example.test', password: 'wrong' }).catch(() => undefined);

  await page.goto(`${tarn.url}/console/pools/${poolA}/users?q=carol`);
  expect(await page.locator('#user-count').textContent()).toContain('1 user');

  await page.goto(`${tarn.url}/console/pools/${poolA}/audit`);
  expect(await page.locator('#chart-summary').textContent()).toBe('1 successful sign-in, 1 failure.');
  const today = new Date().toISOString().slice(0, 10);
  expect(await page.locator(`rect.ok[data-day="${today}"]`).getAttribute('data-success')).toBe('1');
  const rows = await page.locator('#events tbody tr').allTextContents();
  expect(rows.some((row) => row.includes('sign_in.success'))).toBe(true);
  // The user the console created is on record as created by the owner, by name.
  expect(rows.some((row) => row.includes('user.created') && row.includes(`administrator ${owner.email}`))).toBe(true);
  await accessible(page);
  await page.goto(`${tarn.url}/console/pools/${poolA}/audit?outcome=failure`);
  const failures = await page.locator('#events tbody tr').allTextContents();
  expect(failures.length).toBeGreaterThan(0);
  expect(failures.every((row) => row.includes('failure'))).toBe(true);

  // Carol's page: her groups (direct and inherited), her failed attempt, which the owner clears.
  const parent = await tarn.admin('POST', `/pools/${poolA}/groups`, { name: 'Staff' });
  const child = await tarn.admin('POST', `/pools/${poolA}/groups`, { name: 'Support', parentId: parent.body.id });
  const carol = (await tarn.admin('GET', `/pools/${poolA}/users?email=carol@example.test`)).body.items[0];
  expect((await tarn.admin('PUT', `/pools/${poolA}/groups/${child.body.id}/members/${carol.id}`)).status).toBeLessThan(300);
  await page.goto(`${tarn.url}/console/pools/${poolA}/users`);
  await page.click('text=carol@example.test');
  expect(await page.locator('h1').textContent()).toBe('carol@example.test');
  expect(await page.locator('section[aria-labelledby=groups]').textContent()).toMatch(
    /Support\s*\(direct\)[\s\S]*Staff\s*\(inherited\)|Staff\s*\(inherited\)[\s\S]*Support\s*\(direct\)/,
  );
  await accessible(page);
  await page.click('text=Clear lockout');
  expect(await page.locator('[role=status]').textContent()).toContain('Lockout cleared');
  expect((await tarn.admin('GET', `/pools/${poolA}/users/${carol.id}/lockout`)).body.failures).toBe(0);

  // Disabled from the list, Carol cannot sign in; enabled again, she can.
  await page.goto(`${tarn.url}/console/pools/${poolA}/users`);
  await page.click('button[aria-label="Disable carol@example.test"]');
  expect(await page.locator('[role=status]').textContent()).toContain('User disabled');
  await expect(signIn(config, tarn.url, { email: 'carol@example.test', password: 'blue kite morning 4' })).rejects.toThrow();
  await page.click('button[aria-label="Enable carol@example.test"]');
  expect(await page.locator('[role=status]').textContent()).toContain('User enabled');
  expect((await signIn(config, tarn.url, { email: 'carol@example.test', password: 'blue kite morning 4' })).tokens.access_token).toBeTruthy();

  // The group tree: a group inside another, created and deleted from the console.
  await page.click('nav >> text=Groups');
  expect(await page.locator('#group-tree').textContent()).toMatch(/Staff[\s\S]*Support/);
  await accessible(page);
  await page.fill('#group-name', 'Managers');
  await page.selectOption('#group-parent', { label: 'Staff' });
  await page.click('text=Create group');
  expect(await page.locator('[role=status]').textContent()).toContain('Group created');
  const managers = (await tarn.admin('GET', `/pools/${poolA}/groups?name=Managers`)).body.items[0];
  expect(managers.parentId).toBe(parent.body.id);
  page.once('dialog', (dialog) => void dialog.accept());
  await page.click('button[aria-label="Delete group Managers"]');
  expect(await page.locator('[role=status]').textContent()).toContain('Group deleted');
  expect((await tarn.admin('GET', `/pools/${poolA}/groups?name=Managers`)).body.items).toEqual([]);

  // A new application secret, shown once; the old one stops working.
  await page.goto(`${tarn.url}/console/pools/${poolA}`);
  page.once('dialog', (dialog) => void dialog.accept());
  await page.click('button[aria-label="Rotate secret of Shop"]');
  const rotated = (await page.locator('#new-client-secret').textContent())!;
  expect(rotated).not.toBe(clientSecret);
  await accessible(page);
  await expect(signIn(config, tarn.url, { email: 'carol@example.test', password: 'blue kite morning 4' })).rejects.toThrow();
  const fresh = await discover(issuer, clientId, rotated);
  expect((await signIn(fresh, tarn.url, { email: 'carol@example.test', password: 'blue kite morning 4' })).tokens.access_token).toBeTruthy();

  // The owner invites an administrator by email, with a role on one pool.
  await page.click('text=Administrators');
  expect(await page.locator('h1').textContent()).toBe('Administrators');
  await accessible(page);
  await page.fill('#admin-email', 'newcomer@example.test');
  await page.selectOption('#admin-role', 'viewer');
  await page.selectOption('#admin-pool', poolA);
  await page.click('text=Send invitation');
  expect(await page.locator('[role=status]').textContent()).toContain('newcomer@example.test');
  expect(await page.locator('#administrators').textContent()).toContain(`viewer of ${poolA}`);
  await accessible(page);
  await context.close();
}, 180_000);

it('an owner changes settings, rotates keys and the API secret behind a confirmation, and deletes a pool after typing its id', async () => {
  const spare = uniqueId('spare');
  const created = await tarn.admin('POST', '/pools', { id: spare, name: 'Spare' });
  const context = await chromium.newContext();
  const page = await signInToConsole(context, owner);
  await page.goto(`${tarn.url}/console/pools/${spare}`);
  await page.fill('#set-name', 'Spare parts');
  await page.check('input[name=selfRegistration]');
  await page.click('text=Save settings');
  expect(await page.locator('[role=status]').textContent()).toContain('Settings saved');
  expect((await tarn.admin('GET', `/pools/${spare}`)).body).toMatchObject({ name: 'Spare parts', selfRegistration: true });

  const keysBefore = (await tarn.admin('GET', `/pools/${spare}/keys`)).body.items.filter((key: { status: string }) => key.status === 'current');
  page.once('dialog', (dialog) => void dialog.accept());
  await page.click('text=Rotate keys');
  expect(await page.locator('[role=status]').textContent()).toContain('Signing keys rotated');
  const keysAfter = (await tarn.admin('GET', `/pools/${spare}/keys`)).body.items.filter((key: { status: string }) => key.status === 'current');
  expect(keysAfter.map((key: { kid: string }) => key.kid)).not.toEqual(keysBefore.map((key: { kid: string }) => key.kid));

  const basic = (secret: string) => ({ authorization: `Basic ${Buffer.from(`${spare}:${secret}`).toString('base64')}` });
  await page.click('text=Rotate and revoke the current secret');
  await page.fill('#confirm-secret', 'not the id');
  await page.click('form[action$="/secret/rotate"] button');
  expect(await page.locator('[role=alert]').textContent()).toContain('Confirmation');
  expect((await fetch(`${tarn.url}/admin/pools/${spare}`, { headers: basic(created.body.secret.value) })).status).toBe(200);
  // The refused confirmation stays open, the problem next to the field.
  expect(await page.locator('#confirm-secret').getAttribute('aria-invalid')).toBe('true');
  expect(await page.locator('#confirm-secret-error').textContent()).toBe('Must be the pool id.');
  await page.fill('#confirm-secret', spare);
  await page.click('form[action$="/secret/rotate"] button');
  const newNext = (await page.locator('#new-next-secret').textContent())!;
  await accessible(page);
  expect((await fetch(`${tarn.url}/admin/pools/${spare}`, { headers: basic(created.body.secret.value) })).status).toBe(401);
  expect((await fetch(`${tarn.url}/admin/pools/${spare}`, { headers: basic(created.body.nextSecret.value) })).status).toBe(200);
  expect((await fetch(`${tarn.url}/admin/pools/${spare}`, { headers: basic(newNext) })).status).toBe(200);

  await page.fill('#confirm-delete', 'spare');
  await page.click('text=Delete pool');
  expect(await page.locator('[role=alert]').textContent()).toContain('Type the pool id');
  expect((await tarn.admin('GET', `/pools/${spare}`)).status).toBe(200);
  await page.fill('#confirm-delete', spare);
  await page.click('text=Delete pool');
  await page.waitForURL(`${tarn.url}/console`);
  expect((await tarn.admin('GET', `/pools/${spare}`)).status).toBe(404);
  await context.close();
}, 180_000);

describe('roles', () => {
  const poolAdmin = { email: 'pat@example.test', password: 'silver tree lantern 2' };
  const viewer = { email: 'vic@example.test', password: 'quiet river stone 3' };
  let poolB: string;
  let poolAdminId: string;

  beforeAll(async () => {
    poolB = uniqueId('other');
    expect((await tarn.admin('POST', '/pools', { id: poolB, name: 'Other' })).status).toBe(201);
    const created = await tarn.admin('POST', '/pools/tarn-admin/administrators', { mode: 'password', ...poolAdmin, roles: [{ role: 'admin', pool: poolA }] });
    expect(created.status).toBe(201);
    poolAdminId = created.body.id;
    expect(
      (await tarn.admin('POST', '/pools/tarn-admin/administrators', { mode: 'password', ...viewer, roles: [{ role: 'viewer', pool: poolA }] })).status,
    ).toBe(201);
  });

  it("a pool admin sees and reaches only their pool, in the console and through the API with the console's token", async () => {
    const context = await chromium.newContext();
    const page = await signInToConsole(context, poolAdmin);
    const names = await page.locator('tbody tr').allTextContents();
    expect(names.join(' ')).toContain(poolA);
    expect(names.join(' ')).not.toContain(poolB);
    expect(await page.locator('#pool-name').count()).toBe(0); // no "create a pool" for them
    await accessible(page);
    const other = await page.goto(`${tarn.url}/console/pools/${poolB}`);
    expect(other?.status()).toBe(404);
    expect(await page.content()).not.toContain('Other');
    await accessible(page);

    const token = await consoleToken(context);
    expect((await api(token, 'GET', `/pools/${poolA}/users`)).status).toBe(200);
    expect((await api(token, 'GET', `/pools/${poolB}`)).status).toBe(404);
    expect((await api(token, 'GET', `/pools/${poolB}/users`)).status).toBe(404);
    expect((await api(token, 'GET', '/pools/tarn-admin/users')).status).toBe(404);
    expect((await api(token, 'GET', '/pools')).body.items.map((pool: { id: string }) => pool.id)).toEqual([poolA]);
    expect((await api(token, 'POST', '/pools', { name: 'Mine' })).status).toBe(403);
    expect((await api(token, 'DELETE', `/pools/${poolA}`)).status).toBe(403);
    // Their writes are on record with their name.
    const write = await api(token, 'POST', `/pools/${poolA}/users`, { mode: 'password', email: 'dan@example.test', password: 'green field 12345' });
    expect(write.status).toBe(201);
    const trail = await tarn.admin('GET', `/pools/${poolA}/audit?action=users.create&actor=administrator:${poolAdminId}`);
    expect(trail.body.items[0].details.administrator).toBe(poolAdmin.email);
    await context.close();
  });

  it('a viewer cannot change anything', async () => {
    const context = await chromium.newContext();
    const page = await signInToConsole(context, viewer);
    await page.goto(`${tarn.url}/console/pools/${poolA}`);
    expect(await page.locator('#app-name').count()).toBe(0);
    expect(await page.locator('text=Rotate keys').count()).toBe(0);
    await accessible(page);
    await page.goto(`${tarn.url}/console/pools/${poolA}/users`);
    expect(await page.locator('#user-email').count()).toBe(0);
    await accessible(page);
    // A form posted anyway (with a valid CSRF token) is refused by the API's role check.
    const csrf = await page.locator('.signout input[name=csrf]').getAttribute('value');
    const forced = await page.request.post(`${tarn.url}/console/pools/${poolA}/users`, {
      form: { csrf: csrf!, mode: 'password', email: 'eve@example.test', password: 'winter lake 12345' },
    });
    expect(forced.status()).toBe(403);
    const token = await consoleToken(context);
    expect((await api(token, 'GET', `/pools/${poolA}/users`)).status).toBe(200);
    expect((await api(token, 'POST', `/pools/${poolA}/keys/rotate`, {})).status).toBe(403);
    expect((await api(token, 'PATCH', `/pools/${poolA}`, { name: 'Renamed' })).status).toBe(403);
    expect((await tarn.admin('GET', `/pools/${poolA}/users?email=eve@example.test`)).body.items).toEqual([]);
    await context.close();
  });

  it('forms refuse a missing or wrong CSRF token', async () => {
    const context = await chromium.newContext();
    const page = await signInToConsole(context, poolAdmin);
    for (const form of [
      { email: 'mallory@example.test', mode: 'invite' },
      { csrf: 'forged', email: 'mallory@example.test', mode: 'invite' },
    ] as Record<string, string>[]) {
      const response = await page.request.post(`${tarn.url}/console/pools/${poolA}/users`, { form });
      expect(response.status()).toBe(403);
      expect(await response.text()).toContain('Form expired');
    }
    expect((await tarn.admin('GET', `/pools/${poolA}/users?email=mallory@example.test`)).body.items).toEqual([]);
    await context.close();
  });

  it('the console session ends when the administrator signs out, and when they are disabled', async () => {
    const context = await chromium.newContext();
    const page = await signInToConsole(context, poolAdmin);
    await page.click('text=Sign out');
    // The admin pool asks, as it asks any relying party's user.
    expect(await page.locator('h1').textContent()).toBe('Sign out?');
    await page.click('text=Yes, sign me out');
    await page.waitForURL(`${tarn.url}/console/signed-out`);
    await accessible(page);
    await page.goto(`${tarn.url}/console/pools/${poolA}`);
    expect(await page.locator('h1').textContent()).toBe('Sign in');
    await context.close();

    const second = await chromium.newContext();
    const again = await signInToConsole(second, poolAdmin);
    const token = await consoleToken(second);
    expect((await tarn.admin('PATCH', `/pools/tarn-admin/users/${poolAdminId}`, { status: 'disabled' })).status).toBe(200);
    await again.goto(`${tarn.url}/console/pools/${poolA}`);
    expect(await again.locator('h1').textContent()).toBe('Sign in');
    expect((await api(token, 'GET', `/pools/${poolA}/users`)).status).toBe(401);
    await second.close();
  });
});
