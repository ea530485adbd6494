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
import { DEFAULT_PROFILE_SCHEMA } from '../users/user-schema.js';
import type { PageRenderer } from '../views/render.js';
import { roleOn, type AdministratorPrincipal, type Administrators } from './administrators.js';
import { buildDailyChart } from './chart.js';
import type { AdminAnswer, AdminCaller } from './dispatch.js';
import { consoleCookies, consoleCsrf, consoleCsrfValid, type ConsoleSession } from './session.js';
import { readSchemaFields, refill, schemaFields, withProblems } from './schema-form.js';
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
  description: 'Description',
  logoUrl: 'Logo URL',
  confirmSecret: 'Confirmation',
  confirmDelete: 'Confirmation',
  profileSchema: 'Profile schema',
  metadataSchema: 'Metadata schema',
  'passwordPolicy.minLength': 'Minimum password length',
  'lockout.maxAttempts': 'Failed attempts before a lock',
  'lockout.windowSeconds': 'Lock duration (seconds)',
  'signIn.mfa': 'Second factor',
  parentId: 'Inside',
  metadata: 'Metadata',
  profile: 'Profile',
};

const SCHEMA_ROOTS: Record<string, string> = { profile: 'Profile', metadata: 'Metadata' };

function labelOf(field: string): string {
  if (LABELS[field]) return LABELS[field];
  const [root = '', ...rest] = field.split('.');
  if (SCHEMA_ROOTS[root] && rest.length) return `${SCHEMA_ROOTS[root]}: ${rest.join(' ').replace(/_/g, ' ')}`;
  const [first = field, index] = field.split('.');
  const label = LABELS[first] ?? first;
  return index !== undefined && /^\d+$/.test(index) ? `${label} (line ${Number(index) + 1})` : label;
}

export interface DescribedProblem {
  message: string;
  fields: { label: string; detail: string }[];
  /** The API's field paths and details, to show each next to its input. */
  problems: { field: string; detail: string }[];
}

/** A problem document as a person reads it: the sentence, and each field by its label. */
export function describeProblem(answer: AdminAnswer): DescribedProblem {
  const body = (answer.body ?? {}) as { title?: string; detail?: string; errors?: { field: string; detail: string }[] };
  const problems = (body.errors ?? []).map((error) => ({ field: String(error.field), detail: String(error.detail) }));
  return {
    message: body.detail ?? body.title ?? 'The request could not be completed.',
    fields: problems.map((error) => ({ label: labelOf(error.field), detail: error.detail })),
    problems,
  };
}

