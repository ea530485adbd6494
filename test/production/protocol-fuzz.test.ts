/**
 * A bounded fuzz pass (fast-check) over every parameter of the protocol endpoints a pool
 * serves: authorization (GET and POST), token, introspection, revocation, userinfo, end
 * session and device authorization. Values are NUL characters, unpaired surrogates, huge
 * strings, arrays (a parameter repeated), invalid percent-encodings and UTF-8, injections,
 * and real values (the pool's client, tokens, redirect URI) mixed in, sent as query, form,
 * JSON or raw bytes, with odd or real client authentication.
 * What a client sends is never a 5xx (so never a 503 that would ask it to retry), nothing
 * is logged as an error, and a legitimate request sent at the same moment as each fuzzed
 * one is answered as usual.
 */
import fc from 'fast-check';
import { request } from 'node:http';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.js';
import { createClient, createPool, createUser, REDIRECT_URI } from '../support/fixtures.js';
import { authorizationUrl, codeRequest, postForm } from '../support/protocol.js';
import { discover, signIn } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

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

interface Endpoint {
  name: string;
  path: string;
  methods: ('GET' | 'POST')[];
  params: string[];
}

/** Each endpoint with the parameters its specification defines (and a few it does not). */
const ENDPOINTS: Endpoint[] = [
  {
    name: 'authorization',
    path: '/auth',
    methods: ['GET', 'POST'],
    params: [
      'client_id',
      'response_type',
      'redirect_uri',
      'scope',
      'state',
      'nonce',
      'code_challenge',
      'code_challenge_method',
      'prompt',
      'max_age',
      'login_hint',
      'ui_locales',
      'claims_locales',
      'claims',
      'acr_values',
      'id_token_hint',
      'resource',
      'response_mode',
      'request',
      'request_uri',
      'display',
      'registration',
      'dpop_jkt',
      'authorization_details',
    ],
  },
  {
    name: 'token',
    path: '/token',
    methods: ['POST'],
    params: [
      'grant_type',
      'code',
      'redirect_uri',
      'code_verifier',
      'refresh_token',
      'scope',
      'resource',
      'device_code',
      'client_id',
      'client_secret',
      'client_assertion',
      'client_assertion_type',
      'audience',
      'authorization_details',
    ],
  },
  {
    name: 'introspection',
    path: '/token/introspection',
    methods: ['POST'],
    params: ['token', 'token_type_hint', 'client_id', 'client_secret', 'client_assertion', 'client_assertion_type'],
  },
  { name: 'revocation', path: '/token/revocation', methods: ['POST'], params: ['token', 'token_type_hint', 'client_id', 'client_secret'] },
  { name: 'userinfo', path: '/userinfo', methods: ['GET', 'POST'], params: ['access_token', 'claims', 'scope'] },
  {
    name: 'end session',
    path: '/session/end',
    methods: ['GET', 'POST'],
    params: ['id_token_hint', 'post_logout_redirect_uri', 'state', 'client_id', 'logout_hint', 'ui_locales', 'xsrf', 'logout'],
  },
  { name: 'end session confirmation', path: '/session/end/confirm', methods: ['POST'], params: ['xsrf', 'logout'] },
  {
    name: 'device authorization',
    path: '/device/auth',
    methods: ['POST'],
    params: ['client_id', 'client_secret', 'scope', 'resource', 'login_hint', 'acr_values', 'claims', 'max_age', 'nonce', 'ui_locales'],
  },
  { name: 'device user code', path: '/device', methods: ['GET', 'POST'], params: ['user_code', 'xsrf', 'confirm', 'abort'] },
];

/** A value as sent: text (percent-encoded as UTF-8) or a fragment put into the query or body as it is. */
type Value = { text: string } | { raw: string };

const RAW_FRAGMENTS = ['%00', '%ED%A0%80', '%ED%B0%80', '%C0%80', '%FF%FE', '%E2%82', '%', '%zz', '%%00', '+', '&&', '=', '%u0000', '\u0000', 'a%00b'];
const NASTY = [
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udc00y',
  '\udbff\udbff',
  '\ufffe\uffff',
  '\u2028\u2029',
  '\u001b[31m',
  "' OR '1'='1",
  '<script>alert(1)</script>',
  '${7*7}',
  '../../etc/passwd',
  '__proto__',
  'constructor',
  'null',
  'undefined',
  '[]',
  '{}',
  'urn:ietf:params:oauth:request_uri:x',
  'http://169.254.169.254/latest',
  'javascript:alert(1)',
  '😀👩‍👩‍👧‍👦 ﷽',
];

