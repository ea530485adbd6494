/**
 * Touches to the two documents the provider publishes, applied to its answer before it is
 * sent (and remembered by metadata-cache.ts):
 * - JWKS: RFC 7517 §4.3 says `use` and `key_ops` SHOULD NOT be used together. The provider
 *   is given `key_ops: ["verify"]` on next and retired keys so that it never signs with
 *   them; that is the provider's business, so the published keys carry `use` alone.
 * - Discovery: RFC 8414 §2 names the client authentication methods of the introspection
 *   and revocation endpoints (and their signing algorithms when JWT methods are among
 *   them). The provider authenticates clients the same way at every endpoint, so these
 *   are the token endpoint's values.
 */
const DISCOVERY = '/.well-known/openid-configuration';
const JWKS = '/jwks';

type Json = Record<string, unknown>;

function publishedKeys(body: Json): Json {
  const keys = Array.isArray(body.keys) ? (body.keys as Json[]) : [];
  return { ...body, keys: keys.map(({ key_ops: _operations, ...key }) => key) };
}

function publishedDiscovery(body: Json): Json {
  const methods = body.token_endpoint_auth_methods_supported;
  const algorithms = body.token_endpoint_auth_signing_alg_values_supported;
  const withAlgorithms = (endpoint: string) =>
    body[`${endpoint}_endpoint`]
      ? {
          [`${endpoint}_endpoint_auth_methods_supported`]: methods,
          ...(algorithms ? { [`${endpoint}_endpoint_auth_signing_alg_values_supported`]: algorithms } : {}),
        }
      : {};
  return { ...body, ...withAlgorithms('introspection'), ...withAlgorithms('revocation') };
}

/**
 * RFC 7009 §2.2: a successful revocation is a 200 whose body the client ignores. The provider
 * sends an empty text/plain body, which browser libraries that insist on JSON (oidc-client-ts)
 * refuse; an empty JSON object is equally ignorable and satisfies them (ADR 0604).
 */
export const REVOCATION = '/token/revocation';
export const REVOKED = {};

/** The document to publish for a provider answer at `path` (the path inside the pool). */
export function tidyPublishedDocument(path: string, body: unknown): unknown {
  if (!body || typeof body !== 'object' || Buffer.isBuffer(body)) return body;
  if (path === JWKS) return publishedKeys(body as Json);
  if (path === DISCOVERY) return publishedDiscovery(body as Json);
  return body;
}
