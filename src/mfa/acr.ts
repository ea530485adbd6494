/**
 * Tarn's authentication context classes (OIDC Core §2 `acr`, docs/adr/0307): whether a
 * second factor took place. A relying party asks for `urn:tarn:acr:mfa` with `acr_values`
 * (OIDC Core §3.1.2.1) and then checks the ID token's `acr`.
 */
import { REQUIRE_MFA_METADATA } from '../clients/clients.service.js';

export const ACR_MFA = 'urn:tarn:acr:mfa';
export const ACR_PASSWORD = 'urn:tarn:acr:pwd';
export const ACR_VALUES = [ACR_PASSWORD, ACR_MFA];

/** Whether the authorization request's acr_values (space-separated, in order of preference) ask for MFA only. */
export function requestsMfa(acrValues: unknown): boolean {
  if (typeof acrValues !== 'string') return false;
  const values = acrValues.split(' ').filter(Boolean);
  // "mfa" or "pwd mfa" in any order: a relying party that accepts a password alone has not asked for MFA.
  return values.includes(ACR_MFA) && !values.includes(ACR_PASSWORD);
}

/** Whether the application requires a second factor for every sign-in (client metadata `tarn_require_mfa`, docs/adr/0309). */
export function clientRequiresMfa(client: unknown): boolean {
  return Boolean(client && (client as Record<string, unknown>)[REQUIRE_MFA_METADATA] === true);
}
