/**
 * Faults (ADR 0800), on a real Tarn process and a PostgreSQL server of the
 * test's own:
 * - the database stops mid-run: requests fail fast with 503 problem documents, /readyz
 *   says so, and once the database is back Tarn serves again without a restart, with
 *   every admin write acknowledged before the stop still there;
 * - SIGTERM: Tarn stops accepting connections, finishes the request in flight, exits 0;
 * - a header section past the limit is refused with 431.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { startPostgresServer, type PostgresServer } from './support/postgres-server.js';
import { startTarnProcess, type TarnProcess } from './support/tarn-process.js';

let postgres: PostgresServer;
let tarn: TarnProcess;
const adminToken = `adm_${randomBytes(16).toString('hex')}`;
const masterKey = randomBytes(32).toString('hex');
let databaseUrl: string;

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${tarn.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
    // A hanging request fails the test instead of waiting for jest's timeout.
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  let parsed: any;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

async function clientCredentials(poolId: string, clientId: string, secret: string) {
  const response = await fetch(`${tarn.url}/pools/${poolId}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
    body: 'grant_type=client_credentials',
    signal: AbortSignal.timeout(15_000),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, headers: response.headers };
}

async function startTarn(env: Record<string, string> = {}) {
  return startTarnProcess(0, {
    DATABASE_URL: databaseUrl,
    TARN_ADMIN_TOKEN: adminToken,
    TARN_MASTER_KEY: masterKey,
    // Short, so the outage reaches the provider cache's version check within the test too.
    PROVIDER_CHECK_INTERVAL_MS: '200',
    ...env,
  });
}

beforeAll(async () => {
  postgres = await startPostgresServer();
  databaseUrl = await postgres.createDatabase('tarn_faults');
}, 120_000);

afterAll(async () => {
  await tarn?.stop('SIGKILL');
  await postgres?.destroy();
});

describe('the database goes away and comes back', () => {
  it('answers 503 while it is down, serves again when it returns, and has lost no acknowledged write', async () => {
    tarn = await startTarn();
    const poolId = `pool-${randomBytes(3).toString('hex')}`;
    expect((await call('POST', '/admin/pools', { id: poolId, name: 'Outage Pool' })).status).toBe(201);
    const client = await call('POST', `/admin/pools/${poolId}/clients`, { name: 'Service', grantTypes: ['client_credentials'] });
    expect(client.status).toBe(201);
    const emails: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      const email = `user${i}@example.test`;
      const created = await call('POST', `/admin/pools/${poolId}/users`, { email, mode: 'password', password: `pw-${randomBytes(6).toString('hex')}` });
      expect(created.status).toBe(201);
      emails.push(email);
    }
    expect((await call('PATCH', `/admin/pools/${poolId}`, { name: 'Outage Pool (renamed)' })).status).toBe(200);
    expect((await clientCredentials(poolId, client.body.clientId, client.body.secret.value)).status).toBe(200);
    const webApp = await call('POST', `/admin/pools/${poolId}/clients`, { name: 'Web', redirectUris: ['http://rp.example.test/callback'] });
    const authorize = `${tarn.url}/pools/${poolId}/auth?${new URLSearchParams({ client_id: webApp.body.clientId, response_type: 'code', scope: 'openid', redirect_uri: 'http://rp.example.test/callback', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })}`;
    const started = await fetch(authorize, { redirect: 'manual' });
    expect(started.status).toBe(303);
    const loginUrl = new URL(started.headers.get('location')!, tarn.url).href;
    const interactionCookies = started.headers
      .getSetCookie()
      .map((line) => line.split(';')[0])
      .join('; ');

    await postgres.stop('immediate');

    const ready = await call('GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ status: 'database unreachable' });
    expect((await call('GET', '/healthz')).status).toBe(200);

    const read = await call('GET', `/admin/pools/${poolId}/users`);
    expect(read.status).toBe(503);
    expect(read.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(read.headers.get('retry-after')).toBeTruthy();
    expect(read.body).toMatchObject({ status: 503, title: 'Service unavailable' });
    const write = await call('POST', `/admin/pools/${poolId}/users`, { email: 'during@example.test', mode: 'password', password: 'pw-while-down-1' });
    expect(write.status).toBe(503);
    await new Promise((resolve) => setTimeout(resolve, 300)); // past the provider cache's check interval
    const token = await clientCredentials(poolId, client.body.clientId, client.body.secret.value);
    expect(token.status).toBe(503);
    expect(token.headers.get('retry-after')).toBeTruthy();
    // A browser starting a sign-in gets a page saying so, not a 500.
    const page = await fetch(authorize, { redirect: 'manual', headers: { accept: 'text/html' }, signal: AbortSignal.timeout(15_000) });
    expect(page.status).toBe(503);
    // A sign-in already under way says the service is away, not that the sign-in expired.
    const login = await fetch(loginUrl, { headers: { cookie: interactionCookies, accept: 'text/html' }, signal: AbortSignal.timeout(15_000) });
    expect(login.status).toBe(503);
    expect(await login.text()).toContain('Temporarily unavailable');

    await postgres.start();
    let readyAgain = await call('GET', '/readyz');
    for (let i = 0; i < 100 && readyAgain.status !== 200; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      readyAgain = await call('GET', '/readyz');
    }
    expect(readyAgain.body).toEqual({ status: 'ready' });

    // Same process: nothing restarted it.
    expect(tarn.child.exitCode).toBeNull();
    const pool = await call('GET', `/admin/pools/${poolId}`);
    expect(pool.body.name).toBe('Outage Pool (renamed)');
    const listed = await call('GET', `/admin/pools/${poolId}/users?limit=200`);
    expect(listed.body.items.map((user: { email: string }) => user.email).sort()).toEqual([...emails].sort());
    expect((await clientCredentials(poolId, client.body.clientId, client.body.secret.value)).status).toBe(200);
    expect((await call('POST', `/admin/pools/${poolId}/users`, { email: 'after@example.test', mode: 'password', password: 'pw-back-again-1' })).status).toBe(
      201,
    );
    // Every acknowledged creation has its audit entry; the refused one during the outage has none.
    const audit = await call('GET', `/admin/pools/${poolId}/audit?action=users.create&outcome=success&limit=200`);
    expect(audit.body.items).toHaveLength(11);
  }, 120_000);
});

describe('SIGTERM', () => {
  it('stops accepting, finishes the request in flight, closes the database and exits 0', async () => {
    await tarn?.stop('SIGKILL');
    tarn = await startTarn({ SHUTDOWN_GRACE_MS: '20000' });
    const poolId = `pool-${randomBytes(3).toString('hex')}`;
    const body = JSON.stringify({ id: poolId, name: 'Created while draining' });

    // A request whose body is still arriving when SIGTERM comes.
    const inFlight = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${tarn.url}/admin/pools`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.write(body.slice(0, 10));
      setTimeout(async () => {
        tarn.child.kill('SIGTERM');
        const draining = await tarn.waitForLine(/"msg":"draining"/);
        if (!draining.includes('"inFlight":1')) reject(new Error(`expected one request in flight: ${draining}`));
        // No new connections once draining.
        const refused = await new Promise<boolean>((done) => {
          const socket = connect(tarn.port, '127.0.0.1');
          socket.once('connect', () => {
            socket.destroy();
            done(false);
          });
          socket.once('error', () => done(true));
        });
        req.end(body.slice(10));
        if (!refused) reject(new Error(`a new connection was accepted while draining:\n${tarn.lines.join('\n')}`));
      }, 300);
    });

    const answered = await inFlight;
    expect(answered.status).toBe(201);
    expect(JSON.parse(answered.body).id).toBe(poolId);
    expect(await tarn.exited).toBe(0);
    expect(tarn.lines.some((line) => line.includes('"msg":"stopped"'))).toBe(true);

    // The write it acknowledged while draining is there for the next process.
    tarn = await startTarn();
    expect((await call('GET', `/admin/pools/${poolId}`)).status).toBe(200);
  }, 120_000);

  it('refuses a header section larger than MAX_HEADER_BYTES with 431', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${tarn.url}/healthz`, { headers: { 'x-padding': 'a'.repeat(20_000) } });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(431);
    expect((await call('GET', '/healthz')).status).toBe(200);
  }, 30_000);
});
