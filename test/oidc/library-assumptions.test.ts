/**
 * Where Tarn relies on how a library behaves beyond its documented API, each assumption is
 * pinned here against the real library, so that an upgrade that breaks it fails this file
 * (and names the file to fix) instead of failing quietly in production:
 * - src/oidc/device-pages.ts reads the xsrf token from the HTML of oidc-provider's device forms;
 * - src/oidc/client-cache.ts replaces Provider.Client.find, which oidc-provider's endpoints
 *   must use for every client lookup;
 * - src/oidc/resource-routes.ts accepts the DPoP proof algorithms oidc-provider accepts;
 * - src/db/prepared.ts (PreparingClient) sees Kysely's statements as plain text through
 *   node-postgres's Client.query, and prepares the marked ones on the connection.
 */
import { randomBytes } from 'node:crypto';
import Provider, { type Adapter, type AdapterPayload } from 'oidc-provider';
import { sql } from 'kysely';
import request from 'supertest';
import { openDatabase } from '../../src/db/database.js';
import { preparedStatement } from '../../src/db/prepared.js';
import { rememberClients } from '../../src/oidc/client-cache.js';
import { hiddenFieldOf } from '../../src/oidc/device-pages.js';
import { DPOP_SIGNING_ALGS } from '../../src/oidc/resource-routes.js';
import { serverUrl } from '../support/database.js';
import { startPostgresServer, type PostgresServer } from '../production/support/postgres-server.js';

const CLIENT = {
  client_id: 'service',
  client_secret: 'a-secret-of-the-service-client',
  grant_types: ['client_credentials', 'urn:ietf:params:oauth:grant-type:device_code'],
  response_types: [],
  redirect_uris: [],
};

/** A bare provider on an in-memory adapter that counts client lookups. */
function bareProvider(deviceFlow: NonNullable<NonNullable<ConstructorParameters<typeof Provider>[1]>['features']>['deviceFlow'] = {}) {
  const clientReads: string[] = [];
  const stores = new Map<string, Map<string, AdapterPayload>>();
  class MemoryAdapter implements Adapter {
    readonly #rows: Map<string, AdapterPayload>;
    constructor(readonly model: string) {
      this.#rows = stores.get(model) ?? new Map();
      stores.set(model, this.#rows);
    }
    async upsert(id: string, payload: AdapterPayload) {
      this.#rows.set(id, payload);
    }
    async find(id: string) {
      if (this.model === 'Client') {
        clientReads.push(id);
        return id === CLIENT.client_id ? (CLIENT as AdapterPayload) : undefined;
      }
      return this.#rows.get(id);
    }
    async findByUserCode(userCode: string) {
      return [...this.#rows.values()].find((row) => row.userCode === userCode);
    }
    async findByUid(uid: string) {
      return [...this.#rows.values()].find((row) => row.uid === uid);
    }
    async consume(id: string) {
      const row = this.#rows.get(id);
      if (row) row.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      this.#rows.delete(id);
    }
    async revokeByGrantId() {}
  }
  const provider = new Provider('http://localhost', {
    adapter: MemoryAdapter,
    cookies: { keys: ['library-assumptions'] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      dPoP: { enabled: true },
      deviceFlow: { ...deviceFlow, enabled: true },
    },
  });
  return { provider, clientReads };
}

describe('oidc-provider', () => {
  it('hands the device pages a form whose xsrf field device-pages.ts can read (input and confirm forms)', async () => {
    const forms: string[] = [];
    const { provider } = bareProvider({
      userCodeInputSource: async (ctx, form) => {
        forms.push(form);
        ctx.body = 'input';
      },
      userCodeConfirmSource: async (ctx, form) => {
        forms.push(form);
        ctx.body = 'confirm';
      },
    });
    const agent = request.agent(provider.callback());
    const started = await agent.post('/device/auth').auth(CLIENT.client_id, CLIENT.client_secret).type('form').send({});
    expect(started.body).toHaveProperty('user_code');
    expect((await agent.get('/device')).text).toBe('input');
    const xsrf = hiddenFieldOf(forms[0]!, 'xsrf');
    expect(xsrf).toMatch(/^[\w-]{10,}$/);
    const confirm = await agent.post('/device').type('form').send({ xsrf, user_code: started.body.user_code });
    expect(confirm.text).toBe('confirm');
    // The confirm form carries the same session-bound token.
    expect(hiddenFieldOf(forms[1]!, 'xsrf')).toBe(xsrf);
  });

  it('looks clients up through Provider.Client.find, so client-cache.ts answers every later lookup from memory', async () => {
    const { provider, clientReads } = bareProvider();
    rememberClients(provider);
    const app = provider.callback();
    for (let i = 0; i < 3; i += 1) {
      const token = await request(app).post('/token').auth(CLIENT.client_id, CLIENT.client_secret).type('form').send({ grant_type: 'client_credentials' });
      expect(token.body).toMatchObject({ token_type: 'Bearer' });
    }
    expect(clientReads).toEqual([CLIENT.client_id]);
  });

  it('accepts the DPoP proof algorithms that resource-routes.ts accepts', async () => {
    const { provider } = bareProvider();
    const discovery = await request(provider.callback()).get('/.well-known/openid-configuration');
    expect(discovery.body.dpop_signing_alg_values_supported).toEqual(DPOP_SIGNING_ALGS);
  });
});

describe('Kysely and node-postgres (PreparingClient)', () => {
  let server: PostgresServer | undefined;
  let url: string;

  beforeAll(async () => {
    // On PostgreSQL only (PGlite has no prepared statements by name): the suite's server, or one of its own.
    if (serverUrl) {
      url = serverUrl;
    } else {
      server = await startPostgresServer();
      url = server.url;
    }
  }, 120_000);

  afterAll(async () => {
    await server?.destroy();
  });

  it('prepares a marked statement once per connection under its name', async () => {
    const database = await openDatabase({ databaseUrl: url, poolSize: 1 });
    try {
      const name = `pin_${randomBytes(4).toString('hex').replace(/[0-9]/g, 'x')}`;
      const statement = preparedStatement<{ one: number }>(name, 'select $1::int as one');
      expect((await statement.run(database.db, [1])).rows).toEqual([{ one: 1 }]);
      expect((await statement.run(database.db, [2])).rows).toEqual([{ one: 2 }]);
      // One connection in the pool: this query runs on the connection that prepared it.
      const prepared = await sql<{ name: string }>`select name from pg_prepared_statements`.execute(database.db);
      expect(prepared.rows.map((row) => row.name)).toContain(name);
    } finally {
      await database.close();
    }
  });
});
