/**
 * The signed-in user's own profile, under the pool: GET/PATCH /pools/{poolId}/me.
 * - The access token is checked by the resource router (oidc/resource-routes.ts): this
 *   pool's, for the pool itself, with scope `openid`, of an active user; DPoP-bound
 *   tokens only with their proof.
 * - The user reads and edits `profile` only (schema-checked); never email, status or
 *   metadata. JSON in and out, RFC 9457 problems: this is an API, not a page.
 */
import { readJson } from '../http/body.js';
import { parseInput } from '../http/validation.js';
import type { ResourceRoutes } from '../oidc/resource-routes.js';
import { updateMeSchema } from './users.schemas.js';
import type { UserService } from './users.service.js';
import type { AuditService } from '../audit/audit.service.js';

export interface MeDeps {
  users: UserService;
  bodyLimitBytes: number;
  /** Records the user's own profile changes (`user.profile_changed`, docs/events.md). */
  audit?: Pick<AuditService, 'userChanges' | 'queuedCommitted'>;
}

export function registerMeRoutes(routes: ResourceRoutes, deps: MeDeps): void {
  routes.get('/me', async function getMe(ctx, caller) {
    ctx.body = await deps.users.getMe(caller.pool.id, caller.userId);
  });

  routes.patch('/me', async function updateMe(ctx, caller) {
    const input = parseInput(updateMeSchema, await readJson(ctx, deps.bodyLimitBytes));
    // The event names the fields sent, not their values: the trail says what changed, the user record what it is.
    const record = deps.audit?.userChanges({ poolId: caller.pool.id, ip: ctx.ip, requestId: ctx.state.requestId as string | undefined });
    ctx.body = await deps.users.updateMe(caller.pool, caller.userId, input, record);
    deps.audit?.queuedCommitted();
  });
}
