/**
 * Many instances on one PostgreSQL (ADR 0801): two real Tarn processes behind a
 * load balancer that the test steers. A sign-in started on A finishes on B and refreshes
 * on A; a signing key rotated with revoke on A is neither used nor accepted by B within
 * the stated bound. The processes run with a version-check interval of ten minutes, so
 * only LISTEN/NOTIFY can tell B in time. The PostgreSQL server is the test's own.
 */
import { randomBytes } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import * as oidc from 'openid-client';
import { Browser } from '../support/browser.js';
import { REDIRECT_URI } from '../support/fixtures.js';
import { discover, finishAuthorization, startAuthorization } from '../support/relying-party.js';
import { startBalancer, type Balancer } from './support/balancer.js';
import { startPostgresServer, type PostgresServer } from './support/postgres-server.js';
import { startTarnProcess, type TarnProcess } from './support/tarn-process.js';

/** ADR 0801: a change made through one instance is seen by the others within this (NOTIFY path, with margin). */
const PROPAGATION_BOUND_MS = 5000;

let postgres: PostgresServer;
let a: TarnProcess;
let b: TarnProcess;
let lb: Balancer;
const adminToken = `adm_${randomBytes(16).toString('hex')}`;

async function admin(method: string, path: string, body?: unknown) {
  const response = await fetch(`${lb.url}/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function jwksKids(): Promise<string[]> {
  const response = await fetch(`${lb.url}/pools/${poolId}/jwks`);
  const body = (await response.json()) as { keys: { kid: string }[] };
  return body.keys.map((key) => key.kid);
}

let poolId: string;

beforeAll(async () => {
  postgres = await startPostgresServer();
  const databaseUrl = await postgres.createDatabase('tarn_instances');
  // The balancer listens first: its address is every instance's PUBLIC_URL.
  lb = await startBalancer(0, 'http://127.0.0.1:1');
  const portLb = new URL(lb.url).port;
  const env = {
    DATABASE_URL: databaseUrl,
    PUBLIC_URL: `http://127.0.0.1:${portLb}`,
    TARN_ADMIN_TOKEN: adminToken,
    TARN_MASTER_KEY: randomBytes(32).toString('hex'),
    PROVIDER_CHECK_INTERVAL_MS: '600000',
  };
  // A migrates first; B finds the schema in place.
  a = await startTarnProcess(0, env);
  b = await startTarnProcess(0, env);
  lb.target = a.url;
}, 120_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await lb?.close();
  await postgres?.destroy();
});

describe('two Tarn processes on one PostgreSQL', () => {
  it('starts a sign-in on A, finishes it and exchanges the code on B, refreshes on A', async () => {
    lb.target = a.url;
    const pool = await admin('POST', '/pools', { id: `pool-${randomBytes(3).toString('hex')}`, name: 'Shared Pool' });
    expect(pool.status).toBe(201);
    poolId = pool.body.id;
    const app = await admin('POST', `/pools/${poolId}/clients`, { name: 'Two-Instance App', redirectUris: [REDIRECT_URI] });
    // (the policy refuses a password that contains the email's local part: one of hex digits, like "ada",
    // would turn up in a random hex password now and then)
    const password = `pw-${randomBytes(8).toString('hex')}`;
    const user = await admin('POST', `/pools/${poolId}/users`, { email: 'ada.lovelace@example.test', mode: 'password', password });
    expect(user.status).toBe(201);

    const config = await discover(pool.body.issuer, app.body.clientId, app.body.secret.value);
    const browser = new Browser(lb.url);
    const start = await startAuthorization(config, browser);
    expect(start.page.html).toContain('name="password"');
    const servedByA = lb.counts.get(a.url) ?? 0;

    lb.target = b.url;
    const consent = await browser.submit(start.page, { email: 'ada.lovelace@example.test', password });
    const done = await browser.submit(consent, { decision: 'allow' });
    const { tokens } = await finishAuthorization(config, done.leftTo, start);
    expect(tokens.claims()!.sub).toBe(user.body.id);
    expect(lb.counts.get(b.url)).toBeGreaterThanOrEqual(3);
    expect(lb.counts.get(a.url)).toBe(servedByA);

    lb.target = a.url;
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.claims()!.sub).toBe(user.body.id);
    const info = await oidc.fetchUserInfo(config, refreshed.access_token, user.body.id);
    expect(info.email).toBe('ada.lovelace@example.test');
  }, 60_000);

  it('stops B from signing with or accepting a key that A rotated with revoke', async () => {
    lb.target = a.url;
    const app = await admin('POST', `/pools/${poolId}/clients`, {
      name: 'Key Watcher',
      redirectUris: [REDIRECT_URI],
      postLogoutRedirectUris: ['http://rp.example.test/bye'],
    });
    const password = `pw-${randomBytes(8).toString('hex')}`;
    await admin('POST', `/pools/${poolId}/users`, { email: 'grace@example.test', mode: 'password', password });
    const config = await discover(`${lb.url}/pools/${poolId}`, app.body.clientId, app.body.secret.value);

    // B signs the user in and so has the pool's provider, with the current keys, in its cache.
    lb.target = b.url;
    const browser = new Browser(lb.url);
    const start = await startAuthorization(config, browser);
    const consent = await browser.submit(start.page, { email: 'grace@example.test', password });
    const done = await browser.submit(consent, { decision: 'allow' });
    const { tokens } = await finishAuthorization(config, done.leftTo, start);
    const oldKid = decodeProtectedHeader(tokens.id_token!).kid!;
    expect(await jwksKids()).toContain(oldKid);
    const hint = new URL(`${lb.url}/pools/${poolId}/session/end`);
    hint.searchParams.set('id_token_hint', tokens.id_token!);
    expect((await fetch(hint, { headers: { accept: 'text/html' } })).status).toBe(200);

    // A rotates with revoke (a compromise response).
    lb.target = a.url;
    const rotated = await admin('POST', `/pools/${poolId}/keys/rotate`, { revoke: true });
    expect(rotated.status).toBe(200);
    const revoked = rotated.body.items.find((key: { kid: string }) => key.kid === oldKid);
    expect(revoked.status).toBe('revoked');
    const newKid = rotated.body.items.find((key: { alg: string; status: string }) => key.alg === 'RS256' && key.status === 'current').kid;

    // Within the bound, B no longer publishes the revoked key ...
    lb.target = b.url;
    const deadline = Date.now() + PROPAGATION_BOUND_MS;
    let kids = await jwksKids();
    while (kids.includes(oldKid) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      kids = await jwksKids();
    }
    expect(kids).not.toContain(oldKid);
    expect(kids).toContain(newKid);
    // ... no longer accepts an ID token it signed ...
    const refused = await fetch(hint, { headers: { accept: 'text/html' } });
    expect(refused.status).toBe(400);
    // ... and signs new ID tokens with the new key.
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(decodeProtectedHeader(refreshed.id_token!).kid).toBe(newKid);
  }, 60_000);
});
