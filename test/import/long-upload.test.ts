/**
 * A long upload against the request deadline (REQUEST_TIMEOUT_MS, lowered here to one
 * second): an administrator's import whose body arrives over several deadlines is read to
 * the end, while any other slow body (an anonymous "import" included) is answered 408 or
 * has its connection closed, as a slow-loris client should.
 */
import http from 'node:http';
import { createPool } from '../support/fixtures.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

const DEADLINE_MS = 1000;

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn({ REQUEST_TIMEOUT_MS: String(DEADLINE_MS) });
});
afterAll(async () => {
  await tarn.close();
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  status: number;
  type: string | undefined;
  body: string;
  /** True once the server closed the connection. */
  closed: Promise<true>;
}

/**
 * Sends `parts` one after the other, `gapMs` apart, then ends the body unless `leaveOpen`.
 * Resolves with the answer as soon as it is complete (the body may still be unsent then).
 */
function trickle(path: string, parts: string[], options: { gapMs: number; type: string; authorization?: string; leaveOpen?: boolean }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, tarn.url);
    const request = http.request(url, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': options.type, ...(options.authorization ? { authorization: options.authorization } : {}) },
    });
    let answered = false;
    const closed = new Promise<true>((resolveClosed) => request.once('close', () => resolveClosed(true)));
    request.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (data: string) => (body += data));
      response.on('end', () => {
        answered = true;
        resolve({ status: response.statusCode ?? 0, type: response.headers['content-type'], body, closed });
      });
    });
    request.on('error', (error) => {
      if (!answered) reject(error);
    });
    request.flushHeaders();
    void (async () => {
      for (const part of parts) {
        if (answered || request.destroyed) return;
        request.write(part);
        await pause(options.gapMs);
      }
      if (!options.leaveOpen && !request.destroyed) request.end();
    })();
  });
}

describe('the request deadline', () => {
  it('lets an administrator’s import arrive over several deadlines and stores every line', async () => {
    const pool = await createPool(tarn);
    const parts = Array.from({ length: 5 }, (_, part) =>
      Array.from({ length: 200 }, (_, i) => `${JSON.stringify({ email: `slow${part * 200 + i}@example.test` })}\n`).join(''),
    );
    // Five parts 600 ms apart: the body takes about three deadlines to arrive.
    const answer = await trickle(`/admin/pools/${pool.id}/users/import`, parts, {
      gapMs: 600,
      type: 'application/x-ndjson',
      authorization: `Bearer ${tarn.adminToken}`,
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ committed: true, lines: 1000, created: 1000, failed: 0 });
    const last = await tarn.admin('GET', `/pools/${pool.id}/users?email=slow999@example.test`);
    expect(last.body.items).toEqual([expect.objectContaining({ email: 'slow999@example.test' })]);
  });

  it('answers 408 to another slow body and closes its connection, keeping nothing of it', async () => {
    const id = `slow-${Date.now().toString(36)}`;
    const body = JSON.stringify({ id, name: 'Never created' });
    const answer = await trickle('/admin/pools', [body.slice(0, 10)], {
      gapMs: 0,
      type: 'application/json',
      authorization: `Bearer ${tarn.adminToken}`,
      leaveOpen: true,
    });
    expect(answer.status).toBe(408);
    expect(answer.type).toBe('application/problem+json');
    expect(JSON.parse(answer.body)).toMatchObject({ status: 408, detail: 'The request was not received in time.' });
    await expect(answer.closed).resolves.toBe(true);
    expect((await tarn.admin('GET', `/pools/${id}`)).status).toBe(404);
  });

  it('does not exempt an import without the admin token: refused at once, its connection closed at the deadline', async () => {
    const pool = await createPool(tarn);
    const answer = await trickle(`/admin/pools/${pool.id}/users/import`, [`${JSON.stringify({ email: 'anon@example.test' })}\n`], {
      gapMs: 0,
      type: 'application/x-ndjson',
      authorization: 'Bearer not-the-token',
      leaveOpen: true,
    });
    expect(answer.status).toBe(401);
    // The body is never finished: the server does not wait for it past the deadline.
    await expect(answer.closed).resolves.toBe(true);
  });

  it('streams an export to a client that reads it after the deadline', async () => {
    const pool = await createPool(tarn);
    const lines = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ email: `reader${i}@example.test` })).join('\n');
    const imported = await fetch(`${tarn.url}/admin/pools/${pool.id}/users/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tarn.adminToken}`, 'content-type': 'application/x-ndjson' },
      body: lines,
    });
    expect(imported.status).toBe(200);
    const text = await new Promise<string>((resolve, reject) => {
      http
        .get(`${tarn.url}/admin/pools/${pool.id}/users/export`, { headers: { authorization: `Bearer ${tarn.adminToken}` } }, (response) => {
          response.pause();
          // The slow reader starts reading only after one and a half deadlines.
          setTimeout(() => {
            let body = '';
            response.setEncoding('utf8');
            response.on('data', (data: string) => (body += data));
            response.on('end', () => resolve(body));
            response.on('error', reject);
            response.resume();
          }, DEADLINE_MS * 1.5);
        })
        .on('error', reject);
    });
    expect(text.trim().split('\n')).toHaveLength(2000);
  });
});
