/**
 * Users imported with a password that fails the pool's policy (or all of them, or the ones
 * a line names, or one the admin marks) choose a new password in the hosted login before the
 * application (openid-client) gets its code. The policy applies, the new password must
 * differ, and afterwards the new one signs in and the old one does not.
 */
import bcrypt from 'bcryptjs';
import { Browser, visibleText } from '../support/browser.js';
import { createClient, createPool } from '../support/fixtures.js';
import { discover, finishAuthorization, signIn, startAuthorization } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn.close();
});

async function importNdjson(poolId: string, lines: unknown[], query = '') {
  const response = await fetch(`${tarn.url}/admin/pools/${poolId}/users/import${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tarn.adminToken}`, 'content-type': 'application/x-ndjson' },
    body: lines.map((line) => JSON.stringify(line)).join('\n'),
  });
  return { status: response.status, body: await response.json() };
}

async function setUp() {
  const pool = await createPool(tarn, { passwordPolicy: { minLength: 14 } });
  const app = await createClient(tarn, pool.id);
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  return { pool, config };
}

/** Starts a sign-in and sends the password: the page the user sees next. */
async function passwordStep(config: Awaited<ReturnType<typeof discover>>, email: string, password: string) {
  const browser = new Browser(tarn.url);
  const start = await startAuthorization(config, browser);
  const page = await browser.submit(start.page, { email, password });
  return { browser, start, page };
}

/** The consent page of a first sign-in, if shown, is allowed: the address the browser then leaves Tarn for. */
async function consented(browser: Browser, page: Awaited<ReturnType<Browser['submit']>>): Promise<string | undefined> {
  if (page.leftTo || !page.html.includes('name="decision"')) return page.leftTo;
  return (await browser.submit(page, { decision: 'allow' })).leftTo;
}

