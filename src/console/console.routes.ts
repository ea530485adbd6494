/**
 * The console at /console (ADR 1000): server-rendered pages over the admin API. Every page
 * acts with the signed-in administrator's own access token, through the admin API in process
 * (dispatch.ts), so the API's roles, validation and audit apply to the console unchanged.
 * Signing in is the authorization code flow with PKCE at the admin pool, as any relying party.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import * as oidc from 'openid-client';
import { readForm } from '../http/body.js';
import { HostedPageError } from '../http/problem.js';
import { ADMIN_API_SCOPE, ADMIN_POOL_ID, adminApiAudience, CONSOLE_CLIENT_ID } from '../oidc/built-in-clients.js';
import { issuerFor } from '../pools/pools.service.js';
import type { PageRenderer } from '../views/render.js';
import { roleOn, type AdministratorPrincipal, type Administrators } from './administrators.js';
import { buildDailyChart } from './chart.js';
import type { AdminAnswer, AdminCaller } from './dispatch.js';
import { consoleCookies, consoleCsrf, consoleCsrfValid, type ConsoleSession } from './session.js';
import type { ConsoleSetup } from './setup.service.js';

export interface ConsoleDeps {
  publicUrl: string;
  csrfKey: Buffer;
  bodyLimitBytes: number;
  pages: PageRenderer;
  administrators: Administrators;
  setup: ConsoleSetup;
  callAdmin: AdminCaller;
}

interface Signed {
  session: ConsoleSession;
  principal: AdministratorPrincipal;
  csrf: string;
}

/** Field names of the admin API, as people call them. */
const LABELS: Record<string, string> = {
  id: 'Pool id',
  name: 'Name',
  tagColor: 'Tag colour',
  email: 'Email',
  password: 'Password',
  redirectUris: 'Redirect URIs',
  postLogoutRedirectUris: 'Post-logout redirect URIs',
  tokenEndpointAuthMethod: 'Client type',
  grantTypes: 'Grant types',
  since: 'From',
  'roles.0.pool': 'Pool',
  roles: 'Role',
  until: 'Until',
  actor: 'Actor',
  action: 'Action',
};

function labelOf(field: string): string {
  if (LABELS[field]) return LABELS[field];
  const [first = field, index] = field.split('.');
  const label = LABELS[first] ?? first;
  return index !== undefined && /^\d+$/.test(index) ? `${label} (line ${Number(index) + 1})` : label;
}

/** A problem document as a person reads it: the sentence, and each field by its label. */
export function describeProblem(answer: AdminAnswer): { message: string; fields: { label: string; detail: string }[] } {
  const body = (answer.body ?? {}) as { title?: string; detail?: string; errors?: { field: string; detail: string }[] };
  return {
    message: body.detail ?? body.title ?? 'The request could not be completed.',
    fields: (body.errors ?? []).map((error) => ({ label: labelOf(error.field), detail: error.detail })),
  };
}

const lines = (value: string | undefined) =>
  (value ?? '')
    .split(/\s+/)
    .map((line) => line.trim())
    .filter(Boolean);

