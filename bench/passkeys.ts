/**
 * How fast passkey sign-ins go through the service (options + verification + counter update),
 * on PGlite or DATABASE_URL, next to bare @simplewebauthn verification: a measurement, not a test.
 *   node --import tsx bench/passkeys.ts [count]
 */
import { randomBytes } from 'node:crypto';
import { verifyAuthenticationResponse } from '@simplewebauthn/server';
import { openDatabase } from '../src/db/database.js';
import { migrate } from '../src/db/migrate.js';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { createPoolQueries } from '../src/pools/pools.queries.js';
import { SoftAuthenticator } from '../test/passkeys/soft-authenticator.js';

const count = Number(process.argv[2] ?? 500);
const handle = await openDatabase(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {});
await migrate(handle);
const db = handle.db;
const config = loadConfig({
  NODE_ENV: 'test',
  PUBLIC_URL: 'https://id.example.test',
  TARN_ADMIN_TOKEN: randomBytes(16).toString('hex'),
  TARN_MASTER_KEY: randomBytes(32).toString('hex'),
  LOG_LEVEL: 'silent',
});
const tarn = createApp({ config, database: handle, log: createLogger('silent') });
const { users, pools, passkeys } = tarn.services;
const poolId = `bench-${randomBytes(3).toString('hex')}`;
await pools.createPool({ id: poolId, name: 'Bench', signIn: { password: true, emailCode: false, passkey: true } });
const pool = (await createPoolQueries(db).findPool(poolId))!;
const created = await users.createUser(pool, { email: 'bench@example.test', mode: 'password', password: 'correct horse battery staple' } as never);
const user = await users.getUserRow(poolId, created.id);
const authenticator = new SoftAuthenticator('id.example.test', 'https://id.example.test');
const binding = { interactionUid: 'bench' };
const stored = await passkeys.finishRegistration(pool, user.id, authenticator.create(await passkeys.startRegistration(pool, user, binding)), binding);

// Bare library verification (no database), the ceiling.
const options = await passkeys.startAuthentication(pool, undefined, binding);
let started = performance.now();
for (let i = 0; i < count; i += 1) {
  const answer = authenticator.get(options);
  await verifyAuthenticationResponse({
    response: answer as never,
    expectedChallenge: options.challenge,
    expectedOrigin: 'https://id.example.test',
    expectedRPID: 'id.example.test',
    credential: { id: stored.credential_id, publicKey: Buffer.from(stored.public_key, 'base64url'), counter: authenticator.counter - 1 },
  });
}
const bare = count / ((performance.now() - started) / 1000);

started = performance.now();
for (let i = 0; i < count; i += 1) {
  const request = await passkeys.startAuthentication(pool, undefined, binding);
  await passkeys.finishAuthentication(pool, authenticator.get(request), binding);
}
const full = count / ((performance.now() - started) / 1000);
console.log(
  JSON.stringify({
    database: process.env.DATABASE_URL ? 'postgresql' : 'pglite',
    count,
    bareVerificationsPerSecond: Math.round(bare),
    serviceSignInsPerSecond: Math.round(full),
    ratio: +(full / bare).toFixed(2),
  }),
);
await pools.deletePool(poolId);
await handle.close();
