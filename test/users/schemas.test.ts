/**
 * Pool user schemas (JSON Schema) and the self-service profile:
 * - every profile/metadata write is checked, with one field error per problem;
 * - a pool without a profileSchema accepts the OIDC standard claims and nothing else;
 * - a schema that does not compile is refused when it is set on the pool;
 * - a schema change keeps existing data as it is; the next write must satisfy it;
 * - GET/PATCH /pools/{pool}/me with the user's access token: profile only, never
 *   metadata or email; claims in tokens follow the granted scopes.
 */
import * as oidc from 'openid-client';
import { createClient, createPool, createUser } from '../support/fixtures.js';
import { discover, signIn } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn?.close();
});

const employeeSchema = {
  type: 'object',
  required: ['given_name', 'department'],
  properties: {
    given_name: { type: 'string', minLength: 1 },
    family_name: { type: 'string' },
    department: { type: 'string', enum: ['sales', 'support'], title: 'Department' },
    badge: { type: 'integer', minimum: 1 },
  },
  additionalProperties: false,
};

const fieldsOf = (body: { errors?: { field: string }[] }) => (body.errors ?? []).map((error) => error.field).sort();

async function me(issuer: string, token: string, method = 'GET', body?: unknown) {
  const response = await fetch(`${issuer}/me`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, type: response.headers.get('content-type'), body: await response.json() };
}

