/**
 * A stand-in for GitHub's OAuth app flow and REST API, written from GitHub's public
 * documentation (the only upstream Tarn's tests do not reach for real):
 * - "Authorizing OAuth apps": GET /login/oauth/authorize redirects back with `code` and
 *   `state` once the user approves (here: at once, as `login` below); POST
 *   /login/oauth/access_token takes client_id, client_secret, code and redirect_uri and,
 *   with Accept: application/json, answers { access_token, scope, token_type: "bearer" }.
 * - REST "Get the authenticated user": GET /user → { login, id (number), name, email
 *   (the public email, often null), avatar_url, … }.
 * - REST "List email addresses for the authenticated user": GET /user/emails →
 *   [{ email, primary, verified, visibility }].
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';

export interface GitHubAccount {
  login: string;
  id: number;
  name: string | null;
  emails: { email: string; primary: boolean; verified: boolean }[];
}

export interface GitHubStandIn {
  url: string;
  /** Who "approves" the next authorization. */
  login(account: GitHubAccount): void;
  /** What the token endpoint received, to check client authentication. */
  tokenRequests: URLSearchParams[];
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => resolve(body));
    request.on('error', reject);
  });
}

export async function startGitHubStandIn(clientId: string, clientSecret: string): Promise<GitHubStandIn> {
  let current: GitHubAccount | undefined;
  const codes = new Map<string, { account: GitHubAccount; redirectUri: string }>();
  const tokens = new Map<string, GitHubAccount>();
  const tokenRequests: URLSearchParams[] = [];

  const server: Server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://stand-in');
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      response.end(JSON.stringify(body));
    };
    if (request.method === 'GET' && url.pathname === '/login/oauth/authorize') {
      const redirectUri = url.searchParams.get('redirect_uri')!;
      if (url.searchParams.get('client_id') !== clientId || !current) return json(400, { error: 'unknown client' });
      const code = randomBytes(10).toString('hex');
      codes.set(code, { account: current, redirectUri });
      const back = new URL(redirectUri);
      back.searchParams.set('code', code);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      response.writeHead(302, { location: back.href });
      return response.end();
    }
    if (request.method === 'POST' && url.pathname === '/login/oauth/access_token') {
      const form = new URLSearchParams(await readBody(request));
      tokenRequests.push(form);
      const grant = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      // GitHub answers errors with 200 and an `error` member.
      if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) return json(200, { error: 'incorrect_client_credentials' });
      if (!grant || grant.redirectUri !== form.get('redirect_uri')) return json(200, { error: 'bad_verification_code' });
      const token = `gho_${randomBytes(16).toString('hex')}`;
      tokens.set(token, grant.account);
      return json(200, { access_token: token, scope: 'read:user,user:email', token_type: 'bearer' });
    }
    const token = /^(?:Bearer|token) (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const account = token ? tokens.get(token) : undefined;
    if (url.pathname === '/user' || url.pathname === '/user/emails') {
      if (!account) return json(401, { message: 'Requires authentication' });
      if (url.pathname === '/user/emails')
        return json(
          200,
          account.emails.map((entry) => ({ ...entry, visibility: entry.primary ? 'public' : null })),
        );
      return json(200, { login: account.login, id: account.id, name: account.name, email: null, avatar_url: `https://avatars.example.test/u/${account.id}` });
    }
    return json(404, { message: 'Not Found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    login(account) {
      current = account;
    },
    tokenRequests,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
