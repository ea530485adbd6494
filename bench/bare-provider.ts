/**
 * The yardstick: bare node-oidc-provider 9 with its default in-memory adapter, configured
 * by Tarn's own buildProviderConfiguration (same features, TTLs, claims, refresh-token
 * policy), the same client metadata as a static client, the same keystore shape (an RS256
 * and an ES256 signing key plus a published "next" key of each), and a minimal login
 * interaction that verifies an argon2id password with Tarn's parameters. No database, no templates, no CSRF: what
 * Tarn costs beyond this is Tarn's own overhead.
 *
 * Environment: PORT, BARE_CLIENT (JSON client metadata), BARE_USERS (JSON [{id, email, password}]),
 * BARE_DATABASE_URL (artifacts in PostgreSQL instead of in memory: through Tarn's own artifact
 * storage, src/oidc/adapter.ts, or with BARE_STORAGE=plain through bare-postgres-adapter.ts).
 */
import argon2 from 'argon2';
import { exportJWK, generateKeyPair } from 'jose';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import Provider, { type Configuration } from 'oidc-provider';
import type { PoolRow } from '../src/db/tables.js';
import type { PublishedKey } from '../src/keys/keys.service.js';
import { openDatabase } from '../src/db/database.js';
import { migrate } from '../src/db/migrate.js';
import { createAdapterFactory } from '../src/oidc/adapter.js';
import { createArtifactAtRest } from '../src/oidc/artifact-at-rest.js';
import { createEnvelope } from '../src/crypto/envelope.js';
import { buildProviderConfiguration } from '../src/oidc/provider-config.js';
import { ARGON2_PARAMS } from '../src/users/password.js';
import { createPageRenderer } from '../src/views/render.js';
import { createBarePostgresAdapter } from './bare-postgres-adapter.js';

interface BareUser {
  id: string;
  email: string;
  password: string;
  hash?: string;
}

const port = Number(process.env.PORT ?? 3999);
const issuer = `http://127.0.0.1:${port}`;
const client = JSON.parse(process.env.BARE_CLIENT ?? '{}') as Record<string, unknown>;
const users = JSON.parse(process.env.BARE_USERS ?? '[]') as BareUser[];
for (const user of users) user.hash = await argon2.hash(user.password, ARGON2_PARAMS);
const byEmail = new Map(users.map((user) => [user.email.toLowerCase(), user]));
const byId = new Map(users.map((user) => [user.id, user]));

