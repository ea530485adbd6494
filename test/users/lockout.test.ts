/**
 * Brute force (docs/design.md#sign-in; Ory Kratos #3037): after the pool's maxAttempts wrong
 * passwords within its window the user is locked — the right password fails too — until
 * the window ends or an admin clears the lock. Unknown emails get the very same answer.
 * Too many failed sign-ins from one client IP (passwords and emailed codes alike) throttle
 * that IP: one limit, RATE_LIMIT_LOGIN_FAILURES per RATE_LIMIT_WINDOW_MS.
 */
import { Browser, visibleText } from '../support/browser.js';
import { createClient, createPool, createUser } from '../support/fixtures.js';
import { discover, signIn, startAuthorization } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
let offsetMs = 0;
beforeAll(async () => {
  tarn = await startTarn({}, undefined, { clock: () => new Date(Date.now() + offsetMs) });
});
afterAll(async () => {
  await tarn?.close();
});
afterEach(() => {
  offsetMs = 0;
});

async function setUp() {
  const pool = await createPool(tarn, { lockout: { maxAttempts: 3, windowSeconds: 600 } });
  const app = await createClient(tarn, pool.id);
  const user = await createUser(tarn, pool.id);
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  return { pool, user, config };
}

async function tryPassword(config: Awaited<ReturnType<typeof discover>>, email: string, password: string) {
  const browser = new Browser(tarn.url);
  const start = await startAuthorization(config, browser);
  return browser.submit(start.page, { email, password });
}

