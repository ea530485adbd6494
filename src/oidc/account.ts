/**
 * findAccount for one pool: only active users of that pool exist for its provider, so a
 * disabled user's sessions and refresh tokens stop working at once.
 * Claims are returned in full; the provider releases them by scope (provider-config `claims`).
 */
import type { Account, KoaContextWithOIDC } from 'oidc-provider';
import type { UserRow } from '../db/tables.js';
import type { UserService } from '../users/users.service.js';
import { GROUPS, wantsGroups, type GroupNameSource } from './groups-claim.js';

/** OIDC standard claims a profile may hold (OpenID Connect Core §5.1). */
export const PROFILE_CLAIMS = [
  'name',
  'given_name',
  'family_name',
  'middle_name',
  'nickname',
  'preferred_username',
  'profile',
  'picture',
  'website',
  'gender',
  'birthdate',
  'zoneinfo',
  'locale',
  'updated_at',
] as const;

export function claimsOf(user: UserRow): Record<string, unknown> {
  const claims: Record<string, unknown> = { sub: user.id };
  for (const name of PROFILE_CLAIMS) {
    const value = user.profile[name];
    if (value !== undefined && value !== null) claims[name] = value;
  }
  claims.updated_at = Math.floor(new Date(user.updated_at).getTime() / 1000);
  claims.email = user.email;
  claims.email_verified = user.email_verified;
  const phone = user.phone ?? (typeof user.profile.phone_number === 'string' ? user.profile.phone_number : undefined);
  if (phone) {
    claims.phone_number = phone;
    claims.phone_number_verified = false;
  }
  return claims;
}

export function createFindAccount(users: UserService, poolId: string, groups?: GroupNameSource) {
  const findActiveUser = users.activeUserFinder(poolId);
  return async function findAccount(_ctx: KoaContextWithOIDC, sub: string): Promise<Account | undefined> {
    const user = await findActiveUser(sub);
    if (!user) return undefined;
    return {
      accountId: user.id,
      async claims(_use, scope, requested, rejected) {
        const claims = claimsOf(user);
        // The recursive group query runs only for a token or response that carries `groups`.
        if (groups && wantsGroups(scope, requested, rejected)) claims[GROUPS] = await groups.listGroupNames(poolId, user.id);
        return claims as { sub: string };
      },
    };
  };
}
