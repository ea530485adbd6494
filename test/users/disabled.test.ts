/**
 * Status "disabled" (docs/design.md#users): the user cannot sign in, their refresh tokens
 * stop working, and a browser session they already had cannot complete a new
 * authorization silently. Enabling them again restores sign-in (not the old tokens).
 */
import * as oidc from 'openid-client';
import { visibleText } from '../support/browser.js';
import { createClient, createPool, createUser } from '../support/fixtures.js';
import { discover, signIn, startAuthorization } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn?.close();
});

it('a disabled user cannot sign in, refresh, or reuse their session', async () => {
  const pool = await createPool(tarn);
  const app = await createClient(tarn, pool.id);
  const user = await createUser(tarn, pool.id);
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  const { tokens, browser } = await signIn(config, tarn.url, user);
  expect(tokens.refresh_token).toBeDefined();

  const disabled = await tarn.admin('PATCH', `/pools/${pool.id}/users/${user.id}`, { status: 'disabled' });
  expect(disabled.body.status).toBe('disabled');

  // The refresh token is refused (invalid_grant, RFC 6749 §5.2).
  await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  // The access token no longer reads userinfo or /me.
  await expect(oidc.fetchUserInfo(config, tokens.access_token, user.id)).rejects.toThrow();
  const me = await fetch(`${pool.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  expect(me.status).toBe(401);

  // The browser that was signed in gets the login page again, not a code.
  const again = await startAuthorization(config, browser);
  expect(again.page.leftTo).toBeUndefined();
  expect(again.page.html).toContain('name="password"');
  // …and the right password does not sign them in.
  const refused = await browser.submit(again.page, { email: user.email, password: user.password });
  expect(refused.status).toBe(401);
  // The right password learns the account is disabled (docs/adr/0400); a wrong one would not.
  expect(visibleText(refused.html)).toContain('This account is disabled.');

  // Enabled again: sign-in works, with fresh tokens.
  await tarn.admin('PATCH', `/pools/${pool.id}/users/${user.id}`, { status: 'active' });
  const back = await signIn(config, tarn.url, user);
  expect(back.tokens.claims()!.sub).toBe(user.id);
});

it('a session whose user was disabled in the database (not through the API) still cannot authorize silently', async () => {
  const pool = await createPool(tarn);
  const app = await createClient(tarn, pool.id);
  const user = await createUser(tarn, pool.id);
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  const { browser } = await signIn(config, tarn.url, user);
  // Only the status changes: the session row is still there, so the login check must catch it.
  await tarn.database.handle.db.updateTable('users').set({ status: 'disabled' }).where('pool_id', '=', pool.id).where('id', '=', user.id).execute();
  const again = await startAuthorization(config, browser);
  expect(again.page.leftTo).toBeUndefined();
  expect(again.page.html).toContain('name="password"');
});

it('deleting a user ends their sessions and tokens too', async () => {
  const pool = await createPool(tarn);
  const app = await createClient(tarn, pool.id);
  const user = await createUser(tarn, pool.id);
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  const { tokens } = await signIn(config, tarn.url, user);
  expect((await tarn.admin('DELETE', `/pools/${pool.id}/users/${user.id}`)).status).toBe(204);
  await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  const introspected = await oidc.tokenIntrospection(config, tokens.access_token);
  expect(introspected.active).toBe(false);
});