let tarn: RunningTarn;
let issuer: string;
/** Real values the fuzzer mixes in, so requests get past the first checks. */
let real: string[] = [];
let realClient: { clientId: string; clientSecret: string };
/** A second client, untouched by the fuzzing, that the legitimate requests use. */
let bystander: { clientId: string; clientSecret: string; token: string };

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  // No failure limits: every request must reach the code under test.
  tarn = await startTarn({ RATE_LIMIT_ADMIN_FAILURES: '0', RATE_LIMIT_LOGIN_FAILURES: '0', RATE_LIMIT_TOKEN_FAILURES: '0' }, undefined, {
    log: createLogger('warn', sink),
  });
  const pool = await createPool(tarn);
  issuer = pool.issuer;
  const app = await createClient(tarn, pool.id, {
    grantTypes: ['authorization_code', 'refresh_token', DEVICE_GRANT],
    postLogoutRedirectUris: ['http://rp.example.test/bye'],
  });
  realClient = { clientId: app.clientId, clientSecret: app.secret!.value };
  const user = await createUser(tarn, pool.id);
  const { tokens } = await signIn(await discover(issuer, app.clientId, app.secret?.value), tarn.url, user, { scope: 'openid profile email offline_access' });
  const other = await createClient(tarn, pool.id, { grantTypes: ['client_credentials'], redirectUris: [] });
  const token = (await postForm(`${issuer}/token`, { grant_type: 'client_credentials' }, { clientId: other.clientId, clientSecret: other.secret?.value })).body
    .access_token as string;
  bystander = { clientId: other.clientId, clientSecret: other.secret!.value, token };
  real = [
    app.clientId,
    app.secret!.value,
    REDIRECT_URI,
    'code',
    'openid',
    'openid profile email offline_access',
    'S256',
    'authorization_code',
    'refresh_token',
    'client_credentials',
    DEVICE_GRANT,
    'access_token',
    'refresh_token',
    'consent',
    'login none',
    tokens.access_token,
    tokens.refresh_token!,
    tokens.id_token!,
    'http://rp.example.test/bye',
    'yes',
  ];
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await tarn.close();
});

const text = (arbitrary: fc.Arbitrary<string>): fc.Arbitrary<Value> => arbitrary.map((value) => ({ text: value }));
const value: () => fc.Arbitrary<Value> = () =>
  fc.oneof(
    { weight: 3, arbitrary: text(fc.constantFrom(...real)) },
    { weight: 3, arbitrary: text(fc.constantFrom(...NASTY)) },
    { weight: 2, arbitrary: text(fc.string({ unit: 'binary', maxLength: 40 })) },
    { weight: 1, arbitrary: text(fc.string({ maxLength: 20 })) },
    { weight: 2, arbitrary: fc.constantFrom(...RAW_FRAGMENTS).map((raw) => ({ raw })) },
    { weight: 1, arbitrary: text(fc.tuple(fc.constantFrom(...real), fc.constantFrom(...NASTY)).map(([a, b]) => a + b)) },
    // Huge values: past header limits in a query (431/414), past the body limit in a form (413).
    { weight: 1, arbitrary: text(fc.integer({ min: 5_000, max: 70_000 }).map((n) => 'é'.repeat(n))) },
  );

/** UTF-8 percent-encoding, as a client does (an unpaired surrogate goes as U+FFFD's bytes). */
function encode(value: Value): string {
  if ('raw' in value) return value.raw;
  return [...Buffer.from(value.text, 'utf8')]
    .map((byte) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');
}

/** [name, values]: one value, or several (the parameter repeated), or none. */
const parameters = (names: string[]) =>
  fc.array(
    fc.tuple(
      fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: fc.constantFrom(...NASTY) }),
      fc.array(value(), { minLength: 1, maxLength: 3 }),
    ),
    { maxLength: 8 },
  );

const encodings = fc.constantFrom('query', 'form', 'form', 'form', 'json', 'raw');
const authentication = fc.constantFrom('none', 'none', 'basic', 'basic-nasty', 'bearer-real', 'bearer-nasty');

/** Header values are bytes: anything else (NUL, CR, LF, beyond Latin-1) cannot be sent and is replaced. */
const headerSafe = (value: string) => value.replace(/[^\u0020-\u007e\u00a0-\u00ff]/g, '?');

function authorizationHeader(kind: string, nasty: string): Record<string, string> {
  switch (kind) {
    case 'basic':
      return { authorization: `Basic ${Buffer.from(`${realClient.clientId}:${realClient.clientSecret}`).toString('base64')}` };
    case 'basic-nasty':
      return { authorization: `Basic ${Buffer.from(`${nasty}:${nasty}`, 'utf8').toString('base64')}` };
    case 'bearer-real':
      return { authorization: `Bearer ${real[15]}` };
    case 'bearer-nasty':
      return { authorization: headerSafe(`Bearer ${nasty}`) };
    default:
      return {};
  }
}

