/**
 * The signed-in user's own passkeys, under the pool (JSON, RFC 9457 problems):
 *   GET    /me/passkeys        list
 *   PATCH  /me/passkeys/:id    {name}
 *   DELETE /me/passkeys/:id
 * Authenticated with the user's access token (RFC 6750 Bearer), found through this pool's own
 * provider, so a token of another pool is unknown here. Only tokens issued to a user (not
 * client credentials) of an active account count. With passkeys off for the pool: 404.
 */
import type Router from '@koa/router';
import type { Context, Next } from 'koa';
import { readJson } from '../http/body.js';
import { sendProblem, toAppError } from '../http/errors.js';
import { AppError, problems } from '../http/problem.js';
import type { Logger } from '../log.js';
import type { PoolProvider } from '../oidc/provider-registry.js';
import type { UserService } from '../users/users.service.js';
import { isPasskeyEnabled, type PasskeyService } from './passkeys.service.js';

export interface MyPasskeyRoutesDeps {
  passkeys: PasskeyService;
  users: UserService;
  bodyLimitBytes: number;
  log: Logger;
}

const invalidToken = (description: string) =>
  new AppError({
    status: 401,
    type: 'unauthorized',
    title: 'Unauthorized',
    detail: description,
    headers: { 'WWW-Authenticate': `Bearer error="invalid_token", error_description="${description}"` },
  });

/** The user behind the request's access token (RFC 6750 §2.1), or a 401 problem. */
async function currentUserId(ctx: Context, users: UserService): Promise<string> {
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(ctx.get('authorization'));
  if (!match) {
    throw new AppError({ status: 401, type: 'unauthorized', title: 'Unauthorized', detail: 'An access token is required.', headers: { 'WWW-Authenticate': 'Bearer' } });
  }
  const entry = ctx.state.poolProvider as PoolProvider;
  const token = await entry.provider.AccessToken.find(match[1]!);
  if (!token?.accountId || token.isExpired) throw invalidToken('The access token is invalid or expired.');
  const user = await users.findActiveUser(entry.pool.id, token.accountId);
  if (!user) throw invalidToken('The access token is invalid or expired.');
  return user.id;
}

export function registerMyPasskeyRoutes(router: Router, deps: MyPasskeyRoutesDeps): void {
  // Hosted routes render HTML errors; this API answers problem documents instead.
  const asJson = (handler: (ctx: Context, poolId: string, userId: string) => Promise<void>) =>
    async function jsonApi(ctx: Context, _next: Next): Promise<void> {
      ctx.set('Cache-Control', 'no-store');
      try {
        const { pool } = ctx.state.poolProvider as PoolProvider;
        // Not offered in this pool: not found, before asking for a token.
        if (!isPasskeyEnabled(pool)) throw problems.notFound('Resource', `Nothing at ${ctx.path}.`);
        const poolId = pool.id;
        await handler(ctx, poolId, await currentUserId(ctx, deps.users));
      } catch (error) {
        const appError = toAppError(error);
        if (appError.status >= 500) deps.log.error({ err: error, path: ctx.path }, 'request failed');
        sendProblem(ctx, appError);
      }
    };

  router.get('/me/passkeys', asJson(async (ctx, poolId, userId) => {
    ctx.body = await deps.passkeys.listMyPasskeys(poolId, userId);
  }));

  router.patch('/me/passkeys/:id', asJson(async (ctx, poolId, userId) => {
    ctx.body = await deps.passkeys.renameMyPasskey(poolId, userId, ctx.params.id, await readJson(ctx, deps.bodyLimitBytes));
  }));

  router.delete('/me/passkeys/:id', asJson(async (ctx, poolId, userId) => {
    await deps.passkeys.deleteMyPasskey(poolId, userId, ctx.params.id);
    ctx.status = 204;
  }));
}
