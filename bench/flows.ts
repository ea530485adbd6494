/**
 * The flows the benchmarks drive the way a browser and a relying party do, over plain
 * keep-alive HTTP (the lightest client, so the load generator takes little of the cores).
 */
import { createHash, randomBytes } from 'node:crypto';
import { basicAuth, CookieJar, request } from './lib.js';

export const REDIRECT_URI = 'http://rp.bench.test/callback';

export interface SignInTarget {
  /** The provider's discovery document. */
  meta: Record<string, string>;
  clientId: string;
  clientSecret: string;
}

export interface Worker {
  jar: CookieJar;
  user: { email: string; password: string };
  access?: string;
  refresh?: string;
}

const b64url = (buffer: Buffer) => buffer.toString('base64url');

function formOf(html: string): { action: string; fields: Record<string, string> } | undefined {
  const form = /<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/.exec(html);
  if (!form) return undefined;
  const fields = Object.fromEntries(
    [...form[2]!.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!.replace(/&amp;/g, '&')]),
  );
  return { action: form[1]!.replace(/&amp;/g, '&'), fields };
}

/**
 * One sign-in as a browser and a relying party do it: authorization request, login page,
 * login form post, consent (first time only: the grant is remembered in the session),
 * back to the client with a code, code exchange at the token endpoint.
 * `forceLogin` sends prompt=login, so a worker whose session exists still posts the form.
 * `onLoginPost` receives the latency of the login form post alone (ms); `onRequest` is told of every
 * request before it is sent.
 */
export async function signIn(
  target: SignInTarget,
  worker: Worker,
  forceLogin: boolean,
  onLoginPost?: (ms: number) => void,
  onRequest?: (method: string, url: string) => void,
): Promise<void> {
  const verifier = b64url(randomBytes(32));
  const params = new URLSearchParams({
    client_id: target.clientId,
    response_type: 'code',
    scope: 'openid email profile',
    redirect_uri: REDIRECT_URI,
    code_challenge: b64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
    state: b64url(randomBytes(12)),
    nonce: b64url(randomBytes(12)),
    ...(forceLogin ? { prompt: 'login' } : {}),
  });
  let url = `${target.meta.authorization_endpoint}?${params}`;
  let method = 'GET';
  let body: string | undefined;
  let code: string | undefined;
  for (let step = 0; step < 12 && !code; step += 1) {
    onRequest?.(method, url);
    const t0 = performance.now();
    const response = await request(method, url, {
      headers: { cookie: worker.jar.header(), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(body !== undefined ? { body } : {}),
    });
    if (method === 'POST' && url.endsWith('/login')) onLoginPost?.(performance.now() - t0);
    worker.jar.store(response.headers);
    if (response.status >= 300 && response.status < 400) {
      const location = new URL(response.headers.location!, url).href;
      if (location.startsWith(REDIRECT_URI)) code = new URL(location).searchParams.get('code') ?? undefined;
      if (location.startsWith(REDIRECT_URI) && !code) throw new Error(`sign-in refused: ${location}`);
      [url, method, body] = [location, 'GET', undefined];
      continue;
    }
    const form = response.status === 200 ? formOf(response.body) : undefined;
    if (!form)
      throw new Error(
        `unexpected ${response.status} at ${url}: ${response.body
          .replace(/<head>[\s\S]*<\/head>/, '')
          .replace(/<[^>]+>/g, ' ')
          .replace(/\s+/g, ' ')
          .slice(0, 400)}`,
      );
    const fields = form.action.includes('/login')
      ? { ...form.fields, email: worker.user.email, password: worker.user.password }
      : { ...form.fields, decision: 'allow' };
    [url, method, body] = [new URL(form.action, url).href, 'POST', new URLSearchParams(fields).toString()];
  }
  if (!code) throw new Error('no authorization code');
  onRequest?.('POST', target.meta.token_endpoint!);
  const exchange = await request('POST', target.meta.token_endpoint!, {
    headers: { authorization: basicAuth(target.clientId, target.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }).toString(),
  });
  if (exchange.status !== 200) throw new Error(`code exchange ${exchange.status}: ${exchange.body}`);
  const tokens = JSON.parse(exchange.body) as { access_token: string; refresh_token?: string; id_token?: string };
  if (!tokens.id_token || !tokens.refresh_token) throw new Error('code exchange without id_token or refresh_token');
  worker.access = tokens.access_token;
  worker.refresh = tokens.refresh_token;
}

export async function admin(url: string, token: string, method: string, path: string, body?: unknown) {
  const response = await request(method, `${url}/admin${path}`, {
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (response.status >= 300) throw new Error(`admin ${method} ${path}: ${response.status} ${response.body}`);
  return JSON.parse(response.body) as Record<string, any>;
}

/**
 * The pool "bench" and a client-credentials application in it, made through Tarn's admin API by
 * the first server (bench:ab, bench:instructions); `made` once it exists. A later server on the
 * same database reads the pool through the admin API instead, so that every server has served
 * admin requests before it is measured, as an operator's instances do (effects of admin
 * traffic on the hot path, like ADR 0708's, must not land on the first variant only).
 */
export async function clientCredentialsApp(
  url: string,
  token: string,
  made?: Record<string, any>,
  grantTypes: string[] = ['client_credentials'],
): Promise<Record<string, any>> {
  if (made) {
    await admin(url, token, 'GET', '/pools/bench');
    return made;
  }
  await admin(url, token, 'POST', '/pools', { id: 'bench', name: 'Bench' });
  return admin(url, token, 'POST', '/pools/bench/clients', {
    name: 'Bench App',
    redirectUris: [REDIRECT_URI],
    grantTypes,
    tokenEndpointAuthMethod: 'client_secret_basic',
  });
}

/** The headers of that application's token requests. */
export function clientCredentialsHeaders(app: Record<string, unknown>): Record<string, string> {
  return { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(app.clientId as string, (app.secret as { value: string }).value) };
}
