/**
 * Self-registration cannot be taken over (ADR 0304): a registration's code works only in the
 * browser that submitted the form, so a second registration of the same unverified address,
 * by anyone, neither replaces the first nor makes its own password the account's.
 * Driven over HTTP as browsers would, with mail read from a real SMTP server.
 */
import { sql } from 'kysely';
import { Browser, visibleText, type Page } from '../support/browser.js';
import { createClient, createPool, createUser, uniqueId } from '../support/fixtures.js';
import { discover, signIn, startAuthorization } from '../support/relying-party.js';
import { codeIn, startMailbox, type Mailbox } from '../support/smtp.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
let mailbox: Mailbox;
let offsetMs = 0;
beforeAll(async () => {
  mailbox = await startMailbox();
  tarn = await startTarn({ SMTP_URL: mailbox.url }, undefined, { clock: () => new Date(Date.now() + offsetMs) });
});
afterAll(async () => {
  await tarn?.close();
  await mailbox?.close();
});
afterEach(() => {
  offsetMs = 0;
});

const profileSchema = {
  type: 'object',
  required: ['given_name'],
  properties: { given_name: { type: 'string', minLength: 1, title: 'First name' } },
};

async function setUp() {
  const pool = await createPool(tarn, { name: 'Open Club', selfRegistration: true, profileSchema });
  const app = await createClient(tarn, pool.id);
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  return { pool, config };
}

/** Opens the registration form in a fresh browser, from the application's sign-in. */
async function registrationForm(config: Awaited<ReturnType<typeof discover>>) {
  const browser = new Browser(tarn.url);
  const start = await startAuthorization(config, browser);
  const form = await browser.get(/href="([^"]+\/register)"/.exec(start.page.html)![1]!);
  return { browser, form };
}

async function register(config: Awaited<ReturnType<typeof discover>>, email: string, password: string, givenName: string) {
  const { browser, form } = await registrationForm(config);
  const page = await browser.submit(form, { email, password, 'profile.given_name': givenName });
  expect(page.status).toBe(200);
  expect(visibleText(page.html)).toContain('Check your email');
  return { browser, page };
}

const usersWith = async (poolId: string, email: string) => (await tarn.admin('GET', `/pools/${poolId}/users?email=${encodeURIComponent(email)}`)).body.items;

async function passwordWorks(config: Awaited<ReturnType<typeof discover>>, email: string, password: string): Promise<boolean> {
  const browser = new Browser(tarn.url);
  const start = await startAuthorization(config, browser);
  const answer: Page = await browser.submit(start.page, { email, password }, '/login');
  return answer.status !== 401;
}

it('a second registration of an unverified address cannot take the account: the victim keeps their password', async () => {
  const { pool, config } = await setUp();
  const email = `${uniqueId('victim')}@example.test`;
  const victimPassword = 'the victim chose this one';
  const attackerPassword = 'the attacker chose this one';

  // The victim registers and gets a code.
  const victim = await register(config, email, victimPassword, 'Victoria');
  const victimCode = codeIn(await mailbox.next(email));
  // Later (past the resend interval), before the victim types it, an attacker registers the same address.
  offsetMs = 31_000;
  const attacker = await register(config, email, attackerPassword, 'Mallory');
  const attackerCode = codeIn(await mailbox.next(email));

  // The newest mail's code belongs to the attacker's registration: in the victim's browser it does nothing.
  if (attackerCode !== victimCode) {
    const refused = await victim.browser.submit(victim.page, { code: attackerCode });
    expect(refused.status).toBe(401);
    expect(visibleText(refused.html)).toContain('That code is wrong or has expired');
    expect(await usersWith(pool.id, email)).toHaveLength(0);
  }
  // The attacker, without the victim's mailbox, has no code; guesses fail.
  const guess = await attacker.browser.submit(attacker.page, { code: victimCode === '000000' ? '000001' : '000000' });
  expect(guess.status).toBe(401);

  // The victim's own code still works in the victim's browser, and the account is the victim's.
  const consent = await victim.browser.submit(victim.page, { code: victimCode });
  expect(visibleText(consent.html)).toContain('Allow access');
  const [account] = await usersWith(pool.id, email);
  expect(account).toMatchObject({ status: 'active', emailVerified: true, profile: { given_name: 'Victoria' } });
  expect(await passwordWorks(config, email, victimPassword)).toBe(true);
  expect(await passwordWorks(config, email, attackerPassword)).toBe(false);

  // The attacker's pending registration cannot complete either (the address is taken), even with its code.
  const late = await attacker.browser.submit(attacker.page, { code: attackerCode });
  expect(late.status).toBe(401);
  expect(await passwordWorks(config, email, attackerPassword)).toBe(false);
});

