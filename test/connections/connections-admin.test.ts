/**
 * An administrator connects a pool to upstream identity providers through the admin API:
 * oidc by issuer, oauth2 by endpoints, presets that need only a client id and secret, a
 * secret sealed at rest and never answered, a claim mapping checked against the pool's
 * profile schema, linked identities listed and unlinked, and nothing of pool A visible at
 * pool B, even with pool B's own secret.
 */
import { randomUUID } from 'node:crypto';
import { createPool, createUser } from '../support/fixtures.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn.close();
});

const fieldsOf = (body: { errors?: { field: string }[] }) => (body.errors ?? []).map((error) => error.field);

function basic(poolId: string, secret: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${poolId}:${secret}`).toString('base64')}` };
}

describe('connection CRUD', () => {
  it('creates an oidc connection by issuer, seals its secret and never answers it', async () => {
    const pool = await createPool(tarn);
    const created = await tarn.admin('POST', `/pools/${pool.id}/connections`, {
      name: 'partner-idp',
      type: 'oidc',
      displayName: 'Partner',
      issuer: 'https://idp.partner.example/',
      clientId: 'tarn-downstream',
      clientSecret: 'upstream-secret-value',
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/admin/pools/${pool.id}/connections/${created.body.id}`);
    expect(created.body).toMatchObject({
      name: 'partner-idp',
      type: 'oidc',
      displayName: 'Partner',
      issuer: 'https://idp.partner.example/',
      hasSecret: true,
      scopes: ['openid', 'email', 'profile'],
      emailVerified: 'claim',
      provisioning: 'just_in_time',
      hidden: false,
      enabled: true,
      callbackUrl: `${tarn.config.publicUrl}/pools/${pool.id}/connections/partner-idp/callback`,
    });
    expect(JSON.stringify(created.body)).not.toContain('upstream-secret-value');

    const row = await tarn.database.handle.db.selectFrom('connections').select('secret_enc').where('pool_id', '=', pool.id).executeTakeFirstOrThrow();
    expect(row.secret_enc).toMatch(/^v1\./);
    expect(row.secret_enc).not.toContain('upstream-secret-value');

    const read = await tarn.admin('GET', `/pools/${pool.id}/connections/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(JSON.stringify(read.body)).not.toContain('upstream-secret-value');
  });

  it('expands presets to their documented endpoints with only a client id and secret', async () => {
    const pool = await createPool(tarn);
    const google = await tarn.admin('POST', `/pools/${pool.id}/connections`, { name: 'google', preset: 'google', clientId: 'g', clientSecret: 's' });
    expect(google.status).toBe(201);
    expect(google.body).toMatchObject({ type: 'oidc', displayName: 'Google', issuer: 'https://accounts.google.com' });

    const single = await tarn.admin('POST', `/pools/${pool.id}/connections`, {
      name: 'contoso',
      preset: 'microsoft',
      tenant: 'contoso.onmicrosoft.com',
      clientId: 'm',
      clientSecret: 's',
    });
    expect(single.status).toBe(201);
    expect(single.body.issuer).toBe('https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0');
    const multi = await tarn.admin('POST', `/pools/${pool.id}/connections`, { name: 'microsoft', preset: 'microsoft', clientId: 'm', clientSecret: 's' });
    expect(multi.body.issuer).toBe('https://login.microsoftonline.com/common/v2.0');

    const github = await tarn.admin('POST', `/pools/${pool.id}/connections`, { name: 'github', preset: 'github', clientId: 'gh', clientSecret: 's' });
    expect(github.status).toBe(201);
    expect(github.body).toMatchObject({
      type: 'oauth2',
      authorizationEndpoint: 'https://github.com/login/oauth/authorize',
      tokenEndpoint: 'https://github.com/login/oauth/access_token',
      profileEndpoint: 'https://api.github.com/user',
    });

    const apple = await tarn.admin('POST', `/pools/${pool.id}/connections`, { name: 'apple', preset: 'apple', clientId: 'a', clientSecret: 's' });
    expect(apple.body).toMatchObject({ type: 'oidc', issuer: 'https://appleid.apple.com' });

    const list = await tarn.admin('GET', `/pools/${pool.id}/connections`);
    expect(list.body.items.map((item: { name: string }) => item.name)).toEqual(['apple', 'contoso', 'github', 'google', 'microsoft']);
  });

  it('keeps an allow-list of tenants for a multi-tenant Microsoft connection, and nowhere else', async () => {
    const pool = await createPool(tarn);
    const tenant = '72F988BF-86F1-41AF-91AB-2D7CD011DB47';
    const multi = await tarn.admin('POST', `/pools/${pool.id}/connections`, {
      name: 'work',
      preset: 'microsoft',
      tenants: [tenant],
      clientId: 'm',
      clientSecret: 's',
    });
    expect(multi.status).toBe(201);
    expect(multi.body).toMatchObject({ tenant: 'common', tenants: [tenant.toLowerCase()] });

    const notGuid = await tarn.admin('PATCH', `/pools/${pool.id}/connections/${multi.body.id}`, { tenants: ['contoso.com'] });
    expect(notGuid.status).toBe(400);
    expect(fieldsOf(notGuid.body)).toEqual(['tenants.0']);

    const single = await tarn.admin('POST', `/pools/${pool.id}/connections`, {
      name: 'contoso',
      preset: 'microsoft',
      tenant,
      tenants: [tenant],
      clientId: 'm',
      clientSecret: 's',
    });
    expect(single.status).toBe(400);
    expect(fieldsOf(single.body)).toEqual(['tenants']);
    const other = await tarn.admin('POST', `/pools/${pool.id}/connections`, {
      name: 'other',
      type: 'oidc',
      issuer: 'https://idp.example',
      tenants: [tenant],
      clientId: 'c',
      clientSecret: 's',
    });
    expect(fieldsOf(other.body)).toEqual(['tenants']);
  });

  it('makes a signing key for private_key_jwt, seals its private half and answers only the public one', async () => {
    const pool = await createPool(tarn);
    const created = await tarn.admin('POST', `/pools/${pool.id}/connections`, {
      name: 'signed',
      type: 'oidc',
      issuer: 'https://idp.example',
      clientId: 'c',
      tokenEndpointAuthMethod: 'private_key_jwt',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ hasSecret: false, publicJwk: { kty: 'RSA', alg: 'RS256', use: 'sig' } });
    expect(created.body.publicJwk).not.toHaveProperty('d');
    const row = await tarn.database.handle.db.selectFrom('connections').select('key_enc').where('pool_id', '=', pool.id).executeTakeFirstOrThrow();
    expect(row.key_enc).toMatch(/^v1\./);
    expect(row.key_enc).not.toContain(created.body.publicJwk.n.slice(0, 40));

    // A secret-based connection has no key until it switches; the key then stays across changes.
    const plain = await tarn.admin('POST', `/pools/${pool.id}/connections`, {
      name: 'plain',
      type: 'oidc',
      issuer: 'https://idp.example',
      clientId: 'c',
      clientSecret: 's',
    });
    expect(plain.body.publicJwk).toBeNull();
    const switched = await tarn.admin('PATCH', `/pools/${pool.id}/connections/${plain.body.id}`, { tokenEndpointAuthMethod: 'private_key_jwt' });
    expect(switched.body.publicJwk).toMatchObject({ kty: 'RSA' });
    const renamed = await tarn.admin('PATCH', `/pools/${pool.id}/connections/${plain.body.id}`, { displayName: 'Signed' });
    expect(renamed.body.publicJwk).toEqual(switched.body.publicJwk);

    const oauth2 = await tarn.admin('POST', `/pools/${pool.id}/connections`, {
      name: 'gh',
      preset: 'github',
      clientId: 'c',
      tokenEndpointAuthMethod: 'private_key_jwt',
      upstreamLogout: true,
    });
    expect(oauth2.status).toBe(400);
    expect(fieldsOf(oauth2.body).sort()).toEqual(['tokenEndpointAuthMethod', 'upstreamLogout']);
  });

  it('refuses what a type needs but lacks, naming each field', async () => {
    const pool = await createPool(tarn);
    const oidc = await tarn.admin('POST', `/pools/${pool.id}/connections`, { name: 'x', type: 'oidc', clientId: 'c' });
    expect(oidc.status).toBe(400);
    expect(oidc.headers.get('content-type')).toContain('application/problem+json');
    expect(fieldsOf(oidc.body).sort()).toEqual(['clientSecret', 'issuer']);

    const oauth2 = await tarn.admin('POST', `/pools/${pool.id}/connections`, {
      name: 'y',
      type: 'oauth2',
      clientId: 'c',
      clientSecret: 's',
      tokenEndpoint: 'https://idp.example/token',
    });
    expect(oauth2.status).toBe(400);
    expect(fieldsOf(oauth2.body).sort()).toEqual(['authorizationEndpoint', 'profileEndpoint']);

    const neither = await tarn.admin('POST', `/pools/${pool.id}/connections`, { name: 'z', clientId: 'c', clientSecret: 's' });
    expect(fieldsOf(neither.body)).toEqual(['type']);

    const badName = await tarn.admin('POST', `/pools/${pool.id}/connections`, {
      name: 'Has Spaces',
      type: 'oidc',
      issuer: 'https://idp.example',
      clientId: 'c',
      clientSecret: 's',
    });
    expect(badName.status).toBe(400);
    expect(fieldsOf(badName.body)).toEqual(['name']);

    const notHttp = await tarn.admin('POST', `/pools/${pool.id}/connections`, {
      name: 'w',
      type: 'oidc',
      issuer: 'javascript:alert(1)',
      clientId: 'c',
      clientSecret: 's',
    });
    expect(fieldsOf(notHttp.body)).toEqual(['issuer']);
  });

  it("checks the claim mapping against the pool's profile schema", async () => {
    const pool = await createPool(tarn);
    const refused = await tarn.admin('POST', `/pools/${pool.id}/connections`, {
      name: 'mapped',
      type: 'oidc',
      issuer: 'https://idp.example',
      clientId: 'c',
      clientSecret: 's',
      claimMapping: { profile: { name: 'name', shoe_size: 'shoe' } },
    });
    expect(refused.status).toBe(400);
    expect(fieldsOf(refused.body)).toEqual(['claimMapping.profile.shoe_size']);

    const accepted = await tarn.admin('POST', `/pools/${pool.id}/connections`, {
      name: 'mapped',
      type: 'oidc',
      issuer: 'https://idp.example',
      clientId: 'c',
      clientSecret: 's',
      claimMapping: { profile: { nickname: 'preferred_username' }, metadata: { department: 'dept' } },
      emailVerified: 'always',
      provisioning: 'existing_users_only',
    });
    expect(accepted.status).toBe(201);
    expect(accepted.body.claimMapping).toEqual({
      subject: 'sub',
      email: 'email',
      emailVerified: 'email_verified',
      profile: { nickname: 'preferred_username' },
      metadata: { department: 'dept' },
    });
    expect(accepted.body).toMatchObject({ emailVerified: 'always', provisioning: 'existing_users_only' });
  });

  it('refuses a second connection of the same name in the pool, but not in another pool', async () => {
    const pool = await createPool(tarn);
    const other = await createPool(tarn);
    const body = { name: 'same', type: 'oidc', issuer: 'https://idp.example', clientId: 'c', clientSecret: 's' };
    expect((await tarn.admin('POST', `/pools/${pool.id}/connections`, body)).status).toBe(201);
    const again = await tarn.admin('POST', `/pools/${pool.id}/connections`, body);
    expect(again.status).toBe(409);
    expect(fieldsOf(again.body)).toEqual(['name']);
    expect((await tarn.admin('POST', `/pools/${other.id}/connections`, body)).status).toBe(201);
  });

  it('updates, hides, replaces the secret and deletes', async () => {
    const pool = await createPool(tarn);
    const created = await tarn.admin('POST', `/pools/${pool.id}/connections`, {
      name: 'up',
      type: 'oidc',
      issuer: 'https://idp.example',
      clientId: 'c',
      clientSecret: 'first',
    });
    const path = `/pools/${pool.id}/connections/${created.body.id}`;
    const before = await tarn.database.handle.db.selectFrom('connections').select('secret_enc').where('pool_id', '=', pool.id).executeTakeFirstOrThrow();

    const patched = await tarn.admin('PATCH', path, { hidden: true, displayName: 'Upstream', clientSecret: 'second', scopes: ['openid', 'email'] });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ hidden: true, displayName: 'Upstream', scopes: ['openid', 'email'], hasSecret: true });
    const after = await tarn.database.handle.db.selectFrom('connections').select('secret_enc').where('pool_id', '=', pool.id).executeTakeFirstOrThrow();
    expect(after.secret_enc).not.toBe(before.secret_enc);

    const noOpenid = await tarn.admin('PATCH', path, { scopes: ['email'] });
    expect(noOpenid.status).toBe(400);
    expect(fieldsOf(noOpenid.body)).toEqual(['scopes']);

    expect((await tarn.admin('DELETE', path)).status).toBe(204);
    expect((await tarn.admin('GET', path)).status).toBe(404);
    expect((await tarn.admin('DELETE', path)).status).toBe(404);
    expect((await tarn.admin('GET', `/pools/${pool.id}/connections/not-a-uuid`)).status).toBe(404);
  });
});

