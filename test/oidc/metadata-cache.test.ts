/**
 * Discovery and JWKS are answered from memory after the first request (ADR 0702). What a
 * relying party sees must not change: the same document and headers every time, endpoint
 * URLs of the host it asked, CORS for browsers, and a rotated key at once.
 */
import http from 'node:http';
import type { JSONWebKeySet } from 'jose';
import { createPool } from '../support/fixtures.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  // The default check interval: pool entries stay cached between requests, as in production.
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn.close();
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A GET with headers fetch() will not send (Host). */
function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

/** The headers that describe the document (not the request id, date or connection). */
function describing(headers: http.IncomingHttpHeaders) {
  const { 'x-request-id': _id, date: _date, connection: _connection, 'keep-alive': _keepAlive, ...rest } = headers;
  return rest;
}

it('answers discovery and JWKS the same on every request, with the provider headers', async () => {
  const pool = await createPool(tarn);
  for (const [path, type] of [
    ['/.well-known/openid-configuration', 'application/json; charset=utf-8'],
    ['/jwks', 'application/jwk-set+json; charset=utf-8'],
  ]) {
    const answers = [];
    for (let i = 0; i < 3; i += 1) answers.push(await get(`${pool.issuer}${path}`));
    const [first, ...later] = answers as [Answer, ...Answer[]];
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toBe(type);
    expect(first.headers['access-control-allow-origin']).toBe('*');
    expect(first.headers['x-content-type-options']).toBe('nosniff');
    expect(first.headers['content-security-policy']).toBeUndefined();
    for (const answer of later) {
      expect(answer.status).toBe(200);
      expect(answer.body).toBe(first.body);
      expect(describing(answer.headers)).toEqual(describing(first.headers));
      expect(answer.headers['x-request-id']).not.toBe(first.headers['x-request-id']);
    }
  }
  const discovery = JSON.parse((await get(`${pool.issuer}/.well-known/openid-configuration`)).body) as Record<string, string>;
  expect(discovery.issuer).toBe(pool.issuer);
  expect(discovery.jwks_uri).toBe(`${pool.issuer}/jwks`);
});

it('builds endpoint URLs from the host asked, for any number of host names', async () => {
  const pool = await createPool(tarn);
  const { port, pathname } = new URL(pool.issuer);
  const url = `${pool.issuer}/.well-known/openid-configuration`;
  // More names than the cache keeps per pool: the later ones are answered by the provider.
  for (const host of ['127.0.0.1', 'localhost', 'idp.example.test', 'a.example.test', 'b.example.test', 'c.example.test', 'd.example.test', '127.0.0.1']) {
    for (let i = 0; i < 2; i += 1) {
      const answer = await get(url, { host: `${host}:${port}` });
      expect(answer.status).toBe(200);
      const document = JSON.parse(answer.body) as Record<string, string>;
      expect(document.token_endpoint).toBe(`http://${host}:${port}${pathname}/token`);
      expect(document.issuer).toBe(pool.issuer);
    }
  }
});

it('gives a browser request CORS for its own origin, before and after the document is cached', async () => {
  const pool = await createPool(tarn);
  const url = `${pool.issuer}/.well-known/openid-configuration`;
  const origins = ['https://spa.example.test', 'https://other.example.test'];
  const before = await get(url, { origin: origins[0]! });
  await get(url);
  await get(url);
  const after = await get(url, { origin: origins[1]! });
  expect(before.headers['access-control-allow-origin']).toBe(origins[0]);
  expect(after.headers['access-control-allow-origin']).toBe(origins[1]);
  expect(after.body).toBe(before.body);
});

it('publishes a rotated key set on the next request, and a query string changes nothing', async () => {
  const pool = await createPool(tarn);
  const kids = async (query = '') => (JSON.parse((await get(`${pool.issuer}/jwks${query}`)).body) as JSONWebKeySet).keys.map((key) => key.kid!).sort();
  const published = await kids();
  expect(await kids()).toEqual(published);

  // Revoking rotation: the current keys leave the set at once, new next keys join it.
  expect((await tarn.admin('POST', `/pools/${pool.id}/keys/rotate`, { revoke: true })).status).toBe(200);
  const keys = (await tarn.admin('GET', `/pools/${pool.id}/keys`)).body.items as { kid: string; published: boolean }[];
  const expected = keys
    .filter((key) => key.published)
    .map((key) => key.kid)
    .sort();
  const rotated = await kids();
  expect(rotated).toEqual(expected);
  expect(rotated).not.toEqual(published);
  expect(await kids('?unused=1')).toEqual(rotated);
});

it('answers HEAD and other methods as the provider does, never with the remembered document', async () => {
  const pool = await createPool(tarn);
  const url = `${pool.issuer}/.well-known/openid-configuration`;
  await get(url);
  const head = await fetch(url, { method: 'HEAD' });
  expect(head.status).toBe(200);
  expect(head.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(await head.text()).toBe('');
  const post = await fetch(url, { method: 'POST' });
  expect(post.status).toBe(404);
  expect(post.headers.get('content-type')).toBe('application/problem+json');
  expect(await post.text()).not.toContain('jwks_uri');
});
