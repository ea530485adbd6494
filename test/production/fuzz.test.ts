/**
 * A bounded fuzz pass (fast-check) over every admin route and the hosted login form:
 * malformed JSON, wrong types, huge strings, unicode, SQL and HTML injection, odd media
 * types and odd ids in paths. What a client sends is never a 5xx: zero 5xx responses,
 * zero errors logged, zero unhandled rejections, and the server still answers after.
 * The routes come from the admin router itself, so routes added later are fuzzed too.
 */
import fc from 'fast-check';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.js';
import { adminRouteTemplates } from '../support/admin-routes.js';
import { Browser } from '../support/browser.js';
import { createClient, createPool, createUser } from '../support/fixtures.js';
import { discover, startAuthorization } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

const errorLines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      if ((JSON.parse(line) as { level: number }).level >= 50) errorLines.push(line);
    }
    done();
  },
});
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

let tarn: RunningTarn;
let pool: Awaited<ReturnType<typeof createPool>>;
let clientId: string;
let userId: string;

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  // No rate limits here: every request must reach the code under test.
  tarn = await startTarn({ RATE_LIMIT_ADMIN_FAILURES: '0', RATE_LIMIT_LOGIN_FAILURES: '0', RATE_LIMIT_TOKEN_FAILURES: '0' }, undefined, {
    log: createLogger('warn', sink),
  });
  pool = await createPool(tarn);
  clientId = (await createClient(tarn, pool.id)).clientId;
  userId = (await createUser(tarn, pool.id)).id;
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await tarn.close();
});

const INJECTIONS = [
  "' OR '1'='1",
  "'; DROP TABLE pools; --",
  '1; SELECT pg_sleep(10)',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '<%= process.exit() %>',
  '${7*7}{{7*7}}',
  '../../../../etc/passwd',
  '\u0000\u0001\u001f',
  '\ud800',
  '😀👩‍👩‍👧‍👦 ﷽ Ω≈ç√',
  'null',
  '__proto__',
  'constructor',
  '%00%2e%2e%2f',
];

const nastyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 50 }),
  fc.constantFrom(...INJECTIONS),
  fc.integer({ min: 1000, max: 20_000 }).map((n) => 'é'.repeat(n)),
);
/** Ids in paths: everything above but the huge strings (those make a 431, tested elsewhere). */
const pathId = fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 50 }), fc.constantFrom(...INJECTIONS));
const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  nastyString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(nastyString, { maxLength: 5 }),
  fc.dictionary(nastyString, nastyString, { maxKeys: 4 }),
  fc.jsonValue({ maxDepth: 3 }),
);
const FIELDS = [
  'id',
  'name',
  'description',
  'logoUrl',
  'tagColor',
  'selfRegistration',
  'signIn',
  'profileSchema',
  'metadataSchema',
  'passwordPolicy',
  'lockout',
  'email',
  'mode',
  'password',
  'emailVerified',
  'phone',
  'status',
  'profile',
  'metadata',
  'revoke',
  'redirectUris',
  'postLogoutRedirectUris',
  'grantTypes',
  'tokenEndpointAuthMethod',
  'backchannelLogoutUri',
  'jwks',
  'parentId',
];
const knownShapes = fc.dictionary(fc.constantFrom(...FIELDS), nastyValue, { maxKeys: 6 }).map((value) => JSON.stringify(value));
const body = fc.oneof(
  fc.constant(undefined),
  knownShapes,
  knownShapes,
  fc.string().map((text) => `{${text}`), // malformed JSON
  fc.json({ maxDepth: 3 }),
  fc.constantFrom('{"a":', '[', '{"name": "x",}', 'NaN', '{"__proto__": {"admin": true}}', '"just a string"', '12345678901234567890e999'),
  fc.constant(JSON.stringify({ name: 'x'.repeat(70_000) })), // over the body limit
);
const contentType = fc.constantFrom(
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/merge-patch+json',
  undefined,
);

/** Lone surrogates cannot be percent-encoded; a client sends U+FFFD bytes in their place. */
const encode = (text: string) => encodeURIComponent(Buffer.from(text, 'utf8').toString('utf8'));