describe('linked identities', () => {
  async function linkedUser() {
    const pool = await createPool(tarn);
    const user = await createUser(tarn, pool.id);
    const connection = await tarn.admin('POST', `/pools/${pool.id}/connections`, {
      name: 'partner',
      type: 'oidc',
      issuer: 'https://idp.example',
      clientId: 'c',
      clientSecret: 's',
    });
    // The sign-in flow writes this row; here it is seeded to exercise the admin API alone.
    await tarn.database.handle.db
      .insertInto('linked_identities')
      .values({ pool_id: pool.id, connection_id: connection.body.id, subject: 'upstream-42', user_id: user.id })
      .execute();
    return { pool, user, connection: connection.body as { id: string } };
  }

  it("lists a user's identities and unlinks one by connection name", async () => {
    const { pool, user, connection } = await linkedUser();
    const listed = await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}/identities`);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([{ connection: 'partner', connectionId: connection.id, subject: 'upstream-42', createdAt: expect.any(String) }]);

    expect((await tarn.admin('DELETE', `/pools/${pool.id}/users/${user.id}/identities/partner`)).status).toBe(204);
    expect((await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}/identities`)).body.items).toEqual([]);
    expect((await tarn.admin('DELETE', `/pools/${pool.id}/users/${user.id}/identities/partner`)).status).toBe(404);
  });

  it('deleting a connection unlinks every identity linked through it', async () => {
    const { pool, user, connection } = await linkedUser();
    expect((await tarn.admin('DELETE', `/pools/${pool.id}/connections/${connection.id}`)).status).toBe(204);
    expect((await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}/identities`)).body.items).toEqual([]);
  });

  it("pool A's connections and identities are not found at pool B, even with B's own secret", async () => {
    const { pool, user, connection } = await linkedUser();
    const other = await createPool(tarn);
    const asB = basic(other.id, other.secret.value);
    expect((await tarn.admin('GET', `/pools/${other.id}/connections/${connection.id}`, undefined, asB)).status).toBe(404);
    expect((await tarn.admin('GET', `/pools/${other.id}/connections`, undefined, asB)).body.items).toEqual([]);
    expect((await tarn.admin('PATCH', `/pools/${other.id}/connections/${connection.id}`, { hidden: true }, asB)).status).toBe(404);
    expect((await tarn.admin('DELETE', `/pools/${other.id}/connections/${connection.id}`, undefined, asB)).status).toBe(404);
    expect((await tarn.admin('GET', `/pools/${other.id}/users/${user.id}/identities`, undefined, asB)).status).toBe(404);
    expect((await tarn.admin('DELETE', `/pools/${other.id}/users/${user.id}/identities/partner`, undefined, asB)).status).toBe(404);
    // B's secret at A's path is not A.
    expect((await tarn.admin('GET', `/pools/${pool.id}/connections/${connection.id}`, undefined, asB)).status).toBe(404);
    // A is whole.
    expect((await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}/identities`)).body.items).toHaveLength(1);
    expect((await tarn.admin('GET', `/pools/${pool.id}/users/${randomUUID()}/identities`)).status).toBe(404);
  });
});
