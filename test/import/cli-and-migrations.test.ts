/**
 * Moving a whole realm with one command: `tarn` runs as a child process against a Tarn,
 * the way an operator runs it. A Keycloak realm export becomes a pool whose users sign in
 * with their old passwords and get their nested groups in the `groups` claim; an Auth0
 * export with bcrypt hashes imports the same way; the other commands drive the admin API.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcryptjs';
import { discover, signIn } from '../support/relying-party.js';
import { createPool, uniqueId } from '../support/fixtures.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

const CLI = fileURLToPath(new URL('../../bin/tarn.js', import.meta.url));
const REALM = fileURLToPath(new URL('../fixtures/keycloak-realm-acme.json', import.meta.url));

let tarn: RunningTarn;
let dir: string;
beforeAll(async () => {
  tarn = await startTarn();
  dir = mkdtempSync(join(tmpdir(), 'tarn-cli-'));
});
afterAll(async () => {
  await tarn.close();
});

function tarnCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { PATH: process.env.PATH, TARN_URL: tarn.url, TARN_ADMIN_TOKEN: tarn.adminToken, ...env } },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('tarn import keycloak', () => {
  it('turns a realm export into a pool whose users sign in with their old passwords and get their groups', async () => {
    const poolId = uniqueId('acme');
    const run = await tarnCli(['import', 'keycloak', REALM, '--pool', poolId]);
    expect(run.stderr).not.toContain('Error');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Pool ${poolId}`);
    expect(run.stdout).toContain('Client acme-portal (secret kept)');
    expect(run.stdout).toContain('Client acme-dashboard');
    expect(run.stdout).toContain('2 created, 0 updated, 0 skipped, 0 failed');
    // What Tarn has no place for is named, not silently dropped.
    expect(run.stdout).toContain('user service-robot: no email address');
    expect(run.stdout).toContain('user grace: a otp credential');
    expect(run.stdout).toContain('redirect URI "https://portal.acme.example/*"');
    expect(run.stdout).toContain('realm roles');

    const pool = (await tarn.admin('GET', `/pools/${poolId}`)).body;
    const portal = (await tarn.admin('GET', `/pools/${poolId}/clients/acme-portal`)).body;
    expect(portal).toMatchObject({
      redirectUris: ['http://rp.example.test/callback'],
      postLogoutRedirectUris: ['http://rp.example.test/signed-out', 'https://portal.acme.example/bye'],
    });
    expect((await tarn.admin('GET', `/pools/${poolId}/clients/acme-dashboard`)).body).toMatchObject({
      tokenEndpointAuthMethod: 'none',
      redirectUris: ['http://localhost:5173/callback', 'http://localhost:5173/silent-renew'],
    });

    // The portal keeps its Keycloak secret: the relying party changes nothing but the issuer.
    const config = await discover(pool.issuer, 'acme-portal', 'pK9vR2mX7qL4tW8zN3bF6hJ1cY5dS0aE');
    const ada = await signIn(config, tarn.url, { email: 'ada@acme.example', password: 'Ada-old-password-1815' }, { scope: 'openid email groups' });
    const adaClaims = ada.tokens.claims()!;
    expect(adaClaims.sub).toBe('5f2b8a3e-1c4d-4e6f-8a9b-0c1d2e3f4a5b'); // Keycloak's user id
    expect(adaClaims.groups).toEqual(['contractors', 'engineering', 'platform', 'staff']);
    const grace = await signIn(config, tarn.url, { email: 'grace@acme.example', password: 'Grace-old-password-1906' }, { scope: 'openid groups' });
    expect(grace.tokens.claims()!.groups).toEqual(['sales', 'staff']);

    const stored = await tarn.database.handle.db.selectFrom('users').select('password_hash').where('pool_id', '=', poolId).execute();
    expect(stored.map((row) => row.password_hash!.slice(0, 10))).toEqual(['$argon2id$', '$argon2id$']);
  });
});

describe('applications that keep their credentials', () => {
  it('takes an existing client id and secret once per pool, and no secret for a public client', async () => {
    const pool = await createPool(tarn);
    const create = (body: Record<string, unknown>) =>
      tarn.admin('POST', `/pools/${pool.id}/clients`, { name: 'Moved', redirectUris: ['http://rp.example.test/callback'], ...body });
    expect((await create({ clientId: 'legacy-app', clientSecret: 'a-secret-from-elsewhere-123' })).body).toMatchObject({
      clientId: 'legacy-app',
      secret: { value: 'a-secret-from-elsewhere-123', createdAt: expect.any(String), expiresAt: null },
    });
    const again = await create({ clientId: 'legacy-app' });
    expect(again.status).toBe(409);
    expect(again.body.errors[0]).toMatchObject({ field: 'clientId' });
    const publicWithSecret = await create({ clientId: 'spa', tokenEndpointAuthMethod: 'none', clientSecret: 'a-secret-from-elsewhere-123' });
    expect(publicWithSecret.status).toBe(400);
    expect(publicWithSecret.body.errors[0]).toMatchObject({ field: 'clientSecret' });
    expect((await create({ clientId: 'has space' })).body.errors[0]).toMatchObject({ field: 'clientId' });
  });
});

describe('tarn import auth0', () => {
  it('imports an Auth0 export with bcrypt hashes, and the users sign in with their old passwords', async () => {
    const pool = await createPool(tarn);
    const client = (await tarn.admin('POST', `/pools/${pool.id}/clients`, { name: 'App', redirectUris: ['http://rp.example.test/callback'] })).body;
    const file = join(dir, 'auth0.ndjson');
    writeFileSync(
      file,
      [
        JSON.stringify({
          _id: { $oid: '60a1b2c3d4e5f60718293a4b' },
          email: 'kim@example.test',
          email_verified: true,
          passwordHash: bcrypt.hashSync('kim-old-password', 10),
          tenant: 'acme',
          connection: 'Username-Password-Authentication',
        }),
        JSON.stringify({
          user_id: 'auth0|60a1b2c3',
          email: 'lee@example.test',
          email_verified: false,
          name: 'Lee',
          created_at: '2021-05-01T10:00:00.000Z',
          user_metadata: { plan: 'pro' },
        }),
        JSON.stringify({ user_id: 'auth0|broken', email_verified: true }),
      ].join('\n'),
    );
    const run = await tarnCli(['import', 'auth0', pool.id, file]);
    expect(run.code).toBe(1); // one line failed
    expect(run.stdout).toContain('2 created, 0 updated, 0 skipped, 1 failed');
    expect(run.stdout).toMatch(/line 3: email: /);
    const config = await discover(pool.issuer, client.clientId, client.secret.value);
    const { tokens } = await signIn(config, tarn.url, { email: 'kim@example.test', password: 'kim-old-password' });
    expect(tokens.claims()!.email).toBe('kim@example.test');
    const lee = (await tarn.admin('GET', `/pools/${pool.id}/users?email=lee@example.test`)).body.items[0];
    expect(lee).toMatchObject({
      profile: { name: 'Lee' },
      metadata: { auth0: { userId: 'auth0|60a1b2c3' }, userMetadata: { plan: 'pro' } },
      createdAt: '2021-05-01T10:00:00.000Z',
    });
  });
});

describe('tarn', () => {
  it('creates and lists pools and clients, imports and exports users, rotates keys and secrets', async () => {
    const poolId = uniqueId('cli');
    const created = await tarnCli(['pools', 'create', poolId, '--name', 'From the CLI']);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ id: poolId, name: 'From the CLI', secret: { value: expect.stringMatching(/^tps_/) } });
    expect((await tarnCli(['pools', 'list'])).stdout).toContain(`${poolId}\tFrom the CLI`);

    const client = await tarnCli(['clients', 'create', poolId, '--name', 'Portal', '--redirect-uri', 'https://portal.example.test/cb']);
    expect(JSON.parse(client.stdout)).toMatchObject({
      name: 'Portal',
      redirectUris: ['https://portal.example.test/cb'],
      secret: { value: expect.stringMatching(/^tcs_/) },
    });

    const file = join(dir, 'users.csv');
    writeFileSync(file, 'email,profile.name\nann@example.test,Ann\nnot-an-email,Nobody\nbo@example.test,Bo\n');
    const imported = await tarnCli(['users', 'import', poolId, file]);
    expect(imported.code).toBe(1);
    expect(imported.stdout).toContain('2 created, 0 updated, 0 skipped, 1 failed');
    expect(imported.stdout).toContain('line 3: email: Must be an email address.');

    const output = join(dir, 'export.ndjson');
    const exported = await tarnCli(['users', 'export', poolId, '--output', output]);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain(`2 users written to ${output}`);
    const lines = readFileSync(output, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((user) => user.email).sort()).toEqual(['ann@example.test', 'bo@example.test']);

    const keys = await tarnCli(['keys', 'rotate', poolId]);
    expect(keys.code).toBe(0);
    expect(keys.stdout).toMatch(/\tcurrent/);
    expect(keys.stdout).toMatch(/\tnext/);
    const secrets = await tarnCli(['secrets', 'rotate', poolId]);
    expect(JSON.parse(secrets.stdout).items.map((item: { status: string }) => item.status)).toEqual(expect.arrayContaining(['current', 'next']));
  });

  it('prints problems readably and exits non-zero', async () => {
    const wrongToken = await tarnCli(['pools', 'list'], { TARN_ADMIN_TOKEN: 'not-the-token-at-all' });
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stderr).toContain('Unauthorized (401): The credentials are not valid.');
    const invalid = await tarnCli(['pools', 'create', 'X!']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/Invalid request \(400\)/);
    expect(invalid.stderr).toMatch(/\n {2}id: /);
    const usage = await tarnCli(['frobnicate']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('Usage: tarn');
    const noServer = await tarnCli(['pools', 'list'], { TARN_URL: 'http://127.0.0.1:9' });
    expect(noServer.stderr).toContain('Cannot reach the server');
  });
});
