/**
 * The admin API contract (docs/design.md#admin-api) for pools, applications and users:
 * create, read, list with cursors, change, delete; secrets shown once, never again.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import * as oidc from 'openid-client';
import { adminRouteTemplates } from '../support/admin-routes.js';
import { createClient, createPool, createUser, REDIRECT_URI } from '../support/fixtures.js';
import { discover, signIn } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

// ajv-formats is CommonJS: its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn.close();
});

describe('pools', () => {
  it('creates with defaults, reads, changes and deletes', async () => {
    const created = await tarn.admin('POST', '/pools', { name: 'Defaults' });
    expect(created.status).toBe(201);
    expect(created.body.id).toMatch(/^pool-[0-9a-f]{10}$/);
    expect(created.headers.get('location')).toBe(`/admin/pools/${created.body.id}`);
    expect(created.body).toMatchObject({
      name: 'Defaults',
      selfRegistration: false,
      signIn: { password: true, emailCode: false, passkey: false },
      passwordPolicy: { minLength: 8 },
      issuer: `${tarn.url}/pools/${created.body.id}`,
    });
    const got = await tarn.admin('GET', `/pools/${created.body.id}`);
    expect(got.body).not.toHaveProperty('secret');
    expect(got.body.name).toBe('Defaults');

    const patched = await tarn.admin('PATCH', `/pools/${created.body.id}`, { name: 'Renamed', tagColor: '#123456', signIn: { emailCode: true } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'Renamed', tagColor: '#123456', signIn: { password: true, emailCode: true, passkey: false } });

    expect((await tarn.admin('DELETE', `/pools/${created.body.id}`)).status).toBe(204);
    expect((await tarn.admin('GET', `/pools/${created.body.id}`)).status).toBe(404);
    expect((await tarn.admin('DELETE', `/pools/${created.body.id}`)).status).toBe(404);
  });

  it('a renamed pool shows its new name on its hosted pages at once', async () => {
    const pool = await createPool(tarn, { name: 'Before' });
    const app = await createClient(tarn, pool.id);
    await tarn.admin('PATCH', `/pools/${pool.id}`, { name: 'After' });
    const url = new URL(`${pool.issuer}/auth`);
    url.search = new URLSearchParams({ client_id: app.clientId, response_type: 'code', scope: 'openid', redirect_uri: 'https://wrong.example/' }).toString();
    const html = await (await fetch(url)).text();
    expect(html).toContain('After');
    expect(html).not.toContain('Before');
  });

  it('lists pools page by page with cursors', async () => {
    const prefix = `list-${Date.now().toString(36)}`;
    for (let i = 0; i < 5; i += 1) await tarn.admin('POST', '/pools', { id: `${prefix}-${i}`, name: `P${i}` });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const page = await tarn.admin('GET', `/pools${query}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((item: { id: string }) => item.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    const ours = seen.filter((id) => id.startsWith(prefix));
    expect(ours).toEqual([0, 1, 2, 3, 4].map((i) => `${prefix}-${i}`));
    expect(new Set(seen).size).toBe(seen.length);
  });
});

describe('applications', () => {
  it('shows the secret once, lists, changes and deletes; a deleted client can no longer get tokens', async () => {
    const pool = await createPool(tarn);
    const created = await tarn.admin('POST', `/pools/${pool.id}/clients`, { name: 'Service', grantTypes: ['client_credentials'] });
    expect(created.status).toBe(201);
    expect(created.body.secret).toEqual({ value: expect.stringMatching(/^tcs_/), createdAt: expect.any(String), expiresAt: null });
    const got = await tarn.admin('GET', `/pools/${pool.id}/clients/${created.body.clientId}`);
    expect(got.body).not.toHaveProperty('secret');
    expect(JSON.stringify(got.body)).not.toContain(created.body.secret.value);
    expect(got.body.hasSecret).toBe(true);

    const config = await discover(pool.issuer, created.body.clientId, created.body.secret.value);
    const token = await oidc.clientCredentialsGrant(config);
    expect(token.access_token).toBeDefined();

    const list = await tarn.admin('GET', `/pools/${pool.id}/clients`);
    expect(list.body.items.map((item: { clientId: string }) => item.clientId)).toEqual([created.body.clientId]);

    const patched = await tarn.admin('PATCH', `/pools/${pool.id}/clients/${created.body.clientId}`, { name: 'Renamed service' });
    expect(patched.body.name).toBe('Renamed service');

    expect((await tarn.admin('DELETE', `/pools/${pool.id}/clients/${created.body.clientId}`)).status).toBe(204);
    await expect(oidc.clientCredentialsGrant(config)).rejects.toMatchObject({ error: 'invalid_client' });
  });

  it('rotating the client secret replaces it at once', async () => {
    const pool = await createPool(tarn);
    const app = await createClient(tarn, pool.id, { grantTypes: ['client_credentials'], redirectUris: [] });
    const rotated = await tarn.admin('POST', `/pools/${pool.id}/clients/${app.clientId}/secret/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret.value).not.toBe(app.secret?.value);
    const old = await discover(pool.issuer, app.clientId, app.secret?.value);
    await expect(oidc.clientCredentialsGrant(old)).rejects.toMatchObject({ error: 'invalid_client' });
    const fresh = await discover(pool.issuer, app.clientId, rotated.body.secret.value);
    expect((await oidc.clientCredentialsGrant(fresh)).access_token).toBeDefined();
  });

  it('keeps client secrets encrypted at rest', async () => {
    const pool = await createPool(tarn);
    const app = await createClient(tarn, pool.id);
    const row = await tarn.database.handle.db.selectFrom('clients').select('secret_enc').where('pool_id', '=', pool.id).executeTakeFirstOrThrow();
    expect(row.secret_enc).toMatch(/^v1\./);
    expect(row.secret_enc).not.toContain(app.secret!.value);
  });

  it('authenticates a client_secret_post client with its secret in the body', async () => {
    const pool = await createPool(tarn);
    const app = await createClient(tarn, pool.id, { tokenEndpointAuthMethod: 'client_secret_post', grantTypes: ['client_credentials'], redirectUris: [] });
    const wrong = await oidc.discovery(new URL(pool.issuer), app.clientId, undefined, oidc.ClientSecretPost('not-the-secret'), {
      execute: [oidc.allowInsecureRequests],
    });
    await expect(oidc.clientCredentialsGrant(wrong)).rejects.toMatchObject({ error: 'invalid_client' });
    const post = await oidc.discovery(new URL(pool.issuer), app.clientId, undefined, oidc.ClientSecretPost(app.secret?.value), {
      execute: [oidc.allowInsecureRequests],
    });
    expect((await oidc.clientCredentialsGrant(post)).access_token).toBeDefined();
  });

  it('changing redirect URIs takes effect for the next authorization', async () => {
    const pool = await createPool(tarn);
    const app = await createClient(tarn, pool.id);
    const user = await createUser(tarn, pool.id);
    await tarn.admin('PATCH', `/pools/${pool.id}/clients/${app.clientId}`, { redirectUris: ['https://other.example/cb'] });
    const config = await discover(pool.issuer, app.clientId, app.secret?.value);
    await expect(signIn(config, tarn.url, user)).rejects.toThrow(/expected a redirect to the client/);
    await tarn.admin('PATCH', `/pools/${pool.id}/clients/${app.clientId}`, { redirectUris: [REDIRECT_URI] });
    const { tokens } = await signIn(config, tarn.url, user);
    expect(tokens.claims()!.sub).toBe(user.id);
  });
});

describe('users', () => {
  it('creates with a password (argon2id at rest), reads, finds by email in any case, changes and deletes', async () => {
    const pool = await createPool(tarn);
    const user = await createUser(tarn, pool.id, { profile: { name: 'Grace Hopper' } });
    const got = await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}`);
    expect(got.body).toMatchObject({ email: user.email, status: 'active', profile: { name: 'Grace Hopper' }, hasPassword: true });
    expect(JSON.stringify(got.body)).not.toContain('argon2');
    const row = await tarn.database.handle.db.selectFrom('users').select('password_hash').where('pool_id', '=', pool.id).executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);

    const found = await tarn.admin('GET', `/pools/${pool.id}/users?email=${encodeURIComponent(user.email.toUpperCase())}`);
    expect(found.body.items.map((item: { id: string }) => item.id)).toEqual([user.id]);

    const patched = await tarn.admin('PATCH', `/pools/${pool.id}/users/${user.id}`, { profile: { name: 'Rear Admiral Hopper' }, emailVerified: true });
    expect(patched.body).toMatchObject({ profile: { name: 'Rear Admiral Hopper' }, emailVerified: true });

    expect((await tarn.admin('DELETE', `/pools/${pool.id}/users/${user.id}`)).status).toBe(204);
    expect((await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}`)).status).toBe(404);
  });

  it('a password changed by the admin is the one that signs in', async () => {
    const pool = await createPool(tarn);
    const app = await createClient(tarn, pool.id);
    const user = await createUser(tarn, pool.id);
    const changed = await tarn.admin('PATCH', `/pools/${pool.id}/users/${user.id}`, { password: 'a brand new passphrase' });
    expect(changed.status).toBe(200);
    const config = await discover(pool.issuer, app.clientId, app.secret?.value);
    await expect(signIn(config, tarn.url, user)).rejects.toThrow();
    const { tokens } = await signIn(config, tarn.url, { email: user.email, password: 'a brand new passphrase' });
    expect(tokens.claims()!.sub).toBe(user.id);
  });

  it('a disabled user cannot sign in, and their refresh token stops working', async () => {
    const pool = await createPool(tarn);
    const app = await createClient(tarn, pool.id);
    const user = await createUser(tarn, pool.id);
    const config = await discover(pool.issuer, app.clientId, app.secret?.value);
    const { tokens } = await signIn(config, tarn.url, user);
    await tarn.admin('PATCH', `/pools/${pool.id}/users/${user.id}`, { status: 'disabled' });
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(signIn(config, tarn.url, user)).rejects.toThrow();
  });

  it('lists users page by page', async () => {
    const pool = await createPool(tarn);
    const ids = new Set<string>();
    for (let i = 0; i < 5; i += 1) ids.add((await createUser(tarn, pool.id)).id);
    const first = await tarn.admin('GET', `/pools/${pool.id}/users?limit=3`);
    const second = await tarn.admin('GET', `/pools/${pool.id}/users?limit=3&cursor=${first.body.nextCursor}`);
    expect(first.body.items).toHaveLength(3);
    expect(second.body.items).toHaveLength(2);
    expect(second.body.nextCursor).toBeNull();
    expect(new Set([...first.body.items, ...second.body.items].map((item: { id: string }) => item.id))).toEqual(ids);
  });
});

describe('the OpenAPI description (/admin/openapi.json)', () => {
  type Operation = {
    requestBody?: { content: Record<string, { schema: object }> };
    responses: Record<string, { content?: Record<string, { schema: object }> }>;
  };
  let document: { openapi: string; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, object> } };
  beforeAll(async () => {
    document = (await (await fetch(`${tarn.url}/admin/openapi.json`)).json()) as typeof document;
  });
  const operation = (method: string, template: string) => document.paths[template.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()];

  it('describes every route the admin API serves, with its request and its answer', () => {
    expect(document.openapi).toBe('3.1.0');
    const routes = adminRouteTemplates().filter(([, template]) => template !== '/admin/openapi.json');
    expect(routes.length).toBeGreaterThan(30);
    for (const [method, template] of routes) {
      const described = operation(method, template);
      expect([method, template, described === undefined]).toEqual([method, template, false]);
      const [status, success] = Object.entries(described!.responses).find(([code]) => code.startsWith('2'))!;
      // JSON answers, or a streamed one (NDJSON export) described by the schema of its lines.
      const answer = success.content?.['application/json'] ?? success.content?.['application/x-ndjson'];
      if (status !== '204') expect([template, answer?.schema]).toEqual([template, expect.objectContaining({ properties: expect.any(Object) })]);
      if (['POST', 'PATCH'].includes(method) && described!.requestBody) {
        expect(described!.requestBody.content['application/json']!.schema).toEqual(expect.objectContaining({}));
      }
    }
    expect(operation('POST', '/admin/pools/:pool/users')!.requestBody).toBeDefined();
    expect(operation('PATCH', '/admin/pools/:pool/clients/:clientId')!.requestBody).toBeDefined();
  });

  it('types every answer with a body: no route without a schema, no object without its members, one shape for a secret shown once', () => {
    type Schema = { type?: string; properties?: Record<string, Schema>; additionalProperties?: unknown; description?: string; [key: string]: unknown };
    // An object is untyped when it lists no members and says nothing of them: neither a type for its
    // values nor a description of what defines them (a profile: what the pool's profileSchema declares).
    const untyped = (schema: unknown, at: string): string[] => {
      if (!schema || typeof schema !== 'object') return [];
      const node = schema as Schema;
      const open = node.additionalProperties === undefined || node.additionalProperties === true || JSON.stringify(node.additionalProperties) === '{}';
      const here = node.type === 'object' && !node.properties && open && !node.description ? [at] : [];
      return [
        ...here,
        ...Object.entries(node).flatMap(([key, value]) => (key === 'properties' ? [] : untyped(value, `${at}/${key}`))),
        ...Object.entries(node.properties ?? {}).flatMap(([name, value]) => untyped(value, `${at}.${name}`)),
      ];
    };
    const problems: string[] = [];
    const shownOnce = new Map<string, string>();
    for (const [template, item] of Object.entries(document.paths)) {
      for (const [method, described] of Object.entries(item)) {
        if (method === 'parameters') continue;
        for (const [status, answer] of Object.entries(described.responses).filter(([code]) => code.startsWith('2'))) {
          const schema = Object.values(answer.content ?? {})[0]?.schema as Schema | undefined;
          const where = `${method.toUpperCase()} ${template} ${status}`;
          if (status === '204') {
            if (answer.content) problems.push(`${where}: a 204 describes a body`);
            continue;
          }
          if (!schema) problems.push(`${where}: no schema`);
          else problems.push(...untyped(schema, '').map((at) => `${where}: untyped object at ${at || '/'}`));
          for (const name of ['secret', 'nextSecret']) {
            const secret = schema?.properties?.[name];
            if (secret) {
              const { description: _description, ...shape } = secret;
              shownOnce.set(`${where} ${name}`, JSON.stringify(shape));
            }
          }
        }
      }
    }
    expect(problems).toEqual([]);
    // Pools (two), their rotation, applications (creation, change, rotation), webhooks (creation, rotation).
    expect(shownOnce.size).toBeGreaterThanOrEqual(8);
    expect(new Set(shownOnce.values()).size).toBe(1);
    expect(JSON.parse([...shownOnce.values()][0]!)).toMatchObject({ type: 'object', required: ['value', 'createdAt', 'expiresAt'] });
  });

  it('answers what it describes', async () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    const answers: string[] = [];
    async function call(method: string, template: string, path: string, body?: unknown) {
      const response = await tarn.admin(method, path, body);
      const described = operation(method, template)!.responses[String(response.status)];
      const media = (response.headers.get('content-type') ?? '').split(';')[0]!;
      const given = described?.content?.[media]?.schema as { $ref?: string } | undefined;
      const schema = given?.$ref ? document.components.schemas[given.$ref.split('/').pop()!] : given;
      if (!schema) throw new Error(`${method} ${path} answered ${response.status}, which is not described`);
      const validate = ajv.compile(schema);
      if (!validate(response.body)) answers.push(`${method} ${template}: ${ajv.errorsText(validate.errors)}`);
      return response.body;
    }
    const pool = await call('POST', '/admin/pools', '/pools', { name: 'Described', passwordPolicy: { minLength: 10 } });
    const at = `/pools/${pool.id}`;
    await call('GET', '/admin/pools', '/pools?limit=2');
    await call('GET', '/admin/pools/:pool', at);
    await call('PATCH', '/admin/pools/:pool', at, { description: 'changed' });
    await call('GET', '/admin/pools/:pool/secrets', `${at}/secrets`);
    await call('POST', '/admin/pools/:pool/secrets/rotate', `${at}/secrets/rotate`);
    await call('GET', '/admin/pools/:pool/keys', `${at}/keys`);
    const client = await call('POST', '/admin/pools/:pool/clients', `${at}/clients`, { name: 'App', redirectUris: [REDIRECT_URI] });
    await call('GET', '/admin/pools/:pool/clients', `${at}/clients`);
    await call('GET', '/admin/pools/:pool/clients/:clientId', `${at}/clients/${client.clientId}`);
    await call('POST', '/admin/pools/:pool/clients/:clientId/secret/rotate', `${at}/clients/${client.clientId}/secret/rotate`);
    const user = await call('POST', '/admin/pools/:pool/users', `${at}/users`, {
      email: 'described@example.test',
      mode: 'password',
      password: 'correct horse battery',
    });
    await call('GET', '/admin/pools/:pool/users', `${at}/users`);
    await call('GET', '/admin/pools/:pool/users/:userId', `${at}/users/${user.id}`);
    await call('GET', '/admin/pools/:pool/users/:userId/lockout', `${at}/users/${user.id}/lockout`);
    await call('GET', '/admin/pools/:pool/users/:userId/passkeys', `${at}/users/${user.id}/passkeys`);
    const group = await call('POST', '/admin/pools/:pool/groups', `${at}/groups`, { name: 'staff' });
    await tarn.admin('PUT', `${at}/groups/${group.id}/members/${user.id}`);
    await call('GET', '/admin/pools/:pool/groups/:groupId/members', `${at}/groups/${group.id}/members?nested=true`);
    await call('GET', '/admin/pools/:pool/users/:userId/groups', `${at}/users/${user.id}/groups`);
    const connection = await call('POST', '/admin/pools/:pool/connections', `${at}/connections`, {
      name: 'github',
      preset: 'github',
      clientId: 'c',
      clientSecret: 's',
    });
    await call('GET', '/admin/pools/:pool/connections', `${at}/connections`);
    await call('PATCH', '/admin/pools/:pool/connections/:connectionId', `${at}/connections/${connection.id}`, { hidden: true });
    await call('GET', '/admin/pools/:pool/users/:userId/identities', `${at}/users/${user.id}/identities`);
    await call('GET', '/admin/pools/:pool/audit', `${at}/audit`);
    await call('PATCH', '/admin/pools/:pool', at, { branding: { primaryColor: '#0b5cad', title: { en: 'Described' } } });
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNgYGAAAAAEAAH2FzhVAAAAAElFTkSuQmCC', 'base64');
    await call('PUT', '/admin/pools/:pool/branding/:kind', `${at}/branding/logo`, { mediaType: 'image/png', data: png.toString('base64') });
    await call('GET', '/admin/pools/:pool/branding', `${at}/branding`);
    await call('PATCH', '/admin/pools/:pool', at, { branding: { textColor: '#bbbbbb' } });
    await call('PUT', '/admin/pools/:pool/mail-templates/:kind/:language', `${at}/mail-templates/verification/en`, {
      subject: 'Code {{code}}',
      html: '<p>{{code}}</p>',
      text: '{{code}}',
    });
    await call('GET', '/admin/pools/:pool/mail-templates', `${at}/mail-templates`);
    await call('GET', '/admin/pools/:pool/mail-templates/:kind/:language', `${at}/mail-templates/verification/en`);
    await call('POST', '/admin/pools/:pool/mail-templates/:kind/preview', `${at}/mail-templates/verification/preview`, { language: 'en' });
    const hook = await call('POST', '/admin/pools/:pool/webhooks', `${at}/webhooks`, { url: 'https://hooks.example.test/tarn', eventTypes: ['users.*'] });
    await call('GET', '/admin/pools/:pool/webhooks', `${at}/webhooks`);
    await call('GET', '/admin/pools/:pool/webhooks/:webhookId', `${at}/webhooks/${hook.id}`);
    await call('PATCH', '/admin/pools/:pool/webhooks/:webhookId', `${at}/webhooks/${hook.id}`, { description: 'CRM sync' });
    await call('POST', '/admin/pools/:pool/webhooks/:webhookId/secret/rotate', `${at}/webhooks/${hook.id}/secret/rotate`, {});
    const sent = await call('POST', '/admin/pools/:pool/webhooks/:webhookId/test', `${at}/webhooks/${hook.id}/test`);
    await call('GET', '/admin/pools/:pool/webhooks/:webhookId/deliveries', `${at}/webhooks/${hook.id}/deliveries`);
    await call(
      'POST',
      '/admin/pools/:pool/webhooks/:webhookId/deliveries/:deliveryId/redeliver',
      `${at}/webhooks/${hook.id}/deliveries/${sent.deliveryId}/redeliver`,
    );
    // Mistakes are described too.
    await call('POST', '/admin/pools/:pool/users', `${at}/users`, { email: 'not an email', mode: 'password', password: 'x' });
    expect(answers).toEqual([]);
  });
});
