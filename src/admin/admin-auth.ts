/**
 * Admin API authentication (docs/design.md#admin-api):
 *   Bearer $TARN_ADMIN_TOKEN           everything, compared in constant time;
 *   Bearer <console access token>      an administrator of the admin pool, with their roles
 *                                      (console/administrators.ts, ADR 1000);
 *   Basic base64(poolId:poolSecret)    that one pool's routes (current or next secret).
 * A pool credential used on another pool's path finds nothing there (404), like any
 * other pool-A-at-pool-B access: the pool router decides that (pool-scope.ts).
 */
import type { Context } from 'koa';
import type { Next } from '../http/state.js';
import { safeEqual } from '../crypto/secrets.js';
import type { DocumentedSpec } from '../http/guard.js';
import type { AuditRequestScope } from '../audit/audit.service.js';
import { problems } from '../http/problem.js';
import { POOL_ID } from '../pools/pools.schemas.js';
import { roleOn, type AdministratorPrincipal } from '../console/administrators.js';

export type Principal = { kind: 'admin' } | { kind: 'pool'; poolId: string; secretId: string } | AdministratorPrincipal;

/** What every admin route finds on ctx.state once authenticated. */
export interface AdminState {
  principal: Principal;
  /** Set by the request frame (http/security-headers.ts). */
  requestId?: string;
  /** The admin event pending for this request (audit/audit.middleware.ts). */
  audit?: AuditRequestScope;
}

interface AdminAuthDeps {
  adminToken: string;
  authenticateSecret(poolId: string, secret: string): Promise<string | undefined>;
  /** A console access token's administrator, if it is one. */
  authenticateAdministrator?(token: string): Promise<AdministratorPrincipal | undefined>;
}

function parseBasic(value: string): { user: string; password: string } | undefined {
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function adminAuth(deps: AdminAuthDeps) {
  return async function authenticateAdmin(ctx: Context & { state: Partial<AdminState> }, next: Next): Promise<void> {
    const header = ctx.get('authorization');
    const [scheme = '', value = ''] = header.split(/\s+/, 2);
    if (/^bearer$/i.test(scheme) && value && safeEqual(value, deps.adminToken)) {
      ctx.state.principal = { kind: 'admin' };
      return next();
    }
    if (/^bearer$/i.test(scheme) && value && deps.authenticateAdministrator) {
      const administrator = await deps.authenticateAdministrator(value);
      if (administrator) {
        ctx.state.principal = administrator;
        return next();
      }
    }
    if (/^basic$/i.test(scheme) && value) {
      const credentials = parseBasic(value);
      if (credentials && POOL_ID.test(credentials.user)) {
        const secretId = await deps.authenticateSecret(credentials.user, credentials.password);
        if (secretId) {
          ctx.state.principal = { kind: 'pool', poolId: credentials.user, secretId };
          return next();
        }
      }
    }
    throw problems.unauthorized(header ? 'The credentials are not valid.' : "Send the admin token (Bearer) or the pool's id and secret (Basic).");
  };
}

/** Reads are open to viewers; every other method changes something. */
const READS = new Set(['get', 'head']);

/**
 * Routes declared adminOnly (creating, listing and deleting pools) refuse pool secrets, and
 * administrators other than owners, except the pool list, which shows them their own pools.
 * A viewer may only read (the pool router has already refused pools they cannot reach).
 */
export function requireAdmin(ctx: { state: AdminState & { pool?: { id: string } } }, spec: DocumentedSpec): void {
  const principal = ctx.state.principal;
  if (principal.kind === 'administrator') {
    const poolList = spec.method === 'get' && spec.path === '/pools';
    if (spec.adminOnly && !principal.owner && !poolList) throw problems.forbidden('This needs the owner role.');
    const poolId = ctx.state.pool?.id;
    if (poolId && !READS.has(spec.method) && roleOn(principal, poolId) !== 'admin') {
      throw problems.forbidden('A viewer can look but not change anything in this pool.');
    }
    return;
  }
  if (spec.adminOnly && principal.kind !== 'admin') {
    throw problems.forbidden('This route needs the admin token; a pool secret only manages its own pool.');
  }
}