describe('fuzzing what clients send', () => {
  it('never answers the admin API with a 5xx', async () => {
    const routes = adminRouteTemplates();
    expect(routes.length).toBeGreaterThan(15);
    const idFor = (name: string, real: string | undefined, fuzz: string | undefined) => encode(fuzz ?? real ?? name);
    const failures: string[] = [];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.option(pathId, { freq: 3 }),
        body,
        contentType,
        fc.dictionary(fc.constantFrom('limit', 'cursor', 'email', 'status', 'action', 'actor', 'since', 'until', 'outcome', 'nested'), nastyString, {
          maxKeys: 3,
        }),
        fc.constantFrom('admin', 'admin', 'admin', 'pool', 'garbage'),
        async ([method, template], fuzzId, payload, type, query, auth) => {
          // The real pool is never deleted: later runs need it.
          const poolFuzz = method === 'DELETE' && template === '/admin/pools/:pool' ? (fuzzId ?? 'not-a-real-pool') : fuzzId;
          const path = template
            .replace(':pool', idFor('pool', pool.id, poolFuzz ?? undefined))
            .replace(':clientId', idFor('client', clientId, fuzzId ?? undefined))
            .replace(':userId', idFor('user', userId, fuzzId ?? undefined))
            .replace(/:(\w+)/g, (_all, name: string) => idFor(name, undefined, fuzzId ?? undefined));
          const search = new URLSearchParams(query).toString();
          const authorization =
            auth === 'admin'
              ? `Bearer ${tarn.adminToken}`
              : auth === 'pool'
                ? `Basic ${Buffer.from(`${pool.id}:${pool.secret.value}`).toString('base64')}`
                : `Basic ${Buffer.from(String(fuzzId ?? '')).toString('base64')}`;
          const response = await fetch(`${tarn.url}${path}${search ? `?${search}` : ''}`, {
            method,
            headers: { authorization, ...(type ? { 'content-type': type } : {}) },
            body: method === 'GET' || payload === undefined ? undefined : payload,
          });
          await response.arrayBuffer();
          if (response.status >= 500) failures.push(`${method} ${path} → ${response.status}`);
          // 431 and 414 come from Node's HTTP parser before any route runs.
          if (
            response.status >= 400 &&
            ![405, 414, 431].includes(response.status) &&
            !/^application\/problem\+json/.test(response.headers.get('content-type') ?? '')
          ) {
            failures.push(`${method} ${path} → ${response.status} without a problem document`);
          }
        },
      ),
      { numRuns: 300, seed: Number(process.env.FUZZ_SEED ?? 8008) },
    );
    expect(failures).toEqual([]);
    expect(errorLines).toEqual([]);
    expect(unhandled).toEqual([]);
    expect((await fetch(`${tarn.url}/healthz`)).status).toBe(200);
    expect((await tarn.admin('GET', `/pools/${pool.id}`)).status).toBe(200);
  }, 180_000);

  it('never answers the hosted login form with a 5xx', async () => {
    const app = await createClient(tarn, pool.id);
    const config = await discover(pool.issuer, app.clientId, app.secret?.value);
    const browser = new Browser(tarn.url);
    const start = await startAuthorization(config, browser);
    const action = new URL(/action="([^"]+)"/.exec(start.page.html)![1]!.replace(/&amp;/g, '&'), tarn.url);
    const csrf = /name="csrf" value="([^"]+)"/.exec(start.page.html)![1]!;
    const cookie = start.page.headers
      .getSetCookie()
      .map((line) => line.split(';')[0])
      .join('; ');
    const failures: string[] = [];
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          email: fc.option(nastyString),
          password: fc.option(nastyString),
          csrf: fc.oneof(fc.constant(csrf), nastyString),
          extra: fc.option(nastyString),
        }),
        fc.constantFrom('form', 'form', 'form', 'raw', 'json'),
        fc.option(pathId, { freq: 4 }),
        fc.constantFrom('login', 'login', 'login', 'consent', 'abort', 'fuzz-uid'),
        async (fields, encoding, raw, target) => {
          const form = new URLSearchParams();
          for (const [name, value] of Object.entries(fields)) if (value !== null) form.set(name, value);
          const url =
            target === 'login'
              ? action.href
              : target === 'fuzz-uid'
                ? `${pool.issuer}/interaction/${encode(raw ?? 'x')}/login`
                : action.href.replace(/\/login$/, `/${target}`);
          const response = await fetch(url, {
            method: target === 'abort' ? 'GET' : 'POST',
            redirect: 'manual',
            headers: {
              cookie: `${cookie}; _tarn_interaction=${encode(raw ?? '')}`.replace(/; _tarn_interaction=$/, ''),
              accept: 'text/html',
              'content-type': encoding === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
            },
            body: target === 'abort' ? undefined : encoding === 'form' ? form.toString() : encoding === 'json' ? JSON.stringify(fields) : (raw ?? '%%%'),
          });
          const html = await response.text();
          if (response.status >= 500) failures.push(`${target} ${encoding} → ${response.status}`);
          if (/at \w+ \(.*:\d+:\d+\)/.test(html)) failures.push(`${target} ${encoding} → a stack trace`);
        },
      ),
      { numRuns: 120, seed: Number(process.env.FUZZ_SEED ?? 4242) },
    );
    expect(failures).toEqual([]);
    expect(errorLines).toEqual([]);
    expect(unhandled).toEqual([]);
    expect((await fetch(`${tarn.url}/healthz`)).status).toBe(200);
  }, 180_000);
});