it("submitting the form again in the same browser sends a new code that replaces that browser's previous one", async () => {
  const { pool, config } = await setUp();
  const email = `${uniqueId('again')}@example.test`;
  const { browser, form } = await registrationForm(config);
  const first = await browser.submit(form, { email, password: 'first password here', 'profile.given_name': 'Ada' });
  const firstCode = codeIn(await mailbox.next(email));
  offsetMs = 31_000;
  const second = await browser.submit(form, { email, password: 'second password here', 'profile.given_name': 'Ada' });
  const secondCode = codeIn(await mailbox.next(email));
  if (firstCode !== secondCode) expect((await browser.submit(first, { code: firstCode })).status).toBe(401);
  const consent = await browser.submit(second, { code: secondCode });
  expect(visibleText(consent.html)).toContain('Allow access');
  expect(await usersWith(pool.id, email)).toHaveLength(1);
  expect(await passwordWorks(config, email, 'second password here')).toBe(true);
});

it('an address that has an account gets the same page as any other, and its owner a notice instead of a code', async () => {
  const { pool, config } = await setUp();
  const owner = await createUser(tarn, pool.id, { profile: { given_name: 'Olive' } });
  const fresh = `${uniqueId('fresh')}@example.test`;
  const known = await register(config, owner.email, 'another long password', 'Eve');
  const unknown = await register(config, fresh, 'another long password', 'Eve');
  // Apart from what differs between any two browsers (interaction id, CSRF field) and the address itself.
  const withoutSecrets = (page: Page, email: string) =>
    page.html
      .replace(/name="csrf" value="[^"]+"/g, '')
      .replace(/\/interaction\/[^/]+\//g, '/interaction/UID/')
      .replaceAll(email, 'EMAIL')
      .replaceAll(encodeURIComponent(email), 'EMAIL');
  expect(withoutSecrets(known.page, owner.email)).toBe(withoutSecrets(unknown.page, fresh));
  expect((await mailbox.next(owner.email)).text).toContain('already has one');
  expect((await mailbox.next(fresh)).subject).toContain('verification code');
  // The owner's password is untouched.
  expect(await passwordWorks(config, owner.email, owner.password)).toBe(true);
});

it('an address written with compatibility characters is the same identity (NFKC, domain case)', async () => {
  const { pool, config } = await setUp();
  const local = uniqueId('ann');
  const owner = await createUser(tarn, pool.id, { email: `${local}@example.test`, profile: { given_name: 'Ann' } });
  // Fullwidth first letter and an upper-case domain: what a person reads as the same address.
  const lookalike = `\uFF41${local.slice(1)}@EXAMPLE.test`; // local starts with "a"; U+FF41 is fullwidth "a"
  expect(lookalike).not.toBe(owner.email);
  await register(config, lookalike, 'a long and lovely password', 'Ann');
  // The owner is told an account exists; no second identity is created.
  expect((await mailbox.next(owner.email)).text).toContain('already has one');
  expect(await usersWith(pool.id, owner.email)).toHaveLength(1);
  // The admin API stores one spelling and finds it by either.
  const duplicate = await tarn.admin('POST', `/pools/${pool.id}/users`, {
    email: lookalike,
    mode: 'password',
    password: 'some existing password',
    profile: { given_name: 'Ann' },
  });
  expect(duplicate.status).toBe(409);
  expect((await usersWith(pool.id, lookalike)).map((user: { id: string }) => user.id)).toEqual([owner.id]);
  // Signing in with the lookalike spelling reaches the same account.
  const { tokens } = await signIn(config, tarn.url, { email: lookalike, password: owner.password });
  expect(tokens.claims()!.sub).toBe(owner.id);
});

it('a dump of the pending registration holds neither the code nor the interaction it is bound to', async () => {
  const { pool, config } = await setUp();
  const email = `${uniqueId('dump')}@example.test`;
  const { page } = await register(config, email, 'a long and lovely password', 'Dora');
  const code = codeIn(await mailbox.next(email));
  const uid = /\/interaction\/([^/]+)\/register\/verify/.exec(page.html)![1]!;
  const dump = await sql<{ row: unknown }>`select row_to_json(c) as row from one_time_codes c where pool_id = ${pool.id}`.execute(tarn.database.handle.db);
  expect(dump.rows).toHaveLength(1);
  const text = JSON.stringify(dump.rows);
  expect(text).toContain(email);
  expect(text).not.toContain(code);
  expect(text).not.toContain(uid);
  expect(text).not.toContain('a long and lovely password');
});