describe('admin writes', () => {
  it('refuses profiles and metadata that break the schemas, naming each field', async () => {
    const pool = await createPool(tarn, {
      profileSchema: employeeSchema,
      metadataSchema: { type: 'object', properties: { tier: { enum: ['gold', 'silver'] } } },
    });
    const bad = await tarn.admin('POST', `/pools/${pool.id}/users`, {
      email: 'a@example.test',
      mode: 'password',
      password: 'long enough password',
      profile: { department: 'legal', badge: 0, shoe_size: 42 },
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    expect(fieldsOf(bad.body)).toEqual(['profile.badge', 'profile.department', 'profile.given_name', 'profile.shoe_size']);

    const badMetadata = await tarn.admin('POST', `/pools/${pool.id}/users`, {
      email: 'a@example.test',
      mode: 'password',
      password: 'long enough password',
      profile: { given_name: 'Ann', department: 'sales' },
      metadata: { tier: 'bronze' },
    });
    expect(fieldsOf(badMetadata.body)).toEqual(['metadata.tier']);

    const good = await createUser(tarn, pool.id, { profile: { given_name: 'Ann', department: 'sales' }, metadata: { tier: 'gold' } });
    const patched = await tarn.admin('PATCH', `/pools/${pool.id}/users/${good.id}`, { profile: { given_name: '', department: 'sales' } });
    expect(patched.status).toBe(400);
    expect(fieldsOf(patched.body)).toEqual(['profile.given_name']);
  });

  it('without a profileSchema, the OIDC standard claims are accepted and checked; other attributes are not', async () => {
    const pool = await createPool(tarn);
    const ok = await createUser(tarn, pool.id, {
      profile: { name: 'Ann Lee', picture: 'https://example.test/ann.png', locale: 'en-GB', birthdate: '1990-04-01' },
    });
    expect(ok.id).toBeDefined();
    const bad = await tarn.admin('POST', `/pools/${pool.id}/users`, {
      email: 'b@example.test',
      mode: 'password',
      password: 'long enough password',
      profile: { picture: 'not a url', birthdate: 'April', favourite_colour: 'red' },
    });
    expect(bad.status).toBe(400);
    expect(fieldsOf(bad.body)).toEqual(['profile.birthdate', 'profile.favourite_colour', 'profile.picture']);
  });

  it('refuses a schema that is not valid JSON Schema, on creation and on change', async () => {
    const created = await tarn.admin('POST', '/pools', { name: 'Broken', profileSchema: { type: 'object', properties: { age: { type: 'whole number' } } } });
    expect(created.status).toBe(400);
    expect(fieldsOf(created.body)[0]).toMatch(/^profileSchema/);
    const pool = await createPool(tarn);
    const changed = await tarn.admin('PATCH', `/pools/${pool.id}`, { profileSchema: { type: 'object', required: 'name' } });
    expect(changed.status).toBe(400);
    expect(fieldsOf(changed.body)[0]).toMatch(/^profileSchema/);
    const unresolved = await tarn.admin('PATCH', `/pools/${pool.id}`, {
      metadataSchema: { type: 'object', properties: { x: { $ref: 'https://elsewhere.example/schema.json' } } },
    });
    expect(unresolved.status).toBe(400);
    expect(fieldsOf(unresolved.body)).toEqual(['metadataSchema']);
  });

  it('a schema change keeps existing users as they are; their next write must satisfy the new schema', async () => {
    const pool = await createPool(tarn, { profileSchema: { type: 'object', properties: { given_name: { type: 'string' } } } });
    const user = await createUser(tarn, pool.id, { profile: { given_name: 'Ann' } });
    expect((await tarn.admin('PATCH', `/pools/${pool.id}`, { profileSchema: employeeSchema })).status).toBe(200);

    // Stored data is returned unchanged: nothing is rewritten or dropped behind the admin's back.
    const read = await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}`);
    expect(read.body.profile).toEqual({ given_name: 'Ann' });
    // Changes that do not touch the profile still work.
    expect((await tarn.admin('PATCH', `/pools/${pool.id}/users/${user.id}`, { emailVerified: true })).status).toBe(200);
    // A profile write must satisfy the new schema.
    const write = await tarn.admin('PATCH', `/pools/${pool.id}/users/${user.id}`, { profile: { given_name: 'Ann' } });
    expect(write.status).toBe(400);
    expect(fieldsOf(write.body)).toEqual(['profile.department']);
    expect((await tarn.admin('PATCH', `/pools/${pool.id}/users/${user.id}`, { profile: { given_name: 'Ann', department: 'support' } })).status).toBe(200);
  });
});

describe('/pools/{pool}/me', () => {
  async function signedIn(scope: string, poolFields: Record<string, unknown> = {}, userFields: Record<string, unknown> = {}) {
    const pool = await createPool(tarn, poolFields);
    const app = await createClient(tarn, pool.id);
    const user = await createUser(tarn, pool.id, {
      profile: { name: 'Ann Lee', given_name: 'Ann' },
      metadata: { plan: 'enterprise', internalScore: 7 },
      ...userFields,
    });
    const config = await discover(pool.issuer, app.clientId, app.secret?.value);
    const { tokens } = await signIn(config, tarn.url, user, { scope });
    return { pool, user, config, tokens };
  }

  it('shows the user their profile and email, never their metadata', async () => {
    const { pool, user, tokens } = await signedIn('openid profile email');
    const response = await me(pool.issuer, tokens.access_token);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ sub: user.id, email: user.email, profile: { name: 'Ann Lee', given_name: 'Ann' } });
    expect(JSON.stringify(response.body)).not.toContain('enterprise');
    expect(response.body.metadata).toBeUndefined();
  });

  it('lets the user edit their profile (schema-checked), but not metadata, email or status', async () => {
    const { pool, user, tokens } = await signedIn('openid profile');
    const changed = await me(pool.issuer, tokens.access_token, 'PATCH', { profile: { nickname: 'annie', given_name: null } });
    expect(changed.status).toBe(200);
    expect(changed.body.profile).toEqual({ name: 'Ann Lee', nickname: 'annie' });

    const invalid = await me(pool.issuer, tokens.access_token, 'PATCH', { profile: { picture: 'not a url' } });
    expect(invalid.status).toBe(400);
    expect(invalid.type).toContain('application/problem+json');
    expect(fieldsOf(invalid.body)).toEqual(['profile.picture']);

    const sneaky = await me(pool.issuer, tokens.access_token, 'PATCH', {
      profile: {},
      metadata: { plan: 'free' },
      email: 'new@example.test',
      status: 'active',
    });
    expect(sneaky.status).toBe(400);
    expect(fieldsOf(sneaky.body)).toEqual(['email', 'metadata', 'status']);

    const admin = await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}`);
    expect(admin.body.metadata).toEqual({ plan: 'enterprise', internalScore: 7 });
    expect(admin.body.email).toBe(user.email);
    expect(admin.body.profile).toEqual({ name: 'Ann Lee', nickname: 'annie' });
  });

  it('refuses requests without a valid token of this pool, as problem documents', async () => {
    const a = await signedIn('openid profile');
    const b = await signedIn('openid profile');
    const none = await fetch(`${a.pool.issuer}/me`);
    expect(none.status).toBe(401);
    expect(none.headers.get('content-type')).toContain('application/problem+json');
    expect((await me(a.pool.issuer, 'not-a-token')).status).toBe(401);
    // Pool B's token at pool A.
    const cross = await me(a.pool.issuer, b.tokens.access_token);
    expect(cross.status).toBe(401);
    expect(cross.body.type).toContain('invalid-token');
  });

  it('needs the openid scope', async () => {
    const pool = await createPool(tarn);
    const app = await createClient(tarn, pool.id, { grantTypes: ['client_credentials'], redirectUris: [] });
    const config = await discover(pool.issuer, app.clientId, app.secret?.value);
    const machine = await oidc.clientCredentialsGrant(config, {});
    expect((await me(pool.issuer, machine.access_token)).status).toBe(401);
  });

  it('claims in tokens and userinfo follow the granted scopes', async () => {
    const narrow = await signedIn('openid email', {}, { phone: '+44 20 7946 0000' });
    const idClaims = narrow.tokens.claims()!;
    expect(idClaims.email).toBe(narrow.user.email);
    expect(idClaims.name).toBeUndefined();
    expect(idClaims.phone_number).toBeUndefined();
    const info = await oidc.fetchUserInfo(narrow.config, narrow.tokens.access_token, narrow.user.id);
    expect(info.email).toBe(narrow.user.email);
    expect(info.given_name).toBeUndefined();
    expect(JSON.stringify(info)).not.toContain('enterprise');

    const wide = await signedIn('openid profile phone', {}, { phone: '+44 20 7946 0000' });
    const wideInfo = await oidc.fetchUserInfo(wide.config, wide.tokens.access_token, wide.user.id);
    expect(wideInfo).toMatchObject({ name: 'Ann Lee', given_name: 'Ann', phone_number: '+44 20 7946 0000' });
    expect(wideInfo.email).toBeUndefined();
    expect(JSON.stringify(wideInfo)).not.toContain('enterprise');
  });
});
