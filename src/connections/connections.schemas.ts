/**
 * What the admin API accepts for connections. A name is a slug (it appears in URLs and in
 * the `idp` authorization parameter); a secret is accepted, never answered (`hasSecret`).
 * Which fields a type needs (issuer for oidc, endpoints for oauth2) the service checks.
 */
import { z } from 'zod';
import { timestamp } from '../http/guard.js';
import { publicJwkResponse } from '../keys/jwk.schemas.js';
import { PRESETS } from './presets.js';

const slug = z
  .string()
  .min(1, { message: 'Must not be empty.' })
  .max(64)
  .regex(/^[a-z0-9][a-z0-9-]*$/, { message: 'Lower-case letters, digits and dashes, starting with a letter or digit.' });
const label = z
  .string()
  .trim()
  .min(1, { message: 'Must not be empty.' })
  .max(128)
  // eslint-disable-next-line no-control-regex
  .regex(/^[^\u0000-\u001f\u007f]*$/, { message: 'Must not contain control characters.' });
const httpsUrl = z.url({ protocol: /^https?$/, message: 'Must be an http(s) URL.' }).max(2048);
const claimName = z.string().min(1).max(128);
const fieldMap = z.record(z.string().min(1).max(128), claimName);

const claimMapping = z
  .object({
    subject: claimName,
    email: claimName,
    emailVerified: claimName,
    profile: fieldMap.describe("Profile field of the pool's schema → upstream claim."),
    metadata: fieldMap.describe('Metadata key → upstream claim.'),
  })
  .partial()
  .strict();

const fields = {
  displayName: label,
  logoUrl: httpsUrl.nullable(),
  hidden: z.boolean().describe('Leave the button off the hosted login page; relying parties can still pick it with `idp`.'),
  enabled: z.boolean(),
  issuer: httpsUrl.describe('oidc: the upstream issuer; its discovery document gives the endpoints.'),
  tenant: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9.-]+$/, { message: 'A tenant id, domain, common, organizations or consumers.' }),
  tenants: z
    .array(z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, { message: 'A tenant id (a GUID).' }))
    .max(100)
    .describe('microsoft preset, multi-tenant (common or organizations): only these tenant ids may sign in; empty accepts any.'),
  authorizationEndpoint: httpsUrl,
  tokenEndpoint: httpsUrl,
  profileEndpoint: httpsUrl.describe('oauth2: where the profile is read with the access token.'),
  clientId: z.string().min(1).max(512),
  clientSecret: z.string().min(1).max(4096),
  scopes: z
    .array(
      z
        .string()
        .min(1)
        .max(128)
        .regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, { message: 'A scope token (RFC 6749 §3.3).' }),
    )
    .max(32),
  tokenEndpointAuthMethod: z
    .enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt'])
    .describe('private_key_jwt (oidc only): Tarn signs a client assertion with a key it makes for the connection; see publicJwk and jwksUrl.'),
  claimMapping,
  emailVerified: z.enum(['claim', 'always', 'never']).describe("claim: the upstream's email_verified claim decides; always/never: this connection decides."),
  provisioning: z.enum(['just_in_time', 'existing_users_only']),
  storeTokens: z.boolean().describe("Keep the upstream's tokens, sealed, on each linked identity (never answered). Turning it off deletes the stored ones."),
  upstreamLogout: z
    .boolean()
    .describe(
      "oidc: when a user who signed in through this connection signs out, send the browser to the upstream's end_session_endpoint too (RP-Initiated Logout).",
    ),
};

export const updateConnectionSchema = z.object(fields).partial().strict();

export const createConnectionSchema = updateConnectionSchema
  .extend({ name: slug, type: z.enum(['oidc', 'oauth2']).optional(), preset: z.enum(PRESETS).optional() })
  .strict();

export const connectionIdParams = z.object({ connectionId: z.string() });
export const identityParams = z.object({ userId: z.string(), connectionName: z.string() });

export const connectionResponse = z.object({
  id: z.string(),
  name: z.string(),
  type: z.enum(['oidc', 'oauth2']),
  preset: z.string().nullable(),
  displayName: z.string(),
  logoUrl: z.string().nullable(),
  hidden: z.boolean(),
  enabled: z.boolean(),
  issuer: z.string().nullable(),
  tenant: z.string().nullable(),
  tenants: z.array(z.string()),
  authorizationEndpoint: z.string().nullable(),
  tokenEndpoint: z.string().nullable(),
  profileEndpoint: z.string().nullable(),
  clientId: z.string(),
  hasSecret: z.boolean(),
  scopes: z.array(z.string()),
  tokenEndpointAuthMethod: z.string(),
  claimMapping: z.object({
    subject: z.string(),
    email: z.string(),
    emailVerified: z.string(),
    profile: z.record(z.string(), z.string()),
    metadata: z.record(z.string(), z.string()),
  }),
  emailVerified: z.string(),
  provisioning: z.string(),
  storeTokens: z.boolean(),
  upstreamLogout: z.boolean(),
  publicJwk: publicJwkResponse
    .nullable()
    .describe('private_key_jwt: the public key to register at the upstream (its private half is sealed and never answered).'),
  jwksUrl: z.string().describe("Where the pool publishes its connections' public keys (a JWKS), for upstreams that fetch them."),
  callbackUrl: z.string().describe('The redirect URI to register at the upstream.'),
  postLogoutRedirectUrl: z.string().describe('With upstreamLogout: the post-logout redirect URI to register at the upstream.'),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export const connectionListResponse = z.object({ items: z.array(connectionResponse) });

export const identityResponse = z.object({ connection: z.string(), connectionId: z.string(), subject: z.string(), createdAt: timestamp });
export const identityListResponse = z.object({ items: z.array(identityResponse) });

export type CreateConnectionInput = z.infer<typeof createConnectionSchema>;
export type UpdateConnectionInput = z.infer<typeof updateConnectionSchema>;
