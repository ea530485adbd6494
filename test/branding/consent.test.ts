/**
 * Consent as a person meets it, with a real relying party (openid-client): a first-party
 * application never shows the consent page; consent given once is not asked again in a
 * new browser for the scopes already granted, and is asked for a new scope.
 */
import { Browser, visibleText } from '../support/browser.js';
import { createClient } from '../support/fixtures.js';
import { discover, finishAuthorization, setUpSignIn, startAuthorization } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn?.close();
});

it('a first-party application skips the consent page, and its consent is recorded as implicit', async () => {
  const { pool, user } = await setUpSignIn(tarn);
  const own = await createClient(tarn, pool.id, { name: 'Harbour Console', firstParty: true });
  expect((own as { firstParty?: boolean }).firstParty).toBe(true);
  expect((await tarn.admin('GET', `/pools/${pool.id}/clients/${own.clientId}`)).body.firstParty).toBe(true);
  const config = await discover(pool.issuer, own.clientId, own.secret?.value);

  const browser = new Browser(tarn.url);
  const start = await startAuthorization(config, browser, { scope: 'openid profile email' });
  expect(visibleText(start.page.html)).toContain('Sign in');
  const after = await browser.submit(start.page, { email: user.email, password: user.password });
  // Straight back to the application: no "Allow access" page.
  expect(after.leftTo).toBeDefined();
  const { tokens } = await finishAuthorization(config, after.leftTo, start);
  expect(tokens.claims()).toMatchObject({ sub: user.id, email: user.email });
  expect(tokens.scope?.split(' ').sort()).toEqual(['email', 'openid', 'profile']);

  const recorded = await tarn.database.handle.db
    .selectFrom('consent_grants')
    .select(['implicit', 'grant_id'])
    .where('pool_id', '=', pool.id)
    .where('user_id', '=', user.id)
    .executeTakeFirstOrThrow();
  expect(recorded.implicit).toBe(true);

  // A third-party application of the same pool still asks.
  const other = await createClient(tarn, pool.id, { name: 'Partner App' });
  const otherConfig = await discover(pool.issuer, other.clientId, other.secret?.value);
  const next = await startAuthorization(otherConfig, browser, { scope: 'openid email' });
  expect(visibleText(next.page.html)).toContain('Allow access');
});

it('consent is not asked again in a new browser for scopes already granted, and is for a new one', async () => {
  const { user, config } = await setUpSignIn(tarn);

  const first = new Browser(tarn.url);
  const start = await startAuthorization(config, first, { scope: 'openid email' });
  const consent = await first.submit(start.page, { email: user.email, password: user.password });
  expect(visibleText(consent.html)).toContain('Allow access');
  const allowed = await first.submit(consent, { decision: 'allow' });
  await finishAuthorization(config, allowed.leftTo, start);

  // Another browser (no cookies): sign in again, no consent page.
  const second = new Browser(tarn.url);
  const again = await startAuthorization(config, second, { scope: 'openid email' });
  const back = await second.submit(again.page, { email: user.email, password: user.password });
  expect(back.leftTo).toBeDefined();
  expect(back.html).not.toContain('Allow access');
  const { tokens } = await finishAuthorization(config, back.leftTo, again);
  expect(tokens.claims()).toMatchObject({ sub: user.id, email: user.email });

  // A third browser asking for more (profile): asked for the new scope only.
  const third = new Browser(tarn.url);
  const more = await startAuthorization(config, third, { scope: 'openid email profile' });
  const asked = await third.submit(more.page, { email: user.email, password: user.password });
  const text = visibleText(asked.html);
  expect(text).toContain('Allow access');
  expect(text).not.toContain('See your email address');
  const done = await third.submit(asked, { decision: 'allow' });
  const granted = await finishAuthorization(config, done.leftTo, more);
  expect(granted.tokens.scope?.split(' ').sort()).toEqual(['email', 'openid', 'profile']);
});
