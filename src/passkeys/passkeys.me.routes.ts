/**
 * The signed-in user's own passkeys, under the pool (JSON, RFC 9457 problems):
 *   GET    /me/passkeys        list
 *   PATCH  /me/passkeys/:id    {name}
 *   DELETE /me/passkeys/:id
 * The access token is checked by the resource router (oidc/resource-routes.ts), as for
 * /me. With passkeys off for the pool: 404, before any token is asked for.
 */
import { readJson } from '../http/body.js';
import { routeParam } from '../http/state.js';
import { parseInput } from '../http/validation.js';
import { renamePasskeySchema } from './passkeys.schemas.js';
import type { ResourceRoutes } from '../oidc/resource-routes.js';
import { isPasskeyEnabled, type PasskeyService } from './passkeys.service.js';

export interface MyPasskeyRoutesDeps {
  passkeys: PasskeyService;
  bodyLimitBytes: number;
}

export function registerMyPasskeyRoutes(routes: ResourceRoutes, deps: MyPasskeyRoutesDeps): void {
  const rule = { offered: isPasskeyEnabled };

  routes.get(
    '/me/passkeys',
    async function listMyPasskeys(ctx, caller) {
      ctx.body = await deps.passkeys.listMyPasskeys(caller.pool, caller.userId);
    },
    rule,
  );

  routes.patch(
    '/me/passkeys/:id',
    async function renameMyPasskey(ctx, caller) {
      ctx.body = await deps.passkeys.renameMyPasskey(
        caller.pool,
        caller.userId,
        routeParam(ctx, 'id'),
        parseInput(renamePasskeySchema, await readJson(ctx, deps.bodyLimitBytes)),
      );
    },
    rule,
  );

  routes.delete(
    '/me/passkeys/:id',
    async function deleteMyPasskey(ctx, caller) {
      await deps.passkeys.deleteMyPasskey(caller.pool, caller.userId, routeParam(ctx, 'id'));
      ctx.status = 204;
    },
    rule,
  );
}
