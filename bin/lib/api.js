// @ts-check
/**
 * The admin API as the CLI calls it: server and token from flags or TARN_URL and
 * TARN_ADMIN_TOKEN, JSON in and out, RFC 9457 problems turned into readable errors.
 */

export class ProblemError extends Error {
  /** @param {number} status @param {any} problem */
  constructor(status, problem) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** A problem document as lines a person reads. @param {unknown} error */
export function describeError(error) {
  if (error instanceof ProblemError) {
    const { problem, status } = error;
    const lines = [`${problem?.title ?? 'Error'} (${status}): ${problem?.detail ?? ''}`.trim()];
    for (const field of problem?.errors ?? []) lines.push(`  ${field.field || '(body)'}: ${field.detail}`);
    return lines.join('\n');
  }
  // fetch() says only "fetch failed"; the reason (refused, unknown host, …) is its cause.
  if (error instanceof TypeError && error.cause) {
    const cause = /** @type {{ code?: string, message?: string }} */ (error.cause);
    return `Cannot reach the server: ${cause.code ?? cause.message ?? 'no answer'}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * @param {{ url?: string, token?: string }} options
 * @param {Record<string, string | undefined>} env
 */
export function createApi(options, env) {
  const base = (options.url ?? env.TARN_URL ?? 'http://localhost:3000').replace(/\/+$/, '');
  const token = options.token ?? env.TARN_ADMIN_TOKEN;
  if (!token) throw new Error('No admin token: pass --token or set TARN_ADMIN_TOKEN.');
  const headers = { authorization: `Bearer ${token}` };

  /** @param {Response} response */
  async function check(response) {
    if (response.ok) return response;
    const text = await response.text();
    let problem;
    try {
      problem = JSON.parse(text);
    } catch {
      problem = { title: response.statusText, detail: text.slice(0, 200) };
    }
    throw new ProblemError(response.status, problem);
  }

  return {
    base,
    /** @param {string} method @param {string} path @param {unknown} [body] */
    async json(method, path, body) {
      const response = await check(
        await fetch(`${base}/admin${path}`, {
          method,
          headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
      );
      const text = await response.text();
      return text ? JSON.parse(text) : undefined;
    },
    /**
     * Streams a body (NDJSON or CSV) to the server.
     * @param {string} path @param {string} type @param {AsyncIterable<Uint8Array | string>} body
     */
    async stream(path, type, body) {
      const encoder = new TextEncoder();
      const iterator = body[Symbol.asyncIterator]();
      const readable = new ReadableStream({
        async pull(controller) {
          const next = await iterator.next();
          if (next.done) controller.close();
          else controller.enqueue(typeof next.value === 'string' ? encoder.encode(next.value) : next.value);
        },
      });
      // A streamed request body needs duplex "half" (the Fetch standard); Node's types lag behind.
      const init = /** @type {RequestInit} */ ({ method: 'POST', headers: { ...headers, 'content-type': type }, body: readable, duplex: 'half' });
      const response = await check(await fetch(`${base}/admin${path}`, init));
      return response.json();
    },
    /** @param {string} path */
    async get(path) {
      return check(await fetch(`${base}/admin${path}`, { headers }));
    },
  };
}
