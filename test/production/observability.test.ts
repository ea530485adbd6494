/**
 * Observability (ADR 0803): one JSON log line per request with request id, pool id, route,
 * status and duration; never a password, code, secret or token in any line (scanned over
 * a whole sign-in, refresh, userinfo and admin session); /metrics in Prometheus text
 * format with request, sign-in, token and provider-cache series.
 */
import { Writable } from 'node:stream';
import * as oidc from 'openid-client';
import { createLogger } from '../../src/log.js';
import { createClient, createPool, createUser } from '../support/fixtures.js';
import { discover, signIn } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

const lines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  },
});

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn({}, undefined, { log: createLogger('trace', sink) });
});
afterAll(async () => {
  await tarn.close();
});

describe('logs', () => {
  it('log a full sign-in without any password, code, secret or token, one line per request', async () => {
    const pool = await createPool(tarn);
    const app = await createClient(tarn, pool.id);
    const user = await createUser(tarn, pool.id);
    const rotated = await tarn.admin('POST', `/pools/${pool.id}/secrets/rotate`);
    const config = await discover(pool.issuer, app.clientId, app.secret?.value);
    // A wrong password first: failures must not log what was typed either.
    const wrong = `wrong-${user.password}`;
    const { tokens, callback, browser } = await signIn(config, tarn.url, user);
    const login = await browser.get(
      `${pool.issuer}/auth?${new URLSearchParams({ client_id: app.clientId, response_type: 'code', scope: 'openid', redirect_uri: 'http://rp.example.test/callback', prompt: 'login', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })}`,
    );
    await browser.submit(login, { email: user.email, password: wrong });
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    await oidc.fetchUserInfo(config, refreshed.access_token, user.id);
    await oidc.tokenIntrospection(config, refreshed.access_token);
    await oidc.tokenRevocation(config, refreshed.refresh_token!);

    const code = callback.searchParams.get('code')!;
    const secrets = {
      password: user.password,
      wrong,
      code,
      clientSecret: app.secret!.value,
      poolSecret: pool.secret.value,
      poolNextSecret: pool.nextSecret.value,
      rotatedSecret: rotated.body.nextSecret.value,
      adminToken: tarn.adminToken,
      accessToken: tokens.access_token,
      idToken: tokens.id_token!,
      refreshToken: tokens.refresh_token!,
      refreshedAccess: refreshed.access_token,
      refreshedRefresh: refreshed.refresh_token!,
    };
    const text = lines.join('\n');
    for (const [name, value] of Object.entries(secrets)) {
      expect({ name, found: text.includes(value) }).toEqual({ name, found: false });
    }

    const requests = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === 'request');
    const token = requests.find((line) => line.route === '/pools/:pool [oidc token]')!;
    expect(token).toMatchObject({ method: 'POST', path: `/pools/${pool.id}/token`, poolId: pool.id, status: 200 });
    expect(typeof token.reqId).toBe('string');
    expect(typeof token.durationMs).toBe('number');
    const authorize = requests.find((line) => line.route === '/pools/:pool [oidc authorization]')!;
    expect(authorize.path).toBe(`/pools/${pool.id}/auth`);
    const failedLogin = requests.find((line) => line.route === '/pools/:pool/interaction/:uid/login' && line.status === 401)!;
    expect(failedLogin.poolId).toBe(pool.id);
    const adminLine = requests.find((line) => line.route === '/admin/pools/:pool/users' && line.method === 'POST')!;
    expect(adminLine).toMatchObject({ poolId: pool.id, status: 201 });
  });

  it("echoes a caller's request id and logs it", async () => {
    const response = await fetch(`${tarn.url}/healthz`, { headers: { 'x-request-id': 'trace-me-123' } });
    expect(response.headers.get('x-request-id')).toBe('trace-me-123');
    expect(lines.some((line) => line.includes('"reqId":"trace-me-123"') && line.includes('"route":"/healthz"'))).toBe(true);
  });

  it("keep who deleted a pool, since the pool's audit trail is deleted with it", async () => {
    const pool = await createPool(tarn);
    expect((await tarn.admin('DELETE', `/pools/${pool.id}`)).status).toBe(204);
    const line = lines
      .map((text) => JSON.parse(text) as Record<string, any>)
      .find((entry) => entry.msg === 'audit event of a deleted pool' && entry.poolId === pool.id);
    expect(line).toMatchObject({ action: 'pool.delete', actor: { kind: 'admin' }, target: { type: 'pool', id: pool.id } });
  });
});

describe('/metrics', () => {
  it('exposes request, sign-in, token and provider cache series in Prometheus text format', async () => {
    const pool = await createPool(tarn);
    const app = await createClient(tarn, pool.id, { grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'] });
    const user = await createUser(tarn, pool.id);
    const config = await discover(pool.issuer, app.clientId, app.secret?.value);
    await signIn(config, tarn.url, user);
    await oidc.clientCredentialsGrant(config);

    const response = await fetch(`${tarn.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toMatch(/tarn_http_requests_total\{method="POST",route="\/pools\/:pool \[oidc token\]",status="200"\} \d+/);
    expect(text).toMatch(/tarn_http_request_duration_seconds_bucket\{le="0\.1",method="GET",route="\/pools\/:pool \[oidc discovery\]",status="200"\} \d+/);
    expect(text).toMatch(/tarn_sign_ins_total\{method="password",outcome="success"\} [1-9]/);
    expect(text).toMatch(/tarn_sign_ins_total\{method="password",outcome="failure"\} [1-9]/);
    expect(text).toMatch(/tarn_token_requests_total\{grant_type="authorization_code",outcome="success"\} [1-9]/);
    expect(text).toMatch(/tarn_token_requests_total\{grant_type="client_credentials",outcome="success"\} [1-9]/);
    expect(text).toMatch(/tarn_tokens_issued_total\{type="refresh_token"\} [1-9]/);
    expect(text).toMatch(/tarn_provider_cache_size [1-9]/);
    expect(text).toMatch(/tarn_provider_cache_hits [1-9]/);
    expect(text).toMatch(/tarn_process_resident_memory_bytes \d+/);
    // Route labels are templates: no pool id, user id or interaction uid in any label.
    expect(text).not.toContain(pool.id);
    expect(text).not.toContain(user.id);
  });

  it('asks for METRICS_TOKEN when one is set', async () => {
    const guarded = await startTarn({ METRICS_TOKEN: 'metrics-token-0123456789' });
    try {
      expect((await fetch(`${guarded.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${guarded.url}/metrics`, { headers: { authorization: 'Bearer metrics-token-0123456789' } })).status).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});