describe('a weak imported password must be changed at the next sign-in', () => {
  it('asks for a new password before the application gets its code; the new one works and the old one fails', async () => {
    const { pool, config } = await setUp();
    const weak = { email: 'weak.plain@example.test', password: 'short-pw-1' };
    const strong = { email: 'strong.plain@example.test', password: 'a long enough password' };
    const imported = await importNdjson(pool.id, [weak, strong], '?requirePasswordChange=weak');
    expect(imported.body).toMatchObject({ created: 2, failed: 0 });

    // The user with a password that passes the policy signs in as usual.
    await signIn(config, tarn.url, strong);

    const { browser, start, page } = await passwordStep(config, weak.email, weak.password);
    expect(page.leftTo).toBeUndefined();
    expect(page.status).toBe(200);
    expect(visibleText(page.html)).toContain(`Your password must be changed before you continue. Choose a new password for ${weak.email}`);

    // The pool's policy applies, and the page says which rule.
    const tooShort = await browser.submit(page, { password: 'still-short' });
    expect(tooShort.status).toBe(400);
    expect(tooShort.leftTo).toBeUndefined();
    expect(visibleText(tooShort.html)).toContain('Your password needs at least 14 characters.');
    // A form without the page's CSRF token is refused.
    const action = /action="([^"]*\/password-change)"/.exec(page.html)![1]!;
    const forged = await browser.navigate('POST', action, { password: 'a forged new password' });
    expect(forged.status).toBe(403);
    expect(visibleText(forged.html)).toContain('Request refused');

    const renewed = await browser.submit(tooShort, { password: 'my new long password' });
    expect(renewed.status).not.toBe(400);
    const { tokens } = await finishAuthorization(config, await consented(browser, renewed), start);
    const user = await tarn.admin('GET', `/pools/${pool.id}/users?email=${encodeURIComponent(weak.email)}`);
    expect(tokens.claims()?.sub).toBe(user.body.items[0].id);
    expect(user.body.items[0].passwordChange).toBeNull();

    // The old password no longer signs in; the new one does, with no page in between.
    const old = await passwordStep(config, weak.email, weak.password);
    expect(old.page.status).toBe(401);
    expect(visibleText(old.page.html)).toContain('Invalid email or password');
    await signIn(config, tarn.url, { email: weak.email, password: 'my new long password' });

    const audit = await tarn.admin('GET', `/pools/${pool.id}/audit?action=user.password_changed`);
    expect(audit.body.items).toEqual([
      expect.objectContaining({
        action: 'user.password_changed',
        outcome: 'success',
        target: { type: 'user', id: user.body.items[0].id },
        details: { reason: 'required' },
      }),
    ]);
  });

  it('refuses the current password as the new one', async () => {
    const { pool, config } = await setUp();
    const weak = { email: 'same@example.test', password: 'weak-one' };
    await importNdjson(pool.id, [weak], '?requirePasswordChange=weak');
    const first = await passwordStep(config, weak.email, weak.password);
    // Relaxed policy for this check: the weak password itself would pass the length rule.
    expect((await tarn.admin('PATCH', `/pools/${pool.id}`, { passwordPolicy: { minLength: 8 } })).status).toBe(200);
    const same = await first.browser.submit(first.page, { password: weak.password });
    expect(same.status).toBe(400);
    expect(same.leftTo).toBeUndefined();
    expect(visibleText(same.html)).toContain('Choose a password different from your current one.');
  });

  it('asks a user imported with a weak bcrypt hash, once the first sign-in shows the password is weak', async () => {
    const { pool, config } = await setUp();
    const weak = { email: 'weak.hash@example.test', password: 'hashed-pw' };
    await importNdjson(
      pool.id,
      [{ email: weak.email, passwordHashFormat: 'bcrypt', passwordHash: bcrypt.hashSync(weak.password, 5) }],
      '?requirePasswordChange=weak',
    );
    const { browser, start, page } = await passwordStep(config, weak.email, weak.password);
    expect(page.leftTo).toBeUndefined();
    expect(visibleText(page.html)).toContain('Choose a new password');
    const renewed = await browser.submit(page, { password: 'a much better password' });
    await finishAuthorization(config, await consented(browser, renewed), start);
    await signIn(config, tarn.url, { email: weak.email, password: 'a much better password' });
  });

  it('asks every imported user with requirePasswordChange=all, and the users whose line says passwordChange "required"', async () => {
    const { pool, config } = await setUp();
    const all = { email: 'all@example.test', password: 'a long enough password' };
    const named = { email: 'named@example.test', password: 'another long password' };
    const other = { email: 'other@example.test', password: 'a third long password' };
    expect((await importNdjson(pool.id, [all], '?requirePasswordChange=all')).body).toMatchObject({ created: 1 });
    expect((await importNdjson(pool.id, [{ ...named, passwordChange: 'required' }, other])).body).toMatchObject({ created: 2 });
    for (const user of [all, named]) {
      const { page } = await passwordStep(config, user.email, user.password);
      expect(visibleText(page.html)).toContain('Choose a new password');
    }
    await signIn(config, tarn.url, other);
    const wrong = await importNdjson(pool.id, [{ email: 'x@example.test', password: 'p', passwordChange: 'maybe' }], '?requirePasswordChange=sometimes');
    expect(wrong.status).toBe(400);
    expect(JSON.stringify(wrong.body)).toContain('requirePasswordChange');
  });

  it('lets the admin require a new password of a user, and clear it', async () => {
    const { pool, config } = await setUp();
    const created = await tarn.admin('POST', `/pools/${pool.id}/users`, { email: 'marked@example.test', mode: 'password', password: 'a long enough password' });
    expect(created.body.passwordChange).toBeNull();
    const marked = await tarn.admin('PATCH', `/pools/${pool.id}/users/${created.body.id}`, { passwordChange: 'required' });
    expect(marked.status).toBe(200);
    expect(marked.body.passwordChange).toBe('required');
    const { page } = await passwordStep(config, 'marked@example.test', 'a long enough password');
    expect(visibleText(page.html)).toContain('Choose a new password');

    const bad = await tarn.admin('PATCH', `/pools/${pool.id}/users/${created.body.id}`, { passwordChange: 'soon' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    expect(JSON.stringify(bad.body)).toContain('passwordChange');

    const cleared = await tarn.admin('PATCH', `/pools/${pool.id}/users/${created.body.id}`, { passwordChange: null });
    expect(cleared.body.passwordChange).toBeNull();
    await signIn(config, tarn.url, { email: 'marked@example.test', password: 'a long enough password' });
  });
});