it('locks the user after maxAttempts wrong passwords, until an admin clears the lock', async () => {
  const { pool, user, config } = await setUp();
  const answers: string[] = [];
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const page = await tryPassword(config, user.email, `wrong-password-${attempt}`);
    expect(page.status).toBe(401);
    answers.push(visibleText(page.html));
  }
  // While locked, a wrong password gets the same answer as before (nothing for a guesser) ...
  const stillWrong = await tryPassword(config, user.email, 'wrong-password-again');
  expect(visibleText(stillWrong.html)).toBe(answers[0]);
  // ... and the right one is refused too, and told until when (docs/adr/0400).
  const locked = await tryPassword(config, user.email, user.password);
  expect(locked.status).toBe(401);
  expect(locked.leftTo).toBeUndefined();
  expect(visibleText(locked.html)).toMatch(/This account is locked after too many failed attempts\. Try again in \d+ minutes \(.+ UTC\)\./);

  // The admin sees the lock, in the user and on its own route.
  const shown = await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}`);
  expect(shown.body.lockout).toMatchObject({ locked: true, failures: 5 });
  const lockout = await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}/lockout`);
  expect(lockout.status).toBe(200);
  expect(lockout.body.locked).toBe(true);
  expect(new Date(lockout.body.lockedUntil).getTime()).toBeGreaterThan(Date.now());

  expect((await tarn.admin('DELETE', `/pools/${pool.id}/users/${user.id}/lockout`)).status).toBe(204);
  expect((await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}/lockout`)).body).toMatchObject({ locked: false, failures: 0 });
  const { tokens } = await signIn(config, tarn.url, user);
  expect(tokens.claims()!.sub).toBe(user.id);
});

it('a guesser who keeps trying during a lock no longer learns which password was right', async () => {
  const pool = await createPool(tarn, { lockout: { maxAttempts: 1, windowSeconds: 600 } });
  const app = await createClient(tarn, pool.id);
  const user = await createUser(tarn, pool.id);
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  // The first wrong password locks (one attempt); one more try goes on during the lock: twice the attempts.
  const generic = visibleText((await tryPassword(config, user.email, 'wrong-password-0')).html);
  await tryPassword(config, user.email, 'wrong-password-1');
  // The right password now gets exactly the answer a wrong one gets: the lock still bounds guessing.
  const right = await tryPassword(config, user.email, user.password);
  expect(right.status).toBe(401);
  expect(visibleText(right.html)).toBe(generic);
  expect(visibleText(right.html)).not.toMatch(/locked/i);
});

it('the lock ends with the window', async () => {
  const { user, config } = await setUp();
  for (let attempt = 0; attempt < 3; attempt += 1) await tryPassword(config, user.email, 'not the password');
  expect((await tryPassword(config, user.email, user.password)).status).toBe(401);
  offsetMs = 601 * 1000;
  const { tokens } = await signIn(config, tarn.url, user);
  expect(tokens.claims()!.sub).toBe(user.id);
});

it('failures spread over more than the window do not lock', async () => {
  const { user, config } = await setUp();
  await tryPassword(config, user.email, 'not the password');
  await tryPassword(config, user.email, 'not the password');
  offsetMs = 601 * 1000;
  await tryPassword(config, user.email, 'not the password');
  const { tokens } = await signIn(config, tarn.url, user);
  expect(tokens.claims()!.sub).toBe(user.id);
});

it('a successful sign-in starts the count afresh', async () => {
  const { pool, user, config } = await setUp();
  await tryPassword(config, user.email, 'not the password');
  await tryPassword(config, user.email, 'not the password');
  expect((await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}/lockout`)).body).toMatchObject({ locked: false, failures: 2 });
  expect((await signIn(config, tarn.url, user)).tokens.claims()!.sub).toBe(user.id);
  expect((await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}/lockout`)).body).toMatchObject({ locked: false, failures: 0 });
  // Two more failures would have locked the user had the first two still counted.
  await tryPassword(config, user.email, 'not the password');
  await tryPassword(config, user.email, 'not the password');
  expect((await signIn(config, tarn.url, user)).tokens.claims()!.sub).toBe(user.id);
});

it('an unknown email gets exactly the answer a locked or wrong one gets', async () => {
  const { user, config } = await setUp();
  const wrong = await tryPassword(config, user.email, 'not the password');
  const pages = [];
  for (let attempt = 0; attempt < 4; attempt += 1) pages.push(await tryPassword(config, 'nobody@example.test', 'not the password'));
  for (const page of pages) {
    expect(page.status).toBe(wrong.status);
    expect(visibleText(page.html)).toBe(visibleText(wrong.html));
  }
});

it('a lockout is per pool: the same person locked at one pool signs in at another', async () => {
  const a = await setUp();
  const b = await setUp();
  const userB = await createUser(tarn, b.pool.id, { email: a.user.email, password: a.user.password });
  for (let attempt = 0; attempt < 3; attempt += 1) await tryPassword(a.config, a.user.email, 'not the password');
  expect((await tryPassword(a.config, a.user.email, a.user.password)).status).toBe(401);
  const { tokens } = await signIn(b.config, tarn.url, { email: a.user.email, password: a.user.password });
  expect(tokens.claims()!.sub).toBe(userB.id);
  // Pool B's admin route knows nothing of pool A's user.
  expect((await tarn.admin('GET', `/pools/${b.pool.id}/users/${a.user.id}/lockout`)).status).toBe(404);
  expect((await tarn.admin('DELETE', `/pools/${b.pool.id}/users/${a.user.id}/lockout`)).status).toBe(404);
});

it('throttles a client IP after RATE_LIMIT_LOGIN_FAILURES failed sign-ins, passwords and codes alike, whatever the emails', async () => {
  // A Tarn of its own on the same database: the limit is per client IP, and this file's other tests fail from the same address.
  const limited = await startTarn({ RATE_LIMIT_LOGIN_FAILURES: '4' }, tarn.database);
  try {
    const pool = await createPool(limited, { lockout: { maxAttempts: 100 }, signIn: { password: true, emailCode: true } });
    const app = await createClient(limited, pool.id);
    const user = await createUser(limited, pool.id);
    const config = await discover(pool.issuer, app.clientId, app.secret?.value);
    const browser = new Browser(limited.url);
    let page = (await startAuthorization(config, browser)).page;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      page = await browser.submit(page, { email: `guess-${attempt}@example.test`, password: 'password-guess' }, '/login');
      expect(page.status).toBe(401);
    }
    // A wrong emailed code is a failed sign-in too.
    const codePage = await browser.submit(page, { email: `guess@example.test` }, '/email-code');
    const wrongCode = await browser.submit(codePage, { code: '000000' }, '/verify');
    expect(wrongCode.status).toBe(401);
    const refused = await browser.submit(page, { email: user.email, password: user.password }, '/login');
    expect(refused.status).toBe(429);
    expect(visibleText(refused.html)).toContain('Too many failed sign-in attempts from your network');
  } finally {
    await limited.close();
  }
});
