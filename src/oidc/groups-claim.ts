/**
 * The `groups` claim (docs/design.md#groups; ADR 0201): the names of every group the user
 * is in, directly or through nesting.
 * - ID token and userinfo: released with scope `groups` (provider-config `claims`), or when
 *   named in the claims parameter (OIDC Core §5.5) and granted; never otherwise.
 * - Access tokens: with scope `groups`, the names go into the token's extra claims, which
 *   introspection (RFC 7662 §2.2) shows for opaque tokens and a JWT access token carries.
 * The recursive query runs only when the claim is wanted, never for other tokens.
 */
import type { AccessToken, ClientCredentials, KoaContextWithOIDC } from 'oidc-provider';

export const GROUPS = 'groups';

export interface GroupNameSource {
  listGroupNames(poolId: string, userId: string): Promise<string[]>;
}

export function hasScope(scope: string | undefined, wanted: string): boolean {
  return typeof scope === 'string' && scope.split(' ').includes(wanted);
}

/** Whether claims() must compute `groups` for this use (id_token or userinfo). */
export function wantsGroups(scope: string | undefined, requested: Record<string, unknown> | undefined, rejected: readonly string[] | undefined): boolean {
  if (rejected?.includes(GROUPS)) return false;
  return hasScope(scope, GROUPS) || (requested !== undefined && requested !== null && GROUPS in requested);
}

/** oidc-provider `extraTokenClaims`: a user's access token granted scope `groups` carries the names. */
export function createGroupsTokenClaims(source: GroupNameSource, poolId: string) {
  // Not async: most tokens need nothing, and then no promise is made (every token request calls this).
  return function groupsTokenClaims(_ctx: KoaContextWithOIDC, token: AccessToken | ClientCredentials) {
    const accountId = 'accountId' in token ? token.accountId : undefined;
    if (!accountId || !hasScope(token.scope, GROUPS)) return undefined;
    return source.listGroupNames(poolId, accountId).then((names) => ({ [GROUPS]: names }));
  };
}
