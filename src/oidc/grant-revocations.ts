/**
 * A grant the provider revokes leaves an entry in the pool's audit log (docs/events.md):
 * the provider tells only its event emitter (`grant.revoked`), after revoking the grant's
 * tokens. Why it was revoked is the endpoint that did it:
 * - the token endpoint with a refresh token: a rotated refresh token was used again (RFC 9700
 *   §4.14.2 reuse detection, after the client's grace period, ADR 0604): `token.reuse_detected`;
 * - logout (RP-Initiated Logout 1.0): `session.ended`;
 * - the revocation endpoint (RFC 7009): `token.revoked` by the client.
 * No token, grant id or session id goes into the entry; the user and the client do.
 */
import type Provider from 'oidc-provider';
import type { AuditService } from '../audit/audit.service.js';

export interface GrantRevocationDeps {
  audit: Pick<AuditService, 'record'>;
}

interface RevokingContext {
  oidc?: {
    route?: string;
    params?: { grant_type?: unknown };
    client?: { clientId: string };
    account?: { accountId: string };
    session?: { accountId?: string };
  };
  ip?: string;
  state?: { requestId?: string };
}

function actionOf(ctx: RevokingContext): { action: string; actor: 'system' | 'user' | 'client' } | undefined {
  const route = ctx.oidc?.route;
  if (route === 'token' && ctx.oidc?.params?.grant_type === 'refresh_token') return { action: 'token.reuse_detected', actor: 'system' };
  if (route === 'end_session_confirm' || route === 'end_session') return { action: 'session.ended', actor: 'user' };
  if (route === 'revocation') return { action: 'token.revoked', actor: 'client' };
  return undefined;
}

export function watchGrantRevocations(provider: Provider, poolId: string, deps: GrantRevocationDeps): void {
  provider.on('grant.revoked', (ctx: RevokingContext) => {
    const described = actionOf(ctx);
    if (!described) return;
    const userId = ctx.oidc?.account?.accountId ?? ctx.oidc?.session?.accountId;
    const clientId = ctx.oidc?.client?.clientId;
    // Recording never fails the request that revoked (audit.service.ts logs a failed write).
    void deps.audit.record(
      {
        poolId,
        action: described.action,
        outcome: 'success',
        actor: described.actor === 'user' && userId ? { kind: 'user', id: userId } : { kind: 'system' },
        target: userId ? { type: 'user', id: userId } : undefined,
        details: { ...(clientId ? { clientId } : {}) },
      },
      { actor: { kind: 'system' }, requestId: ctx.state?.requestId, ip: ctx.ip, details: {} },
    );
  });
}