async function key(alg: 'RS256' | 'ES256', status: 'current' | 'next'): Promise<PublishedKey> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  const kid = randomBytes(12).toString('base64url');
  return { kid, alg, status, privateJwk: { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' } };
}
const keys = [await key('RS256', 'current'), await key('ES256', 'current'), await key('RS256', 'next'), await key('ES256', 'next')];

// Tarn's own configuration of a pool, built by Tarn's code (so the two cannot drift apart),
// with what is Tarn's storage swapped for oidc-provider's defaults: no adapter (the
// in-memory one), the client as a static client, accounts from memory, no groups claim,
// cookies and interactions at the root instead of under /pools/{pool}.
const pool = { id: 'bench', name: 'Bench', logo_url: null, tag_color: null } as PoolRow;
const unused = () => {
  throw new Error('not used by the bare provider');
};
const configuration: Configuration = buildProviderConfiguration(pool, keys, {
  db: undefined as never,
  users: { activeUserFinder: () => unused } as never,
  groups: { listGroupNames: unused },
  findClient: unused,
  pages: createPageRenderer({ cache: true }),
  cookieKeys: [randomBytes(32).toString('base64url')],
  fetch: unused,
  artifactsAtRest: undefined as never,
});
delete configuration.adapter;
if (process.env.BARE_DATABASE_URL) {
  configuration.adapter =
    process.env.BARE_STORAGE === 'plain' ? await createBarePostgresAdapter(process.env.BARE_DATABASE_URL) : await tarnStorage(process.env.BARE_DATABASE_URL);
}
delete configuration.extraTokenClaims;
// oidc-provider's own: the grant remembered in the session (Tarn's remembers it per user in its database).
delete configuration.loadExistingGrant;
configuration.clients = [client as never];
configuration.cookies = {
  ...configuration.cookies,
  long: { httpOnly: true, sameSite: 'lax', path: '/' },
  short: { httpOnly: true, sameSite: 'lax', path: '/' },
};
configuration.interactions = { url: (_ctx, interaction) => `/interaction/${interaction.uid}` };
configuration.findAccount = async (_ctx, sub) => {
  const user = byId.get(sub);
  if (!user) return undefined;
  return { accountId: sub, claims: async () => ({ sub, email: user.email, email_verified: true, updated_at: 0 }) };
};

/**
 * Tarn's artifact storage (the same statements, batching and asynchronous commit as a
 * pool's provider in Tarn) in a database of its own. The static client is found before
 * any adapter is asked, so the client lookup is never used.
 */
async function tarnStorage(url: string) {
  const database = await openDatabase({ databaseUrl: url });
  await migrate(database);
  const atRest = createArtifactAtRest({ key: randomBytes(32), envelope: createEnvelope(randomBytes(32)), poolId: pool.id });
  return createAdapterFactory(database.db, pool.id, async () => undefined, atRest);
}

const provider = new Provider(issuer, configuration);
provider.on('server_error', (_ctx: unknown, error: Error) => process.stdout.write(`bare: server_error: ${error.stack ?? String(error)}\n`));
const callback = provider.callback();

async function readForm(req: http.IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
}

function redirect(res: http.ServerResponse, location: string) {
  res.statusCode = 303;
  res.setHeader('location', location);
  res.end();
}

async function interaction(req: http.IncomingMessage, res: http.ServerResponse, uid: string, action: string | undefined) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (req.method === 'GET') {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    const form =
      details.prompt.name === 'login'
        ? `<form method="post" action="/interaction/${uid}/login"><input name="email"><input name="password" type="password"><button>Sign in</button></form>`
        : `<form method="post" action="/interaction/${uid}/consent"><button name="decision" value="allow">Allow</button></form>`;
    res.end(`<!doctype html><title>Sign in</title>${form}`);
    return;
  }
  const form = await readForm(req);
  if (action === 'login') {
    const user = byEmail.get((form.email ?? '').toLowerCase());
    const ok = user ? await argon2.verify(user.hash!, form.password ?? '') : false;
    if (!user || !ok) {
      res.statusCode = 401;
      res.end('Invalid email or password.');
      return;
    }
    return redirect(res, await provider.interactionResult(req, res, { login: { accountId: user.id, amr: ['pwd'] } }, { mergeWithLastSubmission: false }));
  }
  const accountId = details.session!.accountId;
  const grant = details.grantId ? (await provider.Grant.find(details.grantId))! : new provider.Grant({ accountId, clientId: String(details.params.client_id) });
  const prompt = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
  if (prompt.missingOIDCScope) grant.addOIDCScope(prompt.missingOIDCScope.join(' '));
  if (prompt.missingOIDCClaims) grant.addOIDCClaims(prompt.missingOIDCClaims);
  const grantId = await grant.save();
  return redirect(res, await provider.interactionResult(req, res, { consent: details.grantId ? {} : { grantId } }, { mergeWithLastSubmission: false }));
}

const server = http.createServer((req, res) => {
  const match = /^\/interaction\/([^/?]+)(?:\/(login|consent))?/.exec(req.url ?? '');
  if (!match) return void callback(req, res);
  interaction(req, res, match[1]!, match[2]).catch((error: unknown) => {
    res.statusCode = 400;
    res.end(String((error as Error).message));
  });
});
server.keepAliveTimeout = 5000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
