/**
 * Presets: well-known upstreams that need only a client id and secret. Each expands to the
 * endpoints and claim mapping its provider documents; the admin's own fields win.
 * - Google: an OpenID provider (https://developers.google.com/identity/openid-connect/openid-connect).
 * - Microsoft Entra ID: OpenID provider per tenant; `common`, `organizations` or `consumers`
 *   for multi-tenant apps, a tenant id or domain for one tenant
 *   (https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc).
 * - GitHub: OAuth 2 only; the profile is GET /user, the emails GET /user/emails
 *   (https://docs.github.com/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps).
 * - Apple: an OpenID provider whose client secret is a JWT the admin generates
 *   (https://developer.apple.com/documentation/sign_in_with_apple).
 */
import type { ClaimMapping, ConnectionSettings } from '../db/tables.js';

export const PRESETS = ['google', 'microsoft', 'github', 'apple'] as const;
export type Preset = (typeof PRESETS)[number];

export const OIDC_MAPPING: ClaimMapping = {
  subject: 'sub',
  email: 'email',
  emailVerified: 'email_verified',
  profile: { name: 'name', given_name: 'given_name', family_name: 'family_name' },
  metadata: {},
};

/** GitHub's /user: a numeric `id`, `name`, `login`, `avatar_url`; emails come from /user/emails. */
export const GITHUB_MAPPING: ClaimMapping = {
  subject: 'id',
  email: 'email',
  emailVerified: 'email_verified',
  profile: { name: 'name', preferred_username: 'login', picture: 'avatar_url' },
  metadata: {},
};

export interface PresetExpansion {
  type: 'oidc' | 'oauth2';
  displayName: string;
  settings: Partial<ConnectionSettings>;
}

export function expandPreset(preset: Preset, tenant: string | undefined): PresetExpansion {
  switch (preset) {
    case 'google':
      return {
        type: 'oidc',
        displayName: 'Google',
        settings: { issuer: 'https://accounts.google.com', scopes: ['openid', 'email', 'profile'], claimMapping: OIDC_MAPPING },
      };
    case 'microsoft': {
      const chosen = tenant ?? 'common';
      return {
        type: 'oidc',
        displayName: 'Microsoft',
        settings: {
          issuer: `https://login.microsoftonline.com/${chosen}/v2.0`,
          tenant: chosen,
          scopes: ['openid', 'email', 'profile'],
          claimMapping: OIDC_MAPPING,
        },
      };
    }
    case 'github':
      return {
        type: 'oauth2',
        displayName: 'GitHub',
        settings: {
          authorizationEndpoint: 'https://github.com/login/oauth/authorize',
          tokenEndpoint: 'https://github.com/login/oauth/access_token',
          profileEndpoint: 'https://api.github.com/user',
          scopes: ['read:user', 'user:email'],
          tokenEndpointAuthMethod: 'client_secret_post',
          claimMapping: GITHUB_MAPPING,
        },
      };
    case 'apple':
      // Apple sends the name only on the first authorization and outside the ID token.
      return {
        type: 'oidc',
        displayName: 'Apple',
        settings: {
          issuer: 'https://appleid.apple.com',
          scopes: ['openid', 'email', 'name'],
          tokenEndpointAuthMethod: 'client_secret_post',
          claimMapping: { ...OIDC_MAPPING, profile: {} },
        },
      };
  }
}