export function createConsoleRouter(deps: ConsoleDeps): Router {
  const router = new Router({ prefix: '/console' });
  const issuer = issuerFor(deps.publicUrl, ADMIN_POOL_ID);

  /** The token endpoint is called on this very server, at the address the request came in on. */
  function oidcConfig(ctx: Context): oidc.Configuration {
    const socket = ctx.req.socket;
    const address = (socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    const host = address.includes(':') ? `[${address}]` : address;
    const local = `http://${host}:${socket.localPort}`;
    const config = new oidc.Configuration(
      {
        issuer,
        authorization_endpoint: `${issuer}/auth`,
        token_endpoint: `${local}/pools/${ADMIN_POOL_ID}/token`,
        end_session_endpoint: `${issuer}/session/end`,
      },
      CONSOLE_CLIENT_ID,
      undefined,
      oidc.None(),
    );
    oidc.allowInsecureRequests(config);
    return config;
  }

  async function render(ctx: Context, view: string, locals: Record<string, unknown>, status = 200): Promise<void> {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.pages.render(`console/${view}`, undefined, { signed: undefined, error: undefined, notice: undefined, ...locals });
  }

  /** The signed-in administrator, or a redirect to sign in (undefined). */
  async function signedIn(ctx: Context): Promise<Signed | undefined> {
    const session = consoleCookies.session(ctx);
    const principal = session && session.expiresAt * 1000 > Date.now() ? await deps.administrators.verifyAccessToken(session.accessToken) : undefined;
    if (!session || !principal) {
      if (session) consoleCookies.clearSession(ctx);
      ctx.status = 303;
      ctx.redirect('/console/signin');
      return undefined;
    }
    return { session, principal, csrf: consoleCsrf(deps.csrfKey, session) };
  }

  async function form(ctx: Context, signed: Signed): Promise<Record<string, string>> {
    const fields = await readForm(ctx, deps.bodyLimitBytes);
    if (!consoleCsrfValid(deps.csrfKey, signed.session, fields.csrf)) {
      throw new HostedPageError(403, 'Form expired', 'This form was not sent from the console, or it has expired. Go back, reload the page and try again.');
    }
    return fields;
  }

  const call = (ctx: Context, signed: Signed, method: string, path: string, body?: unknown) =>
    deps.callAdmin(ctx, signed.session.accessToken, method, path, body);

  /** An answer the page cannot do without: 404 (or the session ended) becomes the page's answer. */
  async function must(ctx: Context, answer: AdminAnswer): Promise<AdminAnswer | undefined> {
    if (answer.status === 401) {
      consoleCookies.clearSession(ctx);
      ctx.status = 303;
      ctx.redirect('/console/signin');
      return undefined;
    }
    if (answer.status >= 400) {
      const problem = describeProblem(answer);
      await render(ctx, 'message', { title: answer.status === 404 ? 'Not found' : 'Not possible', message: problem.message }, answer.status);
      return undefined;
    }
    return answer;
  }

  const poolPath = (poolId: string) => `/pools/${encodeURIComponent(poolId)}`;

  // First run --------------------------------------------------------------------------------
  router.get('/setup', async function showSetup(ctx) {
    const token = typeof ctx.query.token === 'string' ? ctx.query.token : '';
    if (!(await deps.setup.tokenUsable(token))) throw new HostedPageError(410, 'Setup link not valid', 'This setup link has expired or was already used.');
    await render(ctx, 'setup', { token, csrf: consoleCsrf(deps.csrfKey, { accessToken: `setup:${token}`, idToken: '', expiresAt: 0 }), email: '' });
  });

  router.post('/setup', async function submitSetup(ctx) {
    const fields = await readForm(ctx, deps.bodyLimitBytes);
    const token = fields.token ?? '';
    if (!consoleCsrfValid(deps.csrfKey, { accessToken: `setup:${token}`, idToken: '', expiresAt: 0 }, fields.csrf)) {
      throw new HostedPageError(403, 'Form expired', 'This form was not sent from the setup page. Open the setup link again.');
    }
    const csrf = fields.csrf;
    if ((fields.password ?? '') !== (fields.confirm ?? '')) {
      return render(ctx, 'setup', { token, csrf, email: fields.email ?? '', error: { message: 'The two passwords differ.', fields: [] } }, 400);
    }
    try {
      await deps.setup.completeSetup(token, (fields.email ?? '').trim(), fields.password ?? '');
    } catch (error) {
      if (error instanceof HostedPageError) throw error;
      const status = (error as { status?: number }).status;
      if (status && status < 500) {
        const body = (error as { toProblem(): unknown }).toProblem();
        return render(ctx, 'setup', { token, csrf, email: fields.email ?? '', error: describeProblem({ status, body }) }, status);
      }
      throw error;
    }
    ctx.status = 303;
    ctx.redirect('/console/signin');
  });

  // Signing in and out -------------------------------------------------------------------------
  router.get('/signin', async function startSignIn(ctx) {
    const verifier = oidc.randomPKCECodeVerifier();
    const pending = { verifier, state: oidc.randomState(), nonce: oidc.randomNonce() };
    consoleCookies.setPending(ctx, pending);
    const url = oidc.buildAuthorizationUrl(oidcConfig(ctx), {
      redirect_uri: `${deps.publicUrl}/console/callback`,
      scope: `openid email ${ADMIN_API_SCOPE}`,
      resource: adminApiAudience(deps.publicUrl),
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    ctx.status = 303;
    ctx.redirect(url.href);
  });

  router.get('/callback', async function finishSignIn(ctx) {
    const pending = consoleCookies.pending(ctx);
    if (!pending) throw new HostedPageError(400, 'Sign-in expired', 'The sign-in took too long or was started elsewhere. Sign in again from the console.');
    consoleCookies.clearPending(ctx);
    const current = new URL(ctx.originalUrl, deps.publicUrl);
    let tokens: oidc.TokenEndpointResponse;
    try {
      tokens = await oidc.authorizationCodeGrant(
        oidcConfig(ctx),
        current,
        { pkceCodeVerifier: pending.verifier, expectedState: pending.state, expectedNonce: pending.nonce, idTokenExpected: true },
        { resource: adminApiAudience(deps.publicUrl) },
      );
    } catch (error) {
      const description = (error as { error_description?: string }).error_description ?? (error as Error).message;
      throw new HostedPageError(400, 'Sign-in failed', `The sign-in did not complete: ${description}`);
    }
    const principal = await deps.administrators.verifyAccessToken(tokens.access_token);
    if (!principal) {
      return render(ctx, 'message', { title: 'No access', message: 'You signed in, but you have no role in this console. Ask an owner to give you one.' }, 403);
    }
    consoleCookies.setSession(ctx, {
      accessToken: tokens.access_token,
      idToken: tokens.id_token ?? '',
      expiresAt: Math.floor(Date.now() / 1000) + (tokens.expires_in ?? 300),
    });
    ctx.status = 303;
    ctx.redirect('/console');
  });

  router.post('/signout', async function signOut(ctx) {
    const signed = await signedIn(ctx);
    if (!signed) return;
    await form(ctx, signed);
    consoleCookies.clearSession(ctx);
    const url = oidc.buildEndSessionUrl(oidcConfig(ctx), {
      id_token_hint: signed.session.idToken,
      post_logout_redirect_uri: `${deps.publicUrl}/console/signed-out`,
    });
    ctx.status = 303;
    ctx.redirect(url.href);
  });

  router.get('/signed-out', async function showSignedOut(ctx) {
    await render(ctx, 'message', {
      title: 'Signed out',
      message: 'You have signed out of the Tarn console.',
      link: { href: '/console', text: 'Sign in again' },
    });
  });

  // Pools ------------------------------------------------------------------------------------
  router.get('/', async function listPools(ctx) {
    const signed = await signedIn(ctx);
    if (!signed) return;
    const answer = await must(ctx, await call(ctx, signed, 'GET', '/pools?limit=200'));
    if (!answer) return;
    const pools = (answer.body.items as { id: string; name: string; tagColor: string | null; description: string }[]).filter(
      (pool) => pool.id !== ADMIN_POOL_ID,
    );
    const counts = await Promise.all(pools.map((pool) => call(ctx, signed, 'GET', `${poolPath(pool.id)}/users?limit=1&total=true`)));
    await render(ctx, 'pools', {
      signed,
      pools: pools.map((pool, index) => ({ ...pool, userCount: counts[index]!.body?.total ?? 0, role: roleOn(signed.principal, pool.id) })),
    });
  });

  router.post('/pools', async function createPool(ctx) {
    const signed = await signedIn(ctx);
    if (!signed) return;
    const fields = await form(ctx, signed);
    const body = { name: fields.name ?? '', ...(fields.id ? { id: fields.id } : {}), ...(fields.tagColor ? { tagColor: fields.tagColor } : {}) };
    const answer = await call(ctx, signed, 'POST', '/pools', body);
    if (answer.status === 201) {
      ctx.status = 303;
      return ctx.redirect(`/console/pools/${encodeURIComponent(answer.body.id as string)}`);
    }
    if (answer.status === 401) return must(ctx, answer);
    const list = await call(ctx, signed, 'GET', '/pools?limit=200');
    await render(
      ctx,
      'pools',
      {
        signed,
        pools: ((list.body?.items ?? []) as { id: string }[]).filter((pool) => pool.id !== ADMIN_POOL_ID),
        error: describeProblem(answer),
        values: fields,
      },
      answer.status,
    );
  });

  async function poolPage(ctx: Context, signed: Signed, poolId: string, extra: Record<string, unknown> = {}, status = 200) {
    const pool = await must(ctx, await call(ctx, signed, 'GET', poolPath(poolId)));
    if (!pool) return;
    const [clients, keys, secrets] = await Promise.all([
      call(ctx, signed, 'GET', `${poolPath(poolId)}/clients?limit=200`),
      call(ctx, signed, 'GET', `${poolPath(poolId)}/keys`),
      call(ctx, signed, 'GET', `${poolPath(poolId)}/secrets`),
    ]);
    await render(
      ctx,
      'pool',
      {
        signed,
        pool: pool.body,
        role: roleOn(signed.principal, poolId),
        clients: clients.body?.items ?? [],
        keys: keys.body?.items ?? [],
        secrets: secrets.body?.items ?? [],
        discoveryUrl: `${pool.body.issuer as string}/.well-known/openid-configuration`,
        ...extra,
      },
      status,
    );
  }

  router.get('/pools/:pool', async function showPool(ctx) {
    const signed = await signedIn(ctx);
    if (signed) await poolPage(ctx, signed, ctx.params.pool!);
  });

  router.post('/pools/:pool/clients', async function createClient(ctx) {
    const signed = await signedIn(ctx);
    if (!signed) return;
    const fields = await form(ctx, signed);
    const confidential = fields.type !== 'public';
    const answer = await call(ctx, signed, 'POST', `${poolPath(ctx.params.pool!)}/clients`, {
      name: fields.name ?? '',
      redirectUris: lines(fields.redirectUris),
      postLogoutRedirectUris: lines(fields.postLogoutRedirectUris),
      grantTypes: ['authorization_code', 'refresh_token'],
      tokenEndpointAuthMethod: confidential ? 'client_secret_basic' : 'none',
    });
    if (answer.status === 401) return must(ctx, answer);
    if (answer.status === 201) return poolPage(ctx, signed, ctx.params.pool!, { created: answer.body }, 201);
    await poolPage(ctx, signed, ctx.params.pool!, { clientError: describeProblem(answer), values: fields }, answer.status);
  });

  router.post('/pools/:pool/clients/:clientId/secret', async function rotateClientSecret(ctx) {
    const signed = await signedIn(ctx);
    if (!signed) return;
    await form(ctx, signed);
    const answer = await call(ctx, signed, 'POST', `${poolPath(ctx.params.pool!)}/clients/${encodeURIComponent(ctx.params.clientId!)}/secret/rotate`);
    if (answer.status === 401) return must(ctx, answer);
    await poolPage(
      ctx,
      signed,
      ctx.params.pool!,
      answer.status < 300 ? { created: answer.body, rotated: true } : { error: describeProblem(answer) },
      answer.status < 300 ? 200 : answer.status,
    );
  });

  router.post('/pools/:pool/keys/rotate', async function rotateKeys(ctx) {
    const signed = await signedIn(ctx);
    if (!signed) return;
    const fields = await form(ctx, signed);
    const answer = await call(ctx, signed, 'POST', `${poolPath(ctx.params.pool!)}/keys/rotate`, { revoke: fields.revoke === 'yes' });
    if (answer.status === 401) return must(ctx, answer);
    await poolPage(
      ctx,
      signed,
      ctx.params.pool!,
      answer.status < 300 ? { notice: 'Signing keys rotated.' } : { error: describeProblem(answer) },
      answer.status < 300 ? 200 : answer.status,
    );
  });

  router.post('/pools/:pool/secret/rotate', async function rotateSecret(ctx) {
    const signed = await signedIn(ctx);
    if (!signed) return;
    const fields = await form(ctx, signed);
    if (fields.confirm !== ctx.params.pool) {
      return poolPage(
        ctx,
        signed,
        ctx.params.pool!,
        { error: { message: 'Type the pool id to confirm.', fields: [{ label: 'Confirmation', detail: 'Must be the pool id.' }] } },
        400,
      );
    }
    const answer = await call(ctx, signed, 'POST', `${poolPath(ctx.params.pool!)}/secrets/rotate`);
    if (answer.status === 401) return must(ctx, answer);
    await poolPage(
      ctx,
      signed,
      ctx.params.pool!,
      answer.status < 300 ? { newSecret: answer.body.nextSecret.value } : { error: describeProblem(answer) },
      answer.status < 300 ? 200 : answer.status,
    );
  });

  router.post('/pools/:pool/settings', async function changePool(ctx) {
    const signed = await signedIn(ctx);
    if (!signed) return;
    const fields = await form(ctx, signed);
    const answer = await call(ctx, signed, 'PATCH', poolPath(ctx.params.pool!), {
      name: fields.name ?? '',
      description: fields.description ?? '',
      ...(fields.tagColor ? { tagColor: fields.tagColor } : {}),
      selfRegistration: fields.selfRegistration === 'on',
      signIn: { password: fields.password === 'on', emailCode: fields.emailCode === 'on', passkey: fields.passkey === 'on' },
    });
    if (answer.status === 401) return must(ctx, answer);
    await poolPage(
      ctx,
      signed,
      ctx.params.pool!,
      answer.status < 300 ? { notice: 'Settings saved.' } : { error: describeProblem(answer) },
      answer.status < 300 ? 200 : answer.status,
    );
  });

  router.post('/pools/:pool/delete', async function deletePool(ctx) {
    const signed = await signedIn(ctx);
    if (!signed) return;
    const fields = await form(ctx, signed);
    if (fields.confirm !== ctx.params.pool) {
      return poolPage(
        ctx,
        signed,
        ctx.params.pool!,
        { error: { message: 'Type the pool id to delete it.', fields: [{ label: 'Confirmation', detail: 'Must be the pool id.' }] } },
        400,
      );
    }
    const answer = await call(ctx, signed, 'DELETE', poolPath(ctx.params.pool!));
    if (answer.status === 401) return must(ctx, answer);
    if (answer.status >= 300) return poolPage(ctx, signed, ctx.params.pool!, { error: describeProblem(answer) }, answer.status);
    ctx.status = 303;
    ctx.redirect('/console');
  });

  // Users ------------------------------------------------------------------------------------
  async function usersPage(ctx: Context, signed: Signed, poolId: string, extra: Record<string, unknown> = {}, status = 200) {
    const pool = await must(ctx, await call(ctx, signed, 'GET', poolPath(poolId)));
    if (!pool) return;
    const q = typeof ctx.query.q === 'string' ? ctx.query.q.trim() : '';
    const sort = typeof ctx.query.sort === 'string' && ['email', 'createdAt', '-createdAt'].includes(ctx.query.sort) ? ctx.query.sort : 'email';
    const cursor = typeof ctx.query.cursor === 'string' ? ctx.query.cursor : '';
    const params = new URLSearchParams({ limit: '50', total: 'true', sort, ...(q ? { q } : {}), ...(cursor ? { cursor } : {}) });
    const users = await call(ctx, signed, 'GET', `${poolPath(poolId)}/users?${params}`);
    await render(
      ctx,
      'users',
      {
        signed,
        pool: pool.body,
        role: roleOn(signed.principal, poolId),
        q,
        sort,
        users: users.body?.items ?? [],
        total: users.body?.total ?? 0,
        nextCursor: users.body?.nextCursor ?? null,
        ...(users.status >= 400 ? { error: describeProblem(users) } : {}),
        ...extra,
      },
      status,
    );
  }

  router.get('/pools/:pool/users', async function listUsers(ctx) {
    const signed = await signedIn(ctx);
    if (signed) await usersPage(ctx, signed, ctx.params.pool!);
  });

  router.post('/pools/:pool/users', async function createUser(ctx) {
    const signed = await signedIn(ctx);
    if (!signed) return;
    const fields = await form(ctx, signed);
    const invite = fields.mode === 'invite';
    const body = invite ? { mode: 'invite', email: fields.email ?? '' } : { mode: 'password', email: fields.email ?? '', password: fields.password ?? '' };
    const answer = await call(ctx, signed, 'POST', `${poolPath(ctx.params.pool!)}/users`, body);
    if (answer.status === 401) return must(ctx, answer);
    if (answer.status === 201) {
      return usersPage(
        ctx,
        signed,
        ctx.params.pool!,
        { notice: invite ? `Invitation sent to ${answer.body.email as string}.` : `User ${answer.body.email as string} created.` },
        201,
      );
    }
    await usersPage(ctx, signed, ctx.params.pool!, { error: describeProblem(answer), values: { email: fields.email ?? '', mode: fields.mode } }, answer.status);
  });

  router.post('/pools/:pool/users/:userId', async function changeUser(ctx) {
    const signed = await signedIn(ctx);
    if (!signed) return;
    const fields = await form(ctx, signed);
    const path = `${poolPath(ctx.params.pool!)}/users/${encodeURIComponent(ctx.params.userId!)}`;
    const answer =
      fields.action === 'delete'
        ? await call(ctx, signed, 'DELETE', path)
        : await call(ctx, signed, 'PATCH', path, { status: fields.action === 'disable' ? 'disabled' : 'active' });
    if (answer.status === 401) return must(ctx, answer);
    const done = { delete: 'User deleted.', disable: 'User disabled.', enable: 'User enabled.' }[fields.action ?? ''] ?? 'Done.';
    await usersPage(
      ctx,
      signed,
      ctx.params.pool!,
      answer.status < 300 ? { notice: done } : { error: describeProblem(answer) },
      answer.status < 300 ? 200 : answer.status,
    );
  });

  async function userPage(ctx: Context, signed: Signed, poolId: string, userId: string, extra: Record<string, unknown> = {}, status = 200) {
    const pool = await must(ctx, await call(ctx, signed, 'GET', poolPath(poolId)));
    if (!pool) return;
    const path = `${poolPath(poolId)}/users/${encodeURIComponent(userId)}`;
    const user = await must(ctx, await call(ctx, signed, 'GET', path));
    if (!user) return;
    const [passkeys, groups] = await Promise.all([call(ctx, signed, 'GET', `${path}/passkeys`), call(ctx, signed, 'GET', `${path}/groups?limit=200`)]);
    await render(
      ctx,
      'user',
      {
        signed,
        pool: pool.body,
        role: roleOn(signed.principal, poolId),
        user: user.body,
        passkeys: passkeys.body?.items ?? [],
        groups: groups.body?.items ?? [],
        ...extra,
      },
      status,
    );
  }

  router.get('/pools/:pool/users/:userId', async function showUser(ctx) {
    const signed = await signedIn(ctx);
    if (signed) await userPage(ctx, signed, ctx.params.pool!, ctx.params.userId!);
  });

  router.post('/pools/:pool/users/:userId/actions', async function actOnUser(ctx) {
    const signed = await signedIn(ctx);
    if (!signed) return;
    const fields = await form(ctx, signed);
    const path = `${poolPath(ctx.params.pool!)}/users/${encodeURIComponent(ctx.params.userId!)}`;
    const actions: Record<string, () => Promise<AdminAnswer>> = {
      unlock: () => call(ctx, signed, 'DELETE', `${path}/lockout`),
      resend: () => call(ctx, signed, 'POST', `${path}/invitation`),
      'remove-passkey': () => call(ctx, signed, 'DELETE', `${path}/passkeys/${encodeURIComponent(fields.passkeyId ?? '')}`),
    };
    const notices: Record<string, string> = { unlock: 'Lockout cleared.', resend: 'Invitation sent again.', 'remove-passkey': 'Passkey removed.' };
    const action = actions[fields.action ?? ''];
    if (!action) throw new HostedPageError(400, 'Unknown action', 'This form asked for something the console does not do.');
    const answer = await action();
    if (answer.status === 401) return must(ctx, answer);
    await userPage(
      ctx,
      signed,
      ctx.params.pool!,
      ctx.params.userId!,
      answer.status < 300 ? { notice: notices[fields.action!] } : { error: describeProblem(answer) },
      answer.status < 300 ? 200 : answer.status,
    );
  });

  // Groups -----------------------------------------------------------------------------------
  async function groupsPage(ctx: Context, signed: Signed, poolId: string, extra: Record<string, unknown> = {}, status = 200) {
    const pool = await must(ctx, await call(ctx, signed, 'GET', poolPath(poolId)));
    if (!pool) return;
    const groups: { id: string; name: string; parentId: string | null; description: string }[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page += 1) {
      const answer = await call(ctx, signed, 'GET', `${poolPath(poolId)}/groups?${new URLSearchParams({ limit: '200', ...(cursor ? { cursor } : {}) })}`);
      if (answer.status >= 400) break;
      groups.push(...(answer.body.items as typeof groups));
      cursor = answer.body.nextCursor as string | null;
      if (!cursor) break;
    }
    // The tree, depth first, each group after its parent.
    const tree: { id: string; name: string; description: string; depth: number }[] = [];
    const visit = (parentId: string | null, depth: number) => {
      for (const group of groups.filter((candidate) => candidate.parentId === parentId)) {
        tree.push({ ...group, depth });
        if (depth < 50) visit(group.id, depth + 1);
      }
    };
    visit(null, 0);
    await render(ctx, 'groups', { signed, pool: pool.body, role: roleOn(signed.principal, poolId), tree, ...extra }, status);
  }

  router.get('/pools/:pool/groups', async function listGroups(ctx) {
    const signed = await signedIn(ctx);
    if (signed) await groupsPage(ctx, signed, ctx.params.pool!);
  });

  router.post('/pools/:pool/groups', async function changeGroups(ctx) {
    const signed = await signedIn(ctx);
    if (!signed) return;
    const fields = await form(ctx, signed);
    const answer =
      fields.action === 'delete'
        ? await call(ctx, signed, 'DELETE', `${poolPath(ctx.params.pool!)}/groups/${encodeURIComponent(fields.groupId ?? '')}?cascade=true`)
        : await call(ctx, signed, 'POST', `${poolPath(ctx.params.pool!)}/groups`, {
            name: fields.name ?? '',
            ...(fields.parentId ? { parentId: fields.parentId } : {}),
          });
    if (answer.status === 401) return must(ctx, answer);
    const done = fields.action === 'delete' ? 'Group deleted, with the groups inside it.' : 'Group created.';
    await groupsPage(
      ctx,
      signed,
      ctx.params.pool!,
      answer.status < 300 ? { notice: done } : { error: describeProblem(answer) },
      answer.status < 300 ? 200 : answer.status,
    );
  });

  // Audit ------------------------------------------------------------------------------------
  router.get('/pools/:pool/audit', async function showAudit(ctx) {
    const signed = await signedIn(ctx);
    if (!signed) return;
    const poolId = ctx.params.pool!;
    const pool = await must(ctx, await call(ctx, signed, 'GET', poolPath(poolId)));
    if (!pool) return;
    const filters: Record<string, string> = {};
    for (const name of ['action', 'actor', 'outcome', 'since', 'until']) {
      const value = ctx.query[name];
      if (typeof value === 'string' && value.trim()) filters[name] = value.trim();
    }
    // Dates from the form (yyyy-mm-dd) are whole days in UTC.
    if (filters.since && /^\d{4}-\d{2}-\d{2}$/.test(filters.since)) filters.since = `${filters.since}T00:00:00Z`;
    if (filters.until && /^\d{4}-\d{2}-\d{2}$/.test(filters.until)) filters.until = `${filters.until}T23:59:59Z`;
    const events = await call(ctx, signed, 'GET', `${poolPath(poolId)}/audit?${new URLSearchParams({ limit: '100', ...filters })}`);
    const days = 14;
    const since = new Date(Date.now() - (days - 1) * 86_400_000);
    since.setUTCHours(0, 0, 0, 0);
    const signIns: { occurredAt: string; outcome: string }[] = [];
    for (const action of ['sign_in.success', 'sign_in.failure']) {
      let cursor: string | null = null;
      for (let page = 0; page < 10; page += 1) {
        const params = new URLSearchParams({ limit: '200', action, since: since.toISOString(), ...(cursor ? { cursor } : {}) });
        const answer = await call(ctx, signed, 'GET', `${poolPath(poolId)}/audit?${params}`);
        if (answer.status >= 400) break;
        for (const item of answer.body.items as { occurredAt: Date | string; outcome: string }[])
          signIns.push({ occurredAt: new Date(item.occurredAt).toISOString(), outcome: item.outcome });
        cursor = answer.body.nextCursor as string | null;
        if (!cursor) break;
      }
    }
    await render(
      ctx,
      'audit',
      {
        signed,
        pool: pool.body,
        role: roleOn(signed.principal, poolId),
        filters: {
          action: '',
          actor: '',
          outcome: '',
          since: '',
          until: '',
          ...Object.fromEntries(Object.entries(ctx.query).filter(([, value]) => typeof value === 'string')),
        },
        events: events.status < 300 ? events.body.items : [],
        chart: buildDailyChart(signIns, since, days),
        ...(events.status >= 400 ? { error: describeProblem(events) } : {}),
      },
      events.status < 300 ? 200 : events.status,
    );
  });

  // Administrators (owners only: only they reach the admin pool) -----------------------------
  async function administratorsPage(ctx: Context, signed: Signed, extra: Record<string, unknown> = {}, status = 200) {
    const list = await must(ctx, await call(ctx, signed, 'GET', `${poolPath(ADMIN_POOL_ID)}/administrators`));
    if (!list) return;
    const pools = await call(ctx, signed, 'GET', '/pools?limit=200');
    await render(
      ctx,
      'administrators',
      {
        signed,
        administrators: list.body.items,
        pools: ((pools.body?.items ?? []) as { id: string; name: string }[]).filter((pool) => pool.id !== ADMIN_POOL_ID),
        ...extra,
      },
      status,
    );
  }

  router.get('/administrators', async function listAdministrators(ctx) {
    const signed = await signedIn(ctx);
    if (signed) await administratorsPage(ctx, signed);
  });

  router.post('/administrators', async function inviteAdministrator(ctx) {
    const signed = await signedIn(ctx);
    if (!signed) return;
    const fields = await form(ctx, signed);
    const role = fields.role === 'owner' ? { role: 'owner' } : { role: fields.role ?? '', ...(fields.pool ? { pool: fields.pool } : {}) };
    const answer = await call(ctx, signed, 'POST', `${poolPath(ADMIN_POOL_ID)}/administrators`, { mode: 'invite', email: fields.email ?? '', roles: [role] });
    if (answer.status === 401) return must(ctx, answer);
    if (answer.status === 201) return administratorsPage(ctx, signed, { notice: `Invitation sent to ${answer.body.email as string}.` }, 201);
    await administratorsPage(ctx, signed, { error: describeProblem(answer), values: fields }, answer.status);
  });

  return router;
}
