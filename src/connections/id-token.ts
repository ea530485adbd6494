/**
 * The signature and issuer check of an upstream ID token, against the upstream's JWKS (docs/adr/0900).
 * Microsoft Entra ID's multi-tenant endpoints (`common`, `organizations`) publish an issuer template,
 * `https://login.microsoftonline.com/{tenantid}/v2.0`: each token's issuer is that template with the
 * token's own `tid` claim put in, which is the rule Microsoft documents for validating multi-tenant
 * tokens. The template is honoured only at Microsoft's origin and only for a `tid` shaped like a
 * tenant id (a GUID), so no other upstream, and no claim value, can widen the accepted issuers.
 */
import * as jose from 'jose';

export const ENTRA_ORIGIN = 'https://login.microsoftonline.com';
const TENANT_TEMPLATE = '{tenantid}';
const TENANT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class IdTokenRefused extends Error {}

/** A verified token from a Microsoft tenant outside the connection's allow-list. */
export class TenantNotAllowed extends IdTokenRefused {}

/** A Microsoft Entra tenant id (a GUID); multi-tenant allow-lists hold these. */
export function isTenantId(value: unknown): value is string {
  return typeof value === 'string' && TENANT_ID.test(value);
}

/**
 * The issuer this token must carry: the discovered one, or for Microsoft's multi-tenant template the
 * template with the token's `tid`. Throws IdTokenRefused when a template cannot be filled.
 */
export function expectedIssuer(discoveredIssuer: string, claims: jose.JWTPayload): string {
  if (!discoveredIssuer.includes(TENANT_TEMPLATE)) return discoveredIssuer;
  if (new URL(discoveredIssuer.replace(TENANT_TEMPLATE, 'tenant')).origin !== ENTRA_ORIGIN) {
    throw new IdTokenRefused('an issuer template is accepted only from Microsoft Entra ID');
  }
  const tid = claims.tid;
  if (!isTenantId(tid)) throw new IdTokenRefused('the token names no tenant (tid)');
  return discoveredIssuer.replace(TENANT_TEMPLATE, tid);
}

/**
 * Verifies signature, issuer (see expectedIssuer), audience and times; answers the verified claims.
 * With `tenants` (a multi-tenant Microsoft connection's allow-list), the signed `tid` must be one of them.
 */
export async function verifyUpstreamIdToken(
  idToken: string,
  keys: jose.JWTVerifyGetKey,
  expected: { issuer: string; audience: string; tenants?: readonly string[] },
): Promise<jose.JWTPayload> {
  let unverified: jose.JWTPayload;
  try {
    unverified = jose.decodeJwt(idToken);
  } catch {
    throw new IdTokenRefused('the ID token is not a JWT');
  }
  const issuer = expectedIssuer(expected.issuer, unverified);
  // The tenant was read before the signature was checked; jwtVerify then checks that signed token's iss against it.
  const { payload } = await jose.jwtVerify(idToken, keys, { issuer, audience: expected.audience });
  if (expected.tenants && expected.tenants.length > 0) {
    const tid = typeof payload.tid === 'string' ? payload.tid.toLowerCase() : undefined;
    if (!tid || !expected.tenants.some((allowed) => allowed.toLowerCase() === tid)) throw new TenantNotAllowed('the token comes from a tenant outside the allow-list');
  }
  return payload;
}
