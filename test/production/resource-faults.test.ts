/**
 * The database goes away while a signed-in user calls Tarn's own resource routes (ADR 0800):
 * /me and /me/passkeys answer 503 with Retry-After, as a problem document, like every other
 * API, never a 500; and serve again once it is back.
 */
import { migrate } from '../../src/db/migrate.js';
import { openDatabase } from '../../src/db/database.js';
import { createClient, createPool, createUser } from '../support/fixtures.js';
import { discover, signIn } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';
import { startPostgresServer, type PostgresServer } from './support/postgres-server.js';

let postgres: PostgresServer;
let tarn: RunningTarn;

beforeAll(async () => {
  postgres = await startPostgresServer();
  const url = await postgres.createDatabase('tarn_resource_faults');
  const handle = await openDatabase({ databaseUrl: url, poolSize: 3, connectTimeoutMs: 1000 });
  await migrate(handle);
  // The pool's provider stays in memory through the outage: the request reaches the route itself.
  tarn = await startTarn({ PROVIDER_CHECK_INTERVAL_MS: '600000' }, { handle, url, drop: () => handle.close() });
}, 120_000);

afterAll(async () => {
  await tarn?.close();
  await tarn?.database.drop();
  await postgres?.destroy();
});

it('answers /me and /me/passkeys with 503 and Retry-After while the database is down, and serves again after', async () => {
  const pool = await createPool(tarn, { signIn: { password: true, passkey: true } });
  const app = await createClient(tarn, pool.id);
  const user = await createUser(tarn, pool.id);
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  const { tokens } = await signIn(config, tarn.url, user, { scope: 'openid', declinePasskey: true });
  const me = (path: string) =>
    fetch(`${pool.issuer}${path}`, { headers: { authorization: `Bearer ${tokens.access_token}` }, signal: AbortSignal.timeout(15_000) });
  expect((await me('/me')).status).toBe(200);

  // A clean stop: artifacts are committed asynchronously (ADR 0700), and an immediate one may lose the token.
  await postgres.stop('fast');
  for (const path of ['/me', '/me/passkeys']) {
    const response = await me(path);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBeTruthy();
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({ status: 503, title: 'Service unavailable' });
  }

  await postgres.start();
  let back = await me('/me');
  for (let i = 0; i < 100 && back.status !== 200; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    back = await me('/me');
  }
  expect(back.status).toBe(200);
  expect(((await back.json()) as { email: string }).email).toBe(user.email);
}, 120_000);
