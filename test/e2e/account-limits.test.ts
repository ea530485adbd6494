/**
 * The account page under the sign-in pages' rules (docs/adr/0306), driven over HTTP: a wrong
 * current password is a 401 that counts toward the user's lockout and toward the per-network
 * sign-in limit, which then answers the branded 429; without the page's own cookie nothing is
 * changed and the browser is sent to sign in; the page's cookie is sealed, SameSite=Strict and
 * scoped to the account path.
 */
import { Browser, visibleText } from '../support/browser.js';
import { createPool, createUser } from '../support/fixtures.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn({ RATE_LIMIT_LOGIN_FAILURES: '4' });
}, 180_000);
afterAll(async () => {
  await tarn?.close();
});

async function signedInBrowser(poolId: string, user: { email: string; password: string }) {
  const browser = new Browser(tarn.url);
  const login = await browser.get(`/pools/${poolId}/account`);
  expect(visibleText(login.html)).toContain('Sign in');
  const moving = await browser.submit(login, { email: user.email, password: user.password });
  expect(moving.html).toContain('http-equiv="refresh"');
  const page = await browser.get(`/pools/${poolId}/account/password`);
  expect(visibleText(page.html)).toContain('Change your password');
  return { browser, page };
}

it('the cookie is sealed, Strict and on the account path; without it a change is refused and sign-in asked', async () => {
  const pool = await createPool(tarn);
  const user = await createUser(tarn, pool.id);
  const browser = new Browser(tarn.url);
  const start = await browser.request('GET', `/pools/${pool.id}/account`);
  expect(start.status).toBe(303);
  expect(start.headers.get('location')).toBe(`/pools/${pool.id}/account/login?next=%2Faccount`);
  const login = await browser.get(`/pools/${pool.id}/account`);
  const callback = await browser.submit(login, { email: user.email, password: user.password });
  const setCookie = callback.headers.getSetCookie().find((line) => line.startsWith('_tarn_account='))!;
  expect(setCookie).toMatch(/path=\/pools\/[^;]+\/account;/i);
  expect(setCookie).toMatch(/samesite=strict/i);
  expect(setCookie).toMatch(/httponly/i);
  expect(setCookie).not.toContain(user.id);

  const stranger = new Browser(tarn.url);
  const refused = await stranger.request('POST', `/pools/${pool.id}/account/password`, {
    csrf: 'x',
    current_password: user.password,
    password: 'never set this one',
  });
  expect(refused.status).toBe(303);
  expect(refused.headers.get('location')).toContain('/account/login');
});

it('wrong current passwords count toward the lockout and the per-network limit, like wrong sign-ins', async () => {
  const pool = await createPool(tarn, { lockout: { maxAttempts: 3, windowSeconds: 600 } });
  const user = await createUser(tarn, pool.id);
  const { browser, page } = await signedInBrowser(pool.id, user);
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    const wrong = await browser.submit(page, { current_password: `wrong ${attempt}`, password: 'a new password here' }, '/account/password');
    expect(wrong.status).toBe(401);
    expect(visibleText(wrong.html)).toContain('Your current password is not right.');
  }
  expect((await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}/lockout`)).body).toMatchObject({ locked: true });
  // Locked: the right current password fails too.
  const locked = await browser.submit(page, { current_password: user.password, password: 'a new password here' }, '/account/password');
  expect(locked.status).toBe(401);
  // The network's fifth failure is past the limit of four: the branded page, not a form.
  const limited = await browser.submit(page, { current_password: 'wrong again', password: 'a new password here' }, '/account/password');
  expect(limited.status).toBe(429);
  expect(visibleText(limited.html)).toContain('Too many failed sign-in attempts');
});
