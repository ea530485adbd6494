/** /admin/pools/{pool}/users/{userId}/passkeys: an admin lists and removes a user's passkeys. */
import type Router from '@koa/router';
import { authorizedPool } from '../admin/admin-auth.js';
import type { PasskeyService } from './passkeys.service.js';

export function registerPasskeyRoutes(router: Router, passkeys: PasskeyService): void {
  router.get('/pools/:pool/users/:userId/passkeys', async function listUserPasskeys(ctx) {
    ctx.body = await passkeys.listUserPasskeys(authorizedPool(ctx, ctx.params.pool!), ctx.params.userId!, ctx.query);
  });

  router.delete('/pools/:pool/users/:userId/passkeys/:id', async function deleteUserPasskey(ctx) {
    await passkeys.deleteUserPasskey(authorizedPool(ctx, ctx.params.pool!), ctx.params.userId!, ctx.params.id!);
    ctx.status = 204;
  });
}
