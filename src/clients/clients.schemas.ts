/** What the admin API accepts for applications. The provider checks the rest (Client.validate). */
import { z } from 'zod';
import { timestamp } from '../http/guard.js';
import { shownSecret } from '../http/shown-secret.js';
import { publicJwkResponse } from '../keys/jwk.schemas.js';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', DEVICE_CODE_GRANT] as const;
/** The algorithms of the keys every pool holds (keys.service KEY_ALGS). */
export const ID_TOKEN_ALGS = ['RS256', 'ES256'] as const;
export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const;

const uri = z
  .string()
  .max(2048)
  .refine(
    (value) => {
      try {
        const url = new URL(value);
        return url.hash === '' && !value.includes('#');
      } catch {
        return false;
      }
    },
    { message: 'Must be an absolute URI without a fragment.' },
  );

// RFC 8707 §2: an absolute URI without a fragment; scopes are plain scope tokens (RFC 6749 §3.3).
const scopeToken = z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,100}$/, { message: 'Must be a scope token (printable ASCII, no spaces or quotes).' });
const resource = z
  .object({
    uri: uri.refine((value) => !value.includes('?'), { message: 'Must not have a query.' }),
    scopes: z.array(scopeToken).max(50),
  })
  .strict();

// A client registers public keys only (RFC 7517 §5); private or symmetric members are refused.
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const publicJwk = z
  .record(z.string(), z.unknown())
  .refine((key) => typeof key.kty === 'string', { message: 'Must name its key type (kty).' })
  .refine((key) => PRIVATE_MEMBERS.every((member) => !(member in key)), { message: 'Must be a public key (no private or symmetric key members).' });
const jwks = z.object({ keys: z.array(publicJwk).min(1).max(10) }).strict();

const clientFields = {
  name: z.string().trim().min(1).max(200),
  redirectUris: z.array(uri).max(50),
  postLogoutRedirectUris: z.array(uri).max(50),
  grantTypes: z.array(z.enum(GRANT_TYPES)).min(1).max(GRANT_TYPES.length),
  tokenEndpointAuthMethod: z.enum(AUTH_METHODS),
  backchannelLogoutUri: uri.nullable(),
  clientUri: uri.nullable().describe("OIDC Registration client_uri: the application's home page, offered as the way back on error pages and after sign-out."),
  initiateLoginUri: uri
    .refine((value) => value.startsWith('https://'), { message: 'Must be an https URL.' })
    .nullable()
    .describe('OIDC Registration initiate_login_uri (https): where the application starts a sign-in; error pages offer "start again" there.'),
  jwks: jwks.nullable(),
  idTokenSignedResponseAlg: z
    .enum(ID_TOKEN_ALGS)
    .describe("OIDC Registration §2 id_token_signed_response_alg: how this client's ID tokens are signed (default RS256)."),
  refreshTokenReuseGraceSeconds: z
    .number()
    .int()
    .min(0)
    .max(300)
    .describe(
      'Seconds after a refresh token is first used during which using it again returns another refresh token of the same grant instead of revoking the grant (default 0: strict).',
    ),
  dpopBoundAccessTokens: z.boolean().describe('RFC 9449 §5.2: every access token of this client must be DPoP-bound.'),
  requireMfa: z
    .boolean()
    .describe("Every sign-in to this application needs a second factor, whatever the pool's MFA policy; a user without one enrols first (default false)."),
  firstParty: z
    .boolean()
    .describe("The pool owner's own application: users are not asked to allow access, and their consent is recorded as implicit (default false)."),
  resources: z
    .array(resource)
    .max(20)
    .describe('RFC 8707 resource servers this client may get JWT access tokens (RFC 9068) for, each with the scopes it may be granted there.'),
};

/**
 * Moving an application from another provider keeps its credentials, so the application
 * needs no change: its client id (printable ASCII) and, for a secret-based method, its secret.
 */
const carriedOver = {
  clientId: z.string().regex(/^[\x21-\x7e]{1,200}$/, { message: 'Must be 1 to 200 printable ASCII characters without spaces.' }),
  clientSecret: z.string().min(16, { message: 'Must be at least 16 characters.' }).max(512),
};

export const createClientSchema = z
  .object({ ...clientFields, ...carriedOver })
  .partial()
  .required({ name: true })
  .strict();

export const updateClientSchema = z.object(clientFields).partial().strict();

export type CreateClientInput = z.infer<typeof createClientSchema>;
export type UpdateClientInput = z.infer<typeof updateClientSchema>;

// What the admin API answers for applications. Plain strings where the provider stores
// what it validated (grant types, auth method), so a stored value never breaks an answer.
export const clientResponse = z.object({
  clientId: z.string(),
  name: z.string(),
  redirectUris: z.array(z.string()),
  postLogoutRedirectUris: z.array(z.string()),
  grantTypes: z.array(z.string()),
  tokenEndpointAuthMethod: z.string(),
  backchannelLogoutUri: z.string().nullable(),
  clientUri: z.string().nullable(),
  initiateLoginUri: z.string().nullable(),
  jwks: z.object({ keys: z.array(publicJwkResponse) }).nullable(),
  idTokenSignedResponseAlg: z.string(),
  refreshTokenReuseGraceSeconds: z.number().int(),
  dpopBoundAccessTokens: z.boolean(),
  requireMfa: z.boolean(),
  firstParty: z.boolean(),
  resources: z.array(z.object({ uri: z.string(), scopes: z.array(z.string()) })),
  hasSecret: z.boolean(),
  secretRotatedAt: timestamp.nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const clientWithSecretResponse = clientResponse.extend({
  secret: shownSecret.optional().describe('The client secret, shown once: present only when this request made one.'),
});

export const clientIdParams = z.object({ clientId: z.string() });
