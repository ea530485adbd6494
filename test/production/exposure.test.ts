/**
 * What a deployment shows to anyone on the network, and what it reads:
 * - /metrics is not served in production unless METRICS_TOKEN says how (a token, or `open`);
 * - JSON bodies are UTF-8 (RFC 8259 §8.1): one labelled with another charset is a 415
 *   problem document, never decoded as something else.
 */
import { setUpSignIn, signIn } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn?.close();
});

// What production needs besides what startTarn gives every test.
const production = { NODE_ENV: 'production', SMTP_URL: 'smtp://127.0.0.1:9' };

describe('/metrics in production', () => {
  it('is not found without METRICS_TOKEN, asks for the token when one is set, and is open only when told so', async () => {
    const closed = await startTarn(production, tarn.database);
    try {
      const response = await fetch(`${closed.url}/metrics`);
      expect(response.status).toBe(404);
      expect(await response.text()).not.toContain('tarn_http_requests_total');
    } finally {
      await closed.close();
    }

    const guarded = await startTarn({ ...production, METRICS_TOKEN: 'scrape-9f3b7c1e5a2d8046' }, tarn.database);
    try {
      expect((await fetch(`${guarded.url}/metrics`)).status).toBe(401);
      const scraped = await fetch(`${guarded.url}/metrics`, { headers: { authorization: 'Bearer scrape-9f3b7c1e5a2d8046' } });
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain('tarn_http_requests_total');
    } finally {
      await guarded.close();
    }

    const open = await startTarn({ ...production, METRICS_TOKEN: 'open' }, tarn.database);
    try {
      const scraped = await fetch(`${open.url}/metrics`);
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain('tarn_http_requests_total');
    } finally {
      await open.close();
    }
  });
});

describe('JSON bodies (RFC 8259 §8.1: UTF-8 only)', () => {
  const utf16 = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf16le');

  it('refuses a body labelled UTF-16 with a 415 problem document, whatever its bytes, and creates nothing', async () => {
    // Once encoded as UTF-16, once as plain ASCII that only the label calls UTF-16.
    for (const encode of [utf16, (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8')]) {
      const id = `utf16-${Math.random().toString(36).slice(2, 10)}`;
      const response = await fetch(`${tarn.url}/admin/pools`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tarn.adminToken}`, 'content-type': 'application/json; charset=utf-16' },
        body: encode({ id, name: 'Sixteen' }),
      });
      expect(response.status).toBe(415);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(((await response.json()) as { detail: string }).detail).toContain('UTF-8');
      expect((await tarn.admin('GET', `/pools/${id}`)).status).toBe(404);
    }
  });

  it('still takes UTF-8, labelled or not', async () => {
    for (const contentType of ['application/json', 'application/json; charset=utf-8', 'application/json; charset="UTF-8"']) {
      const response = await fetch(`${tarn.url}/admin/pools`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tarn.adminToken}`, 'content-type': contentType },
        body: JSON.stringify({ id: `utf8-${Math.random().toString(36).slice(2, 10)}`, name: 'Zoë' }),
      });
      expect([contentType, response.status]).toEqual([contentType, 201]);
      expect(((await response.json()) as { name: string }).name).toBe('Zoë');
    }
  });

  it("refuses a body labelled UTF-16 at a pool's own JSON API (PATCH /me) the same way", async () => {
    const { config, user, pool } = await setUpSignIn(tarn);
    const { tokens } = await signIn(config, tarn.url, user, { scope: 'openid profile' });
    const patched = await fetch(`${pool.issuer}/me`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json; charset=utf-16' },
      body: JSON.stringify({ profile: { nickname: 'sixteen' } }),
    });
    expect(patched.status).toBe(415);
    const after = await fetch(`${pool.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(((await after.json()) as { profile: Record<string, unknown> }).profile.nickname).toBeUndefined();
  });
});
