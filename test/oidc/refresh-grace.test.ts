/**
 * Refresh-token reuse grace period per client (refreshTokenReuseGraceSeconds, ADR 0604).
 * RFC 9700 §4.14.2 reuse detection stays the default (0): a rotated refresh token used
 * again revokes the grant. With a grace period, the same token sent several times at once
 * (mod_auth_openidc's workers) or again shortly after gets another refresh token of the
 * same grant; after the window, reuse detection applies as before.
 */
import { postForm, setupPool, withClockAdvanced, type PoolSetup } from '../support/protocol.js';
import { signIn } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn.close();
});

async function refresh(setup: PoolSetup, refreshToken: string) {
  return postForm(
    `${setup.pool.issuer}/token`,
    { grant_type: 'refresh_token', refresh_token: refreshToken },
    { clientId: setup.app.clientId, clientSecret: setup.app.secret?.value },
  );
}

async function signedIn(clientFields: Record<string, unknown> = {}) {
  const setup = await setupPool(tarn, clientFields);
  const { tokens } = await signIn(setup.config, tarn.url, setup.user);
  return { setup, refreshToken: tokens.refresh_token! };
}

it('the admin API keeps the setting: 0 by default, 0 to 300 seconds, anything else is a 400 naming the field', async () => {
  const setup = await setupPool(tarn);
  const shown = await tarn.admin('GET', `/pools/${setup.pool.id}/clients/${setup.app.clientId}`);
  expect(shown.body.refreshTokenReuseGraceSeconds).toBe(0);
  const patched = await tarn.admin('PATCH', `/pools/${setup.pool.id}/clients/${setup.app.clientId}`, { refreshTokenReuseGraceSeconds: 30 });
  expect(patched.body.refreshTokenReuseGraceSeconds).toBe(30);
  for (const value of [-1, 301, 1.5, '30']) {
    const refused = await tarn.admin('PATCH', `/pools/${setup.pool.id}/clients/${setup.app.clientId}`, { refreshTokenReuseGraceSeconds: value });
    expect([value, refused.status, refused.body.errors?.[0]?.field]).toEqual([value, 400, 'refreshTokenReuseGraceSeconds']);
  }
});

it('RFC 9700 §4.14.2 by default: reusing a rotated refresh token revokes the grant', async () => {
  const { setup, refreshToken } = await signedIn();
  const first = await refresh(setup, refreshToken);
  expect(first.status).toBe(200);
  const reused = await refresh(setup, refreshToken);
  expect([reused.status, reused.body.error]).toEqual([400, 'invalid_grant']);
  const successor = await refresh(setup, first.body.refresh_token);
  expect([successor.status, successor.body.error]).toEqual([400, 'invalid_grant']);
});

it('with a grace period, concurrent refreshes of one token all succeed, and every refresh token they return keeps working', async () => {
  const { setup, refreshToken } = await signedIn({ refreshTokenReuseGraceSeconds: 30 });
  // Several workers hold the same token: one refreshes first, the others' copies arrive
  // (at once) after its rotation, which is when strict reuse detection would revoke the grant.
  const firstWorker = await refresh(setup, refreshToken);
  const otherWorkers = await Promise.all(Array.from({ length: 4 }, () => refresh(setup, refreshToken)));
  const answers = [firstWorker, ...otherWorkers];
  expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
  for (const answer of answers) {
    expect(typeof answer.body.access_token).toBe('string');
    const next = await refresh(setup, answer.body.refresh_token);
    expect([next.status, next.body.error]).toEqual([200, undefined]);
  }
});

it('with a grace period, a reuse inside the window gets another refresh token; after the window it revokes the grant as before', async () => {
  const { setup, refreshToken } = await signedIn({ refreshTokenReuseGraceSeconds: 30 });
  const first = await refresh(setup, refreshToken);
  const again = await refresh(setup, refreshToken);
  expect([first.status, again.status]).toEqual([200, 200]);
  expect(again.body.refresh_token).not.toBe(first.body.refresh_token);

  // After the window (which runs from the first use), reuse detection is back.
  const late = await withClockAdvanced(31, () => refresh(setup, refreshToken));
  expect([late.status, late.body.error]).toEqual([400, 'invalid_grant']);
  for (const successor of [first.body.refresh_token, again.body.refresh_token]) {
    const dead = await refresh(setup, successor);
    expect([dead.status, dead.body.error]).toEqual([400, 'invalid_grant']);
  }
});

it('RFC 7009 §2.2: a revocation answers 200 with an empty JSON object, which browser libraries accept; the token is then dead', async () => {
  const { setup, refreshToken } = await signedIn();
  const auth = { clientId: setup.app.clientId, clientSecret: setup.app.secret?.value };
  const revoked = await postForm(`${setup.pool.issuer}/token/revocation`, { token: refreshToken, token_type_hint: 'refresh_token' }, auth);
  expect([revoked.status, revoked.headers.get('content-type'), revoked.text]).toEqual([200, 'application/json; charset=utf-8', '{}']);
  const after = await refresh(setup, refreshToken);
  expect([after.status, after.body.error]).toEqual([400, 'invalid_grant']);
});