/**
 * One fuzzed request on a connection of its own (so a connection the server closes after a
 * 413 or 431 is never reused for another request); its status once the answer is read.
 */
function send(method: string, url: string, headers: Record<string, string>, body: string | undefined): Promise<number> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method,
        headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) },
        agent: false,
        maxHeaderSize: 1 << 20,
      },
      (answer) => {
        answer.resume();
        answer.on('end', () => resolve(answer.statusCode ?? 0));
        answer.on('error', () => resolve(answer.statusCode ?? 0));
      },
    );
    // The server may answer (413, 431) and close before the whole body is written: the answer counts.
    outgoing.on('error', (error) => setImmediate(() => reject(error)));
    outgoing.end(body);
  });
}

/** A legitimate request of one of three kinds, sent at the same moment as a fuzzed one; true when answered as usual. */
async function legitimate(kind: number): Promise<string | undefined> {
  if (kind === 0) {
    const answer = await postForm(`${issuer}/token/introspection`, { token: bystander.token }, bystander);
    return answer.body?.active === true ? undefined : `introspection → ${answer.status} ${answer.text.slice(0, 200)}`;
  }
  if (kind === 1) {
    const answer = await postForm(`${issuer}/token`, { grant_type: 'client_credentials' }, bystander);
    return answer.status === 200 && answer.body?.access_token ? undefined : `client credentials → ${answer.status} ${answer.text.slice(0, 200)}`;
  }
  const { params } = await codeRequest(realClient.clientId);
  const response = await fetch(authorizationUrl(issuer, params), { redirect: 'manual' });
  await response.arrayBuffer();
  return /\/interaction\//.test(response.headers.get('location') ?? '') ? undefined : `authorization → ${response.status}`;
}

it('never answers a protocol endpoint with a 5xx, and never fails the requests beside a fuzzed one', async () => {
  const failures: string[] = [];
  const seen = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...ENDPOINTS).chain((endpoint) => fc.tuple(fc.constant(endpoint), fc.constantFrom(...endpoint.methods), parameters(endpoint.params))),
      encodings,
      authentication,
      fc.constantFrom(...NASTY),
      fc.nat(2),
      async ([endpoint, method, params], encoding, auth, nasty, bystanderKind) => {
        const pairs = params.flatMap(([name, values]) => values.map((item) => `${encode({ text: name })}=${encode(item)}`));
        const query = method === 'GET' || encoding === 'query' ? pairs.join('&') : '';
        let body: string | undefined;
        let type: string | undefined;
        if (method === 'POST' && encoding !== 'query') {
          if (encoding === 'json') {
            // JSON keeps an unpaired surrogate as the escape \udXXX.
            body = JSON.stringify(
              Object.fromEntries(
                params.map(([name, values]) => [
                  name,
                  values.length === 1 ? ('text' in values[0]! ? values[0].text : values[0]!.raw) : values.map((v) => ('text' in v ? v.text : v.raw)),
                ]),
              ),
            );
            type = 'application/json';
          } else {
            body =
              encoding === 'raw'
                ? params.map(([name, values]) => `${name}=${values.map((v) => ('text' in v ? v.text : v.raw)).join(',')}`).join('&')
                : pairs.join('&');
            type = 'application/x-www-form-urlencoded';
          }
        }
        const url = `${issuer}${endpoint.path}${query ? `?${query}` : ''}`;
        const [status, bystanderFailure] = await Promise.all([
          send(method, url, { accept: 'application/json, text/html', ...(type ? { 'content-type': type } : {}), ...authorizationHeader(auth, nasty) }, body),
          legitimate(bystanderKind),
        ]);
        const key = `${endpoint.name} ${status}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        if (status >= 500) failures.push(`${method} ${endpoint.name} (${encoding}, ${auth}) ${url.slice(0, 300)} → ${status}`);
        if (bystanderFailure) failures.push(`beside ${method} ${endpoint.name}: ${bystanderFailure}`);
      },
    ),
    { numRuns: 250, seed: Number(process.env.FUZZ_SEED ?? 16_016) },
  );
  expect(errorLines).toEqual([]);
  expect(failures).toEqual([]);
  expect(unhandled).toEqual([]);
  // Every endpoint was reached, and some fuzzed requests got past the first checks (a 2xx or 3xx).
  const reached = new Set([...seen.keys()].map((key) => key.replace(/ \d+$/, '')));
  expect([...reached].sort()).toEqual(ENDPOINTS.map((endpoint) => endpoint.name).sort());
  expect([...seen].some(([key]) => / [23]\d\d$/.test(key))).toBe(true);
  expect(await legitimate(0)).toBeUndefined();
}, 120_000);