/** A refusal of the console's own (before any call), shaped as the admin API's problem documents. */
export function refusal(field: string, detail: string, message = 'The form has invalid fields.'): AdminAnswer {
  return { status: 400, body: { title: 'Invalid request', status: 400, detail: message, errors: [{ field, detail }] } };
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
    const error = locals.error as DescribedProblem | undefined;
    const problemOf = (field: string): string | undefined =>
      error?.problems
        ?.filter((problem) => problem.field === field)
        .map((problem) => problem.detail)
        .join(' ') || undefined;
    // An input with a problem: aria-invalid, and described by the problem shown next to it (views/console/_problem.ejs).
    const invalidInput = (field: string, id: string) =>
      problemOf(field) ? ` aria-invalid="true" aria-describedby="${id.replace(/[^A-Za-z0-9-]/g, '')}-error"` : '';
    ctx.body = await deps.pages.render(`console/${view}`, undefined, {
      signed: undefined,
      error: undefined,
      notice: undefined,
      problemOf,
      invalidInput,
      ...locals,
    });
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

  // Forms ------------------------------------------------------------------------------------
  type Locals = Record<string, unknown>;
  type Fields = Record<string, string>;
  /** A page that shows a form's outcome: the page's own locals, with what the form adds. */
  type Page = (ctx: Context, signed: Signed, extra?: Locals, status?: number) => Promise<void>;

  interface FormHandling {
    /** The page showing the outcome, and the form again after a refusal. */
    page: Page;
    /** What the form asks of the admin API (a refusal of the console's own is a problem answer too: refusal()). */
    send(fields: Fields, ctx: Context, signed: Signed): Promise<AdminAnswer>;
    /** Once done: what the page shows, or where to go instead. */
    done(answer: AdminAnswer, fields: Fields): Locals | { redirect: string };
    /** After a refusal: what the page shows (default: the problem, and the form's values again). */
    refused?(answer: AdminAnswer, fields: Fields): Locals;
  }

  /**
   * Every form of the console has one shape: signed in, a valid CSRF token, one admin API call,
   * then a redirect or the page again, with a notice or with the API's problem rendered for people.
   */
  function handleForm(handling: FormHandling) {
    return async function handle(ctx: Context): Promise<void> {
      const signed = await signedIn(ctx);
      if (!signed) return;
      const fields = await form(ctx, signed);
      const answer = await handling.send(fields, ctx, signed);
      if (answer.status === 401) {
        await must(ctx, answer);
        return;
      }
      if (answer.status >= 300) {
        const locals = handling.refused?.(answer, fields) ?? { error: describeProblem(answer), values: fields };
        return handling.page(ctx, signed, locals, answer.status);
      }
      const outcome = handling.done(answer, fields);
      if (typeof outcome.redirect === 'string') {
        ctx.status = 303;
        return ctx.redirect(outcome.redirect);
      }
      await handling.page(ctx, signed, outcome, answer.status === 201 ? 201 : 200);
    };
  }

  /** A page answering GET: signed in, then the page. */
  function showPage(page: Page) {
    return async function show(ctx: Context): Promise<void> {
      const signed = await signedIn(ctx);
      if (signed) await page(ctx, signed);
    };
  }

  /** One of several actions a form names in its `action` field; an unknown one is refused as a page. */
  function chosen<T>(actions: Record<string, T>, name: string | undefined): T {
    const action = Object.hasOwn(actions, name ?? '') ? actions[name!] : undefined;
    if (!action) throw new HostedPageError(400, 'Unknown action', 'This form asked for something the console does not do.');
    return action;
  }

  const poolPath = (poolId: string) => `/pools/${encodeURIComponent(poolId)}`;
  const userPath = (ctx: Context) => `${poolPath(ctx.params.pool)}/users/${encodeURIComponent(ctx.params.userId)}`;
  const groupPath = (ctx: Context, groupId = ctx.params.groupId!) => `${poolPath(ctx.params.pool)}/groups/${encodeURIComponent(groupId)}`;

  /** Every item of a listing, page after page (bounded). */
  async function everything<T>(ctx: Context, signed: Signed, path: string, pages = 10): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < pages; page += 1) {
      const separator = path.includes('?') ? '&' : '?';
      const answer = await call(ctx, signed, 'GET', `${path}${separator}${new URLSearchParams({ limit: '200', ...(cursor ? { cursor } : {}) })}`);
      if (answer.status >= 400) break;
      items.push(...(answer.body.items as T[]));
      cursor = answer.body.nextCursor as string | null;
      if (!cursor) break;
    }
    return items;
  }

  // Pools ------------------------------------------------------------------------------------
  async function poolsPage(ctx: Context, signed: Signed, extra: Locals = {}, status = 200) {
    const answer = await must(ctx, await call(ctx, signed, 'GET', '/pools?limit=200'));
    if (!answer) return;
    const pools = (answer.body.items as { id: string; name: string; tagColor: string | null; description: string }[]).filter(
      (pool) => pool.id !== ADMIN_POOL_ID,
    );
    const counts = await Promise.all(pools.map((pool) => call(ctx, signed, 'GET', `${poolPath(pool.id)}/users?limit=1&total=true`)));
    await render(
      ctx,
      'pools',
      {
        signed,
        pools: pools.map((pool, index) => ({ ...pool, userCount: counts[index]!.body?.total ?? 0, role: roleOn(signed.principal, pool.id) })),
        ...extra,
      },
      status,
    );
  }

  router.get('/', showPage(poolsPage));

  router.post(
    '/pools',
    handleForm({
      page: poolsPage,
      send: (fields, ctx, signed) =>
        call(ctx, signed, 'POST', '/pools', {
          name: fields.name ?? '',
          ...(fields.id ? { id: fields.id } : {}),
          ...(fields.tagColor ? { tagColor: fields.tagColor } : {}),
        }),
      done: (answer) => ({ redirect: `/console/pools/${encodeURIComponent(answer.body.id as string)}` }),
    }),
  );

  async function poolPage(ctx: Context, signed: Signed, extra: Locals = {}, status = 200) {
    const poolId = ctx.params.pool!;
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

  router.get('/pools/:pool', showPage(poolPage));

  router.post(
    '/pools/:pool/clients',
    handleForm({
      page: poolPage,
      send: (fields, ctx, signed) =>
        call(ctx, signed, 'POST', `${poolPath(ctx.params.pool)}/clients`, {
          name: fields.name ?? '',
          redirectUris: lines(fields.redirectUris),
          postLogoutRedirectUris: lines(fields.postLogoutRedirectUris),
          grantTypes: ['authorization_code', 'refresh_token'],
          tokenEndpointAuthMethod: fields.type === 'public' ? 'none' : 'client_secret_basic',
        }),
      done: (answer) => ({ created: answer.body }),
      refused: (answer, fields) => ({ clientError: describeProblem(answer), values: fields }),
    }),
  );

  router.post(
    '/pools/:pool/clients/:clientId/secret',
    handleForm({
      page: poolPage,
      send: (_fields, ctx, signed) =>
        call(ctx, signed, 'POST', `${poolPath(ctx.params.pool)}/clients/${encodeURIComponent(ctx.params.clientId)}/secret/rotate`),
      done: (answer) => ({ created: answer.body, rotated: true }),
    }),
  );

  router.post(
    '/pools/:pool/keys/rotate',
    handleForm({
      page: poolPage,
      send: (fields, ctx, signed) => call(ctx, signed, 'POST', `${poolPath(ctx.params.pool)}/keys/rotate`, { revoke: fields.revoke === 'yes' }),
      done: (_answer, fields) => ({
        notice: fields.revoke === 'yes' ? 'Signing keys rotated; the former current key is revoked.' : 'Signing keys rotated.',
      }),
    }),
  );

  router.post(
    '/pools/:pool/secret/rotate',
    handleForm({
      page: poolPage,
      send: async (fields, ctx, signed) =>
        fields.confirm === ctx.params.pool
          ? call(ctx, signed, 'POST', `${poolPath(ctx.params.pool)}/secrets/rotate`)
          : refusal('confirmSecret', 'Must be the pool id.', 'Type the pool id to confirm.'),
      done: (answer) => ({ newSecret: answer.body.nextSecret.value }),
    }),
  );

  /** A JSON Schema typed in a textarea: null when empty (the pool's default), a refusal naming the field when it does not parse. */
  function schemaText(field: string, text: string | undefined): { value: unknown } | { refused: AdminAnswer } {
    if (!text?.trim()) return { value: null };
    try {
      return { value: JSON.parse(text) };
    } catch {
      return { refused: refusal(field, 'Must be JSON, such as {"type": "object", "properties": {…}}.') };
    }
  }

  const wholeNumber = (text: string | undefined) => (text?.trim() && Number.isFinite(Number(text)) ? Number(text) : text?.trim() || undefined);

  router.post(
    '/pools/:pool/settings',
    handleForm({
      page: poolPage,
      send: async (fields, ctx, signed) => {
        const profileSchema = schemaText('profileSchema', fields.profileSchema);
        if ('refused' in profileSchema) return profileSchema.refused;
        const metadataSchema = schemaText('metadataSchema', fields.metadataSchema);
        if ('refused' in metadataSchema) return metadataSchema.refused;
        const minLength = wholeNumber(fields.minLength);
        const maxAttempts = wholeNumber(fields.maxAttempts);
        const windowSeconds = wholeNumber(fields.windowSeconds);
        return call(ctx, signed, 'PATCH', poolPath(ctx.params.pool), {
          name: fields.name ?? '',
          description: fields.description ?? '',
          logoUrl: fields.logoUrl?.trim() || null,
          ...(fields.tagColor ? { tagColor: fields.tagColor } : {}),
          selfRegistration: fields.selfRegistration === 'on',
          signIn: {
            password: fields.password === 'on',
            emailCode: fields.emailCode === 'on',
            passkey: fields.passkey === 'on',
            ...(fields.mfa ? { mfa: fields.mfa } : {}),
          },
          ...(minLength !== undefined ? { passwordPolicy: { minLength } } : {}),
          lockout: { ...(maxAttempts !== undefined ? { maxAttempts } : {}), ...(windowSeconds !== undefined ? { windowSeconds } : {}) },
          profileSchema: profileSchema.value,
          metadataSchema: metadataSchema.value,
        });
      },
      done: () => ({ notice: 'Settings saved.' }),
      refused: (answer, fields) => ({ error: describeProblem(answer), settings: fields }),
    }),
  );

  router.post(
    '/pools/:pool/delete',
    handleForm({
      page: poolPage,
      send: async (fields, ctx, signed) =>
        fields.confirm === ctx.params.pool
          ? call(ctx, signed, 'DELETE', poolPath(ctx.params.pool))
          : refusal('confirmDelete', 'Must be the pool id.', 'Type the pool id to delete it.'),
      done: () => ({ redirect: '/console' }),
    }),
  );

  // Users ------------------------------------------------------------------------------------
  type Pool = { profileSchema: Record<string, unknown> | null; metadataSchema: Record<string, unknown> | null };
  const schemaOf = (pool: Pool, part: 'profile' | 'metadata') => (part === 'profile' ? (pool.profileSchema ?? DEFAULT_PROFILE_SCHEMA) : pool.metadataSchema);
  const requiredProfileInputs = (pool: Pool) => schemaFields('profile', schemaOf(pool, 'profile'), {}).filter((input) => input.required && !input.group);

  async function usersPage(ctx: Context, signed: Signed, extra: Locals = {}, status = 200) {
    const poolId = ctx.params.pool!;
    const pool = await must(ctx, await call(ctx, signed, 'GET', poolPath(poolId)));
    if (!pool) return;
    const q = typeof ctx.query.q === 'string' ? ctx.query.q.trim() : '';
    const sort = typeof ctx.query.sort === 'string' && ['email', 'createdAt', '-createdAt'].includes(ctx.query.sort) ? ctx.query.sort : 'email';
    const cursor = typeof ctx.query.cursor === 'string' ? ctx.query.cursor : '';
    const params = new URLSearchParams({ limit: '50', total: 'true', sort, ...(q ? { q } : {}), ...(cursor ? { cursor } : {}) });
    const users = await call(ctx, signed, 'GET', `${poolPath(poolId)}/users?${params}`);
    // The profile attributes the pool requires are asked when a user is created.
    const sent = extra.sent as Fields | undefined;
    const required = requiredProfileInputs(pool.body as Pool);
    const profileInputs = withProblems(sent ? refill(required, sent) : required, (extra.error as DescribedProblem | undefined)?.problems ?? []).fields;
    await render(
      ctx,
      'users',
      {
        profileInputs,
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

  router.get('/pools/:pool/users', showPage(usersPage));

  router.post(
    '/pools/:pool/users',
    handleForm({
      page: usersPage,
      send: async (fields, ctx, signed) => {
        const pool = await call(ctx, signed, 'GET', poolPath(ctx.params.pool));
        if (pool.status >= 300) return pool;
        const read = readSchemaFields('profile', requiredProfileInputs(pool.body as Pool), fields, {});
        if (read.problems.length) return refusal(read.problems[0]!.field, read.problems[0]!.detail);
        const profile = Object.keys(read.value).length ? { profile: read.value } : {};
        const body =
          fields.mode === 'invite'
            ? { mode: 'invite', email: fields.email ?? '', ...profile }
            : { mode: 'password', email: fields.email ?? '', password: fields.password ?? '', ...profile };
        return call(ctx, signed, 'POST', `${poolPath(ctx.params.pool)}/users`, body);
      },
      done: (answer, fields) => ({
        notice: fields.mode === 'invite' ? `Invitation sent to ${answer.body.email as string}.` : `User ${answer.body.email as string} created.`,
      }),
      refused: (answer, fields) => ({ error: describeProblem(answer), values: { email: fields.email ?? '', mode: fields.mode }, sent: fields }),
    }),
  );

  const listActions: Record<string, { method: string; body?: unknown; notice: string }> = {
    delete: { method: 'DELETE', notice: 'User deleted.' },
    disable: { method: 'PATCH', body: { status: 'disabled' }, notice: 'User disabled.' },
    enable: { method: 'PATCH', body: { status: 'active' }, notice: 'User enabled.' },
  };

  router.post(
    '/pools/:pool/users/:userId',
    handleForm({
      page: usersPage,
      send: (fields, ctx, signed) => {
        const action = chosen(listActions, fields.action);
        return call(ctx, signed, action.method, userPath(ctx), action.body);
      },
      done: (_answer, fields) => ({ notice: listActions[fields.action!]!.notice }),
      refused: (answer) => ({ error: describeProblem(answer) }),
    }),
  );

  async function userPage(ctx: Context, signed: Signed, extra: Locals = {}, status = 200) {
    const poolId = ctx.params.pool!;
    const pool = await must(ctx, await call(ctx, signed, 'GET', poolPath(poolId)));
    if (!pool) return;
    const path = userPath(ctx);
    const user = await must(ctx, await call(ctx, signed, 'GET', path));
    if (!user) return;
    const [passkeys, groups] = await Promise.all([call(ctx, signed, 'GET', `${path}/passkeys`), call(ctx, signed, 'GET', `${path}/groups?limit=200`)]);
    // The profile and metadata forms; after a refusal, the one sent shows what was typed, each problem next to its input.
    const problems = (extra.error as DescribedProblem | undefined)?.problems ?? [];
    const sent = extra.values as Fields | undefined;
    const forms = Object.fromEntries(
      (['profile', 'metadata'] as const).map((part) => {
        let fields = schemaFields(part, schemaOf(pool.body as Pool, part), (user.body[part] ?? {}) as Record<string, unknown>);
        if (sent?.part === part) fields = refill(fields, sent);
        return [part, withProblems(fields, problems).fields];
      }),
    );
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
        forms,
        ...extra,
      },
      status,
    );
  }

  router.get('/pools/:pool/users/:userId', showPage(userPage));

  router.post(
    '/pools/:pool/users/:userId/profile',
    handleForm({
      page: userPage,
      send: async (fields, ctx, signed) => {
        const part = chosen({ profile: 'profile', metadata: 'metadata' } as const, fields.part);
        const [pool, user] = await Promise.all([call(ctx, signed, 'GET', poolPath(ctx.params.pool)), call(ctx, signed, 'GET', userPath(ctx))]);
        if (pool.status >= 300) return pool;
        if (user.status >= 300) return user;
        const generated = schemaFields(part, schemaOf(pool.body as Pool, part), (user.body[part] ?? {}) as Record<string, unknown>);
        const read = readSchemaFields(part, generated, fields, (user.body[part] ?? {}) as Record<string, unknown>);
        if (read.problems.length) return refusal(read.problems[0]!.field, read.problems[0]!.detail);
        return call(ctx, signed, 'PATCH', userPath(ctx), { [part]: read.value });
      },
      done: (_answer, fields) => ({ notice: fields.part === 'metadata' ? 'Metadata saved.' : 'Profile saved.' }),
    }),
  );

  const userActions: Record<string, { send(path: string, fields: Fields): [string, string]; notice: string }> = {
    unlock: { send: (path) => ['DELETE', `${path}/lockout`], notice: 'Lockout cleared.' },
    resend: { send: (path) => ['POST', `${path}/invitation`], notice: 'Invitation sent again.' },
    reset: { send: (path) => ['POST', `${path}/password-reset`], notice: 'Password reset mail sent.' },
    'remove-passkey': { send: (path, fields) => ['DELETE', `${path}/passkeys/${encodeURIComponent(fields.passkeyId ?? '')}`], notice: 'Passkey removed.' },
  };

  router.post(
    '/pools/:pool/users/:userId/actions',
    handleForm({
      page: userPage,
      send: (fields, ctx, signed) => {
        const [method, path] = chosen(userActions, fields.action).send(userPath(ctx), fields);
        return call(ctx, signed, method, path);
      },
      done: (_answer, fields) => ({ notice: userActions[fields.action!]!.notice }),
      refused: (answer) => ({ error: describeProblem(answer) }),
    }),
  );

  // Groups -----------------------------------------------------------------------------------
  type Group = { id: string; name: string; parentId: string | null; description: string };
  type TreeGroup = Group & { depth: number };

  /** The pool's groups as a tree, depth first, each group after its parent. */
  async function groupTree(ctx: Context, signed: Signed): Promise<TreeGroup[]> {
    const groups = await everything<Group>(ctx, signed, `${poolPath(ctx.params.pool)}/groups`);
    const tree: TreeGroup[] = [];
    const visit = (parentId: string | null, depth: number) => {
      for (const group of groups.filter((candidate) => candidate.parentId === parentId)) {
        tree.push({ ...group, depth });
        if (depth < 50) visit(group.id, depth + 1);
      }
    };
    visit(null, 0);
    return tree;
  }

  async function groupsPage(ctx: Context, signed: Signed, extra: Locals = {}, status = 200) {
    const poolId = ctx.params.pool!;
    const pool = await must(ctx, await call(ctx, signed, 'GET', poolPath(poolId)));
    if (!pool) return;
    const tree = await groupTree(ctx, signed);
    await render(ctx, 'groups', { signed, pool: pool.body, role: roleOn(signed.principal, poolId), tree, ...extra }, status);
  }

  router.get('/pools/:pool/groups', showPage(groupsPage));

  router.post(
    '/pools/:pool/groups',
    handleForm({
      page: groupsPage,
      send: (fields, ctx, signed) =>
        fields.action === 'delete'
          ? call(ctx, signed, 'DELETE', `${groupPath(ctx, fields.groupId ?? '')}?cascade=true`)
          : call(ctx, signed, 'POST', `${poolPath(ctx.params.pool)}/groups`, {
              name: fields.name ?? '',
              ...(fields.parentId ? { parentId: fields.parentId } : {}),
            }),
      done: (_answer, fields) => ({ notice: fields.action === 'delete' ? 'Group deleted, with the groups inside it.' : 'Group created.' }),
    }),
  );

  async function groupPage(ctx: Context, signed: Signed, extra: Locals = {}, status = 200) {
    const poolId = ctx.params.pool!;
    const pool = await must(ctx, await call(ctx, signed, 'GET', poolPath(poolId)));
    if (!pool) return;
    const group = await must(ctx, await call(ctx, signed, 'GET', groupPath(ctx)));
    if (!group) return;
    const tree = await groupTree(ctx, signed);
    // Where the group may move: anywhere but inside itself or the groups below it.
    const below = new Set([group.body.id as string]);
    for (const candidate of tree) if (candidate.parentId && below.has(candidate.parentId)) below.add(candidate.id);
    const members = await everything<{ id: string; email: string; direct: boolean }>(ctx, signed, `${groupPath(ctx)}/members?nested=true`);
    const q = typeof ctx.query.q === 'string' ? ctx.query.q.trim() : '';
    const found = q ? await call(ctx, signed, 'GET', `${poolPath(poolId)}/users?${new URLSearchParams({ q, limit: '20', sort: 'email' })}`) : undefined;
    const memberIds = new Set(members.filter((member) => member.direct).map((member) => member.id));
    await render(
      ctx,
      'group',
      {
        signed,
        pool: pool.body,
        role: roleOn(signed.principal, poolId),
        group: group.body,
        parent: tree.find((candidate) => candidate.id === group.body.parentId),
        destinations: tree.filter((candidate) => !below.has(candidate.id)),
        members,
        q,
        candidates: ((found?.body?.items ?? []) as { id: string; email: string }[]).map((user) => ({ ...user, member: memberIds.has(user.id) })),
        ...(found && found.status >= 400 ? { error: describeProblem(found) } : {}),
        ...extra,
      },
      status,
    );
  }

  router.get('/pools/:pool/groups/:groupId', showPage(groupPage));

  const groupActions: Record<string, { send(ctx: Context, fields: Fields): [string, string, unknown?]; notice: string }> = {
    move: { send: (ctx, fields) => ['PATCH', groupPath(ctx), { parentId: fields.parentId || null }], notice: 'Group moved.' },
    add: { send: (ctx, fields) => ['PUT', `${groupPath(ctx)}/members/${encodeURIComponent(fields.userId ?? '')}`], notice: 'Member added.' },
    remove: { send: (ctx, fields) => ['DELETE', `${groupPath(ctx)}/members/${encodeURIComponent(fields.userId ?? '')}`], notice: 'Member removed.' },
  };

  router.post(
    '/pools/:pool/groups/:groupId',
    handleForm({
      page: groupPage,
      send: (fields, ctx, signed) => {
        const [method, path, body] = chosen(groupActions, fields.action).send(ctx, fields);
        return call(ctx, signed, method, path, body);
      },
      done: (_answer, fields) => ({ notice: groupActions[fields.action!]!.notice }),
    }),
  );

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
      const items = await everything<{ occurredAt: Date | string; outcome: string }>(
        ctx,
        signed,
        `${poolPath(poolId)}/audit?${new URLSearchParams({ action, since: since.toISOString() })}`,
      );
      for (const item of items) signIns.push({ occurredAt: new Date(item.occurredAt).toISOString(), outcome: item.outcome });
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
  const administratorsPath = `${poolPath(ADMIN_POOL_ID)}/administrators`;
  type Administrator = { id: string; email: string; status: string; roles: { role: string; pool: string | null }[] };

  async function administratorsPage(ctx: Context, signed: Signed, extra: Locals = {}, status = 200) {
    const list = await must(ctx, await call(ctx, signed, 'GET', administratorsPath));
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

  router.get('/administrators', showPage(administratorsPage));

  router.post(
    '/administrators',
    handleForm({
      page: administratorsPage,
      send: (fields, ctx, signed) => {
        const role = fields.role === 'owner' ? { role: 'owner' } : { role: fields.role ?? '', ...(fields.pool ? { pool: fields.pool } : {}) };
        return call(ctx, signed, 'POST', administratorsPath, { mode: 'invite', email: fields.email ?? '', roles: [role] });
      },
      done: (answer) => ({ notice: `Invitation sent to ${answer.body.email as string}.` }),
    }),
  );

  async function administratorPage(ctx: Context, signed: Signed, extra: Locals = {}, status = 200) {
    const list = await must(ctx, await call(ctx, signed, 'GET', administratorsPath));
    if (!list) return;
    const administrator = (list.body.items as Administrator[]).find((item) => item.id === ctx.params.userId);
    if (!administrator) return render(ctx, 'message', { signed, title: 'Not found', message: 'There is no such administrator.' }, 404);
    const pools = ((await call(ctx, signed, 'GET', '/pools?limit=200')).body?.items ?? []) as { id: string; name: string }[];
    await render(
      ctx,
      'administrator',
      {
        signed,
        administrator,
        owner: administrator.roles.some((role) => role.role === 'owner'),
        pools: pools
          .filter((pool) => pool.id !== ADMIN_POOL_ID)
          .map((pool) => ({ ...pool, role: administrator.roles.find((role) => role.pool === pool.id)?.role ?? '' })),
        ...extra,
      },
      status,
    );
  }

  router.get('/administrators/:userId', showPage(administratorPage));

  router.post(
    '/administrators/:userId',
    handleForm({
      page: administratorPage,
      send: (fields, ctx, signed) => {
        const path = `${administratorsPath}/${encodeURIComponent(ctx.params.userId)}`;
        if (fields.action === 'remove') return call(ctx, signed, 'DELETE', path);
        if (fields.action === 'disable' || fields.action === 'enable') {
          const status = fields.action === 'disable' ? 'disabled' : 'active';
          return call(ctx, signed, 'PATCH', `${poolPath(ADMIN_POOL_ID)}/users/${encodeURIComponent(ctx.params.userId)}`, { status });
        }
        // Owner, or a role on each pool chosen (fields "pool:{id}" = admin | viewer | "").
        const roles =
          fields.owner === 'on'
            ? [{ role: 'owner' }]
            : Object.entries(fields)
                .filter(([name, role]) => name.startsWith('pool:') && role)
                .map(([name, role]) => ({ role, pool: name.slice('pool:'.length) }));
        if (!roles.length) return Promise.resolve(refusal('roles', 'Choose at least one role, or remove the administrator.'));
        return call(ctx, signed, 'PUT', `${path}/roles`, { roles });
      },
      done: (_answer, fields) =>
        fields.action === 'remove'
          ? { redirect: '/console/administrators' }
          : { notice: { disable: 'Administrator disabled.', enable: 'Administrator enabled.' }[fields.action ?? ''] ?? 'Roles saved.' },
    }),
  );

  return router;
}
