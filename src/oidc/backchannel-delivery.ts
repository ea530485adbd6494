/**
 * What becomes of each back-channel logout token (OIDC Back-Channel Logout §2.5): the
 * provider sends it when a session ends and tells only its event emitter how it went.
 * A failed delivery leaves the relying party's session alive, so it is never silent:
 * logged (the client and the reason, never the logout token), counted in /metrics, and
 * written to the pool's audit log where the pool's admins look.
 */
import type Provider from 'oidc-provider';
import type { AuditService } from '../audit/audit.service.js';
import type { Logger } from '../log.js';

export interface BackchannelDeliveryDeps {
  log: Logger;
  audit: Pick<AuditService, 'record'>;
  count(outcome: 'delivered' | 'failed'): void;
}

interface ClientLike {
  clientId: string;
  backchannelLogoutUri?: string;
}

/** The reason in a few words: the error's message, which names the destination but holds no token. */
function reasonOf(error: unknown): string {
  const cause = (error as { cause?: { message?: string } }).cause?.message;
  const message = error instanceof Error ? error.message : String(error);
  return (cause && message === 'fetch failed' ? cause : message).slice(0, 300);
}

export function watchBackchannelDelivery(provider: Provider, poolId: string, deps: BackchannelDeliveryDeps): void {
  provider.on('backchannel.success', () => deps.count('delivered'));
  provider.on('backchannel.error', (_ctx: unknown, error: unknown, client: ClientLike, accountId: string) => {
    deps.count('failed');
    const reason = reasonOf(error);
    deps.log.warn({ poolId, clientId: client.clientId, destination: client.backchannelLogoutUri, reason }, 'back-channel logout not delivered');
    void deps.audit.record({
      poolId,
      action: 'backchannel_logout.deliver',
      outcome: 'failure',
      actor: { kind: 'system' },
      target: { type: 'client', id: client.clientId },
      details: { userId: accountId, destination: client.backchannelLogoutUri, reason },
    });
  });
}
