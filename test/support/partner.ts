/**
 * Two pools of one Tarn federated as a company and its partner: "Harbour Co" (downstream) offers
 * "Continue with Partner Corp", an OIDC connection named `partner` to the upstream pool, whose
 * client is registered for the downstream pool's callback.
 */
import { createClient, createPool } from './fixtures.js';
import type { RunningTarn } from './tarn.js';

export async function partnerPools(tarn: RunningTarn, downstreamFields: Record<string, unknown> = {}) {
  const upstream = await createPool(tarn, { name: 'Partner Corp' });
  const downstream = await createPool(tarn, { name: 'Harbour Co', ...downstreamFields });
  const link = await createClient(tarn, upstream.id, {
    name: 'Harbour Co sign-in',
    redirectUris: [`${tarn.url}/pools/${downstream.id}/connections/partner/callback`],
  });
  const created = await tarn.admin('POST', `/pools/${downstream.id}/connections`, {
    name: 'partner',
    type: 'oidc',
    displayName: 'Partner Corp',
    issuer: upstream.issuer,
    clientId: link.clientId,
    clientSecret: link.secret?.value,
  });
  expect(created.status).toBe(201);
  return { upstream, downstream, link, connection: created.body as { id: string } };
}
