/**
 * The signed-in user's own profile, under the pool: GET/PATCH /pools/{poolId}/me.
 * - Authorization: Bearer <access token> issued by this pool's provider, with scope
 *   `openid`, for an active user of this pool; sender-constrained (DPoP) and
 *   resource-server tokens are not accepted here (RFC 6750 §3 errors otherwise).
 * - The user reads and edits `profile` only (schema-checked); never email, status or
 *   metadata. JSON in and out, RFC 9457 problems: this is an API, not a page.
 */
import type Router from '@koa/router';
import type { Context, Next } from 'koa';
import { readJson } from '../http/body.js';
import { AppError, problems } from '../http/problem.js';
import { parseInput } from '../http/validation.js';
import { poolProviderOf } from '../http/state.js';
import type { Logger } from '../log.js';
import { updateMeSchema } from './users.schemas.js';
import type { UserService } from './users.service.js';

export interface MeDeps {
  users: UserService;
  bodyLimitBytes: number;
  log: Logger;
}

const invalidToken = (detail: string) =>
  new AppError({ status: 401, type: 'invalid-token', title: 'Invalid token', detail, headers: { 'WWW-Authenticate': `Bearer error="invalid_token", error_description="${detail.replace(/"/g, "'")}"` } });

/** Errors here are problem documents, not the hosted error page the gateway would render. */
const asProblem = (log: Logger) => async function asProblem(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
  } catch (error) {
    const known = error instanceof AppError ? error : problems.internal();
    if (!(error instanceof AppError)) log.error({ err: error, path: ctx.path }, '/me failed');
    ctx.status = known.status;
    for (const [name, value] of Object.entries(known.headers ?? {})) ctx.set(name, value);
    ctx.type = 'application/problem+json';
    ctx.body = known.toProblem(ctx.originalUrl);
  }
};

async function authenticate(ctx: Context, users: UserService): Promise<string> {
  const [scheme = '', value = ''] = ctx.get('authorization').split(/\s+/, 2);
  if (!/^bearer$/i.test(scheme) || !value) {
    throw new AppError({ status: 401, type: 'unauthorized', title: 'Unauthorized', detail: 'Send the access token as "Authorization: Bearer …".', headers: { 'WWW-Authenticate': 'Bearer' } });
  }
  const { provider, pool } = poolProviderOf(ctx);
  const token = await provider.AccessToken.find(value);
  if (!token || !token.accountId) throw invalidToken('The access token is not valid at this pool.');
  if (token.jkt || token['x5t#S256']) throw invalidToken('Sender-constrained tokens are not accepted here.');
  if (token.resourceServer) throw invalidToken('The access token is for another resource.');
  if (!token.scopes.has('openid')) throw new AppError({ status: 403, type: 'insufficient-scope', title: 'Insufficient scope', detail: 'The access token needs the "openid" scope.', headers: { 'WWW-Authenticate': 'Bearer error="insufficient_scope", scope="openid"' } });
  const user = await users.findActiveUser(pool.id, token.accountId);
  if (!user) throw invalidToken('The access token is not valid at this pool.');
  return user.id;
}

export function registerMeRoutes(router: Router, deps: MeDeps): void {
  router.get('/me', asProblem(deps.log), async function getMe(ctx) {
    const userId = await authenticate(ctx, deps.users);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.users.getMe(poolProviderOf(ctx).pool.id, userId);
  });

  router.patch('/me', asProblem(deps.log), async function updateMe(ctx) {
    const userId = await authenticate(ctx, deps.users);
    const input = parseInput(updateMeSchema, await readJson(ctx, deps.bodyLimitBytes));
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.users.updateMe(poolProviderOf(ctx).pool, userId, input);
  });
}
