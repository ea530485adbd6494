/**
 * An admin sees a user's sign-in sessions (when they began, the applications signed in
 * through them) and ends one or all of them; ending all revokes the refresh tokens too.
 */
import * as oidc from 'openid-client';
import { createUser } from '../support/fixtures.js';
import { setUpSignIn, signIn } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn?.close();
});

interface SessionList {
  items: { id: string; createdAt: string | null; expiresAt: string | null; clients: string[] }[];
}

it('lists the sessions of a user, ends one, then signs the user out everywhere', async () => {
  const { pool, app, user, config } = await setUpSignIn(tarn, { client: { grantTypes: ['authorization_code', 'refresh_token'] } });
  const other = await createUser(tarn, pool.id);
  await signIn(config, tarn.url, user);
  const second = await signIn(config, tarn.url, user);
  await signIn(config, tarn.url, other);
  const path = `/pools/${pool.id}/users/${user.id}/sessions`;

  const listed = await tarn.admin('GET', path);
  expect(listed.status).toBe(200);
  const sessions = (listed.body as SessionList).items;
  expect(sessions).toHaveLength(2);
  for (const session of sessions) {
    expect(session.clients).toEqual([app.clientId]);
    expect(new Date(session.createdAt!).getTime()).toBeLessThanOrEqual(Date.now());
  }

  // Another user's session is not this user's to end.
  const othersSession = ((await tarn.admin('GET', `/pools/${pool.id}/users/${other.id}/sessions`)).body as SessionList).items[0]!;
  expect((await tarn.admin('DELETE', `${path}/${encodeURIComponent(othersSession.id)}`)).status).toBe(404);

  expect((await tarn.admin('DELETE', `${path}/${encodeURIComponent(sessions[0]!.id)}`)).status).toBe(204);
  expect(((await tarn.admin('GET', path)).body as SessionList).items.map((session) => session.id)).toEqual([sessions[1]!.id]);

  expect((await tarn.admin('DELETE', path)).status).toBe(204);
  expect(((await tarn.admin('GET', path)).body as SessionList).items).toEqual([]);
  await expect(oidc.refreshTokenGrant(config, second.tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  // The other user is untouched.
  expect(((await tarn.admin('GET', `/pools/${pool.id}/users/${other.id}/sessions`)).body as SessionList).items).toHaveLength(1);
});
