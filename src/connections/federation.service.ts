/**
 * Signing in through a connection (docs/adr/0900).
 * - begin: the upstream's authorization URL with state, nonce and PKCE (S256) bound to the
 *   interaction in a sealed, path-scoped cookie.
 * - complete: the callback's state checked against that cookie, the code exchanged, the ID
 *   token verified (issuer, audience, nonce, signature from the upstream JWKS: openid-client),
 *   or for oauth2 the profile read with the access token; then the user it names.
 * - Who the user is: a linked identity first; else a user with the same email is never
 *   signed in on the email alone (proof of the account is required); else just in time
 *   provisioning, or refusal for "existing users only".
 * Every outgoing call uses the deployment's outgoing fetch (net/outgoing-fetch.ts).
 */
import { randomUUID } from 'node:crypto';
import * as jose from 'jose';
import * as oidc from 'openid-client';
import type { Envelope } from '../crypto/envelope.js';
import type { Db } from '../db/database.js';
import { isUniqueViolation } from '../db/errors.js';
import type { ConnectionRow, PoolRow, UserRow } from '../db/tables.js';
import type { OutgoingFetch } from '../net/outgoing-fetch.js';
import type { UserSchemas } from '../users/user-schema.js';
import { createUserQueries } from '../users/users.queries.js';
import { createConnectionQueries } from './connections.queries.js';
import { TenantNotAllowed, verifyUpstreamIdToken } from './id-token.js';
import { callbackUrlOf, postLogoutUrlOf, type ConnectionService } from './connections.service.js';

/** Why a federated sign-in stopped; each has its own branded page. */
export type FederationFailure =
  | 'unknown_connection'
  | 'bad_state'
  | 'upstream_denied'
  | 'upstream_unreachable'
  | 'upstream_invalid'
  | 'tenant_refused'
  | 'proof_required'
  | 'not_provisioned'
  | 'inactive';

export class FederationError extends Error {
  constructor(
    readonly reason: FederationFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface PendingFederation {
  uid: string;
  state: string;
  nonce: string;
  verifier: string;
}

/** An upstream identity waiting for the owner of the matching account to prove it. */
export interface PendingLink {
  uid: string;
  userId: string;
  email: string;
  connectionId: string;
  subject: string;
  /** The upstream's tokens, already sealed for this identity, where the connection stores them. */
  tokensEnc?: string;
}

export type FederationOutcome =
  { kind: 'signed_in'; user: UserRow; connection: ConnectionRow; subject: string; created: boolean } | { kind: 'proof_required'; link: PendingLink };

/** What is sealed of an upstream's token response (connection `storeTokens`); never answered by any API. */
export interface StoredUpstreamTokens {
  /** Absent where only the ID token is kept, for signing out upstream (`upstreamLogout` without `storeTokens`). */
  accessToken?: string;
  tokenType?: string;
  refreshToken?: string;
  idToken?: string;
  scope?: string;
  expiresAt?: string;
  receivedAt: string;
}

/** The upstream identity a browser's sign-in at the pool came through (a sealed cookie; signing out upstream). */
export interface FederatedSignIn {
  accountId: string;
  connectionId: string;
  subject: string;
}

/** A logout sent to the upstream: the state it must bring back, and where the browser goes then. */
interface PendingLogout {
  state: string;
  back: string;
}

const MAX_LINK_COOKIE = 3800;

/** Sealed tokens are bound to one identity: a sealed value moved to another row does not open. */
export const identityTokenContext = (poolId: string, connectionId: string, subject: string) => `identity-tokens:${poolId}:${connectionId}:${subject}`;

export interface FederationServiceDeps {
  db: Db;
  envelope: Envelope;
  schemas: UserSchemas;
  connections: ConnectionService;
  outgoingFetch: OutgoingFetch;
  publicUrl: string;
  /** Plain-http upstreams only outside production (tests, local development). */
  allowHttp: boolean;
}

function claimAt(claims: Record<string, unknown>, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), claims);
}

/** The upstream could not be reached (refused by policy, down, timed out), as opposed to answering wrongly. */
function isNetworkFailure(error: unknown): boolean {
  const seen = error as { name?: string; code?: string; cause?: unknown } | undefined;
  if (!seen) return false;
  if (['TypeError', 'OutgoingRefused', 'AbortError', 'TimeoutError'].includes(seen.name ?? '')) return true;
  if (typeof seen.code === 'string' && /^E[A-Z]+$/.test(seen.code)) return true;
  return seen.cause !== undefined && seen.cause !== error && isNetworkFailure(seen.cause);
}

export function createFederationService(deps: FederationServiceDeps) {
  const cookieContext = (poolId: string, name: string) => `federation:${poolId}:${name}`;

  async function configurationOf(connection: ConnectionRow): Promise<oidc.Configuration> {
    const s = connection.settings;
    let auth: oidc.ClientAuth;
    if (s.tokenEndpointAuthMethod === 'private_key_jwt') {
      // The client assertion (RFC 7523 §2.2) is signed with the connection's own key, never with a secret.
      const key = await deps.connections.openSigningKey(connection);
      if (!key) throw new FederationError('upstream_invalid', 'private_key_jwt without a signing key');
      auth = oidc.PrivateKeyJwt(key);
    } else {
      const secret = deps.connections.openSecret(connection);
      auth = s.tokenEndpointAuthMethod === 'client_secret_post' ? oidc.ClientSecretPost(secret) : oidc.ClientSecretBasic(secret);
    }
    const options = { [oidc.customFetch]: deps.outgoingFetch as unknown as oidc.CustomFetch, execute: deps.allowHttp ? [oidc.allowInsecureRequests] : [] };
    try {
      if (connection.type === 'oidc') return await oidc.discovery(new URL(s.issuer!), connection.client_id, undefined, auth, options);
      const server: oidc.ServerMetadata = {
        issuer: new URL(s.authorizationEndpoint!).origin,
        authorization_endpoint: s.authorizationEndpoint,
        token_endpoint: s.tokenEndpoint,
      };
      const configuration = new oidc.Configuration(server, connection.client_id, undefined, auth);
      configuration[oidc.customFetch] = options[oidc.customFetch];
      if (deps.allowHttp) oidc.allowInsecureRequests(configuration);
      return configuration;
    } catch (error) {
      throw new FederationError('upstream_unreachable', `discovery failed: ${(error as Error).message}`);
    }
  }

  async function findEnabled(poolId: string, name: string): Promise<ConnectionRow> {
    const connection = await createConnectionQueries(deps.db, poolId).findConnectionByName(name);
    if (!connection || !connection.enabled) throw new FederationError('unknown_connection', `no enabled connection ${name}`);
    return connection;
  }

  /** The oauth2 profile: GitHub-shaped upstreams give emails apart (GET /user/emails). */
  async function readProfile(connection: ConnectionRow, accessToken: string): Promise<Record<string, unknown>> {
    const headers = { authorization: `Bearer ${accessToken}`, accept: 'application/json' };
    const answer = await deps.outgoingFetch(connection.settings.profileEndpoint!, { headers });
    if (!answer.ok) throw new FederationError('upstream_invalid', `profile answered ${answer.status}`);
    const profile = (await answer.json()) as Record<string, unknown>;
    if (connection.preset === 'github') {
      const emails = await deps.outgoingFetch(`${connection.settings.profileEndpoint!}/emails`, { headers });
      if (emails.ok) {
        const list = (await emails.json()) as { email: string; primary: boolean; verified: boolean }[];
        const primary = Array.isArray(list) ? list.find((entry) => entry.primary) : undefined;
        if (primary) return { ...profile, email: primary.email, email_verified: primary.verified === true };
      }
      return { ...profile, email_verified: false };
    }
    return profile;
  }

  function mapped(connection: ConnectionRow, claims: Record<string, unknown>) {
    const m = connection.settings.claimMapping;
    const subject = claimAt(claims, m.subject);
    const email = claimAt(claims, m.email);
    const verifiedClaim = claimAt(claims, m.emailVerified);
    const policy = connection.settings.emailVerified;
    const emailVerified = policy === 'always' ? true : policy === 'never' ? false : verifiedClaim === true || verifiedClaim === 'true';
    const pick = (map: Record<string, string>) =>
      Object.fromEntries(Object.entries(map).flatMap(([field, claim]) => (claimAt(claims, claim) === undefined ? [] : [[field, claimAt(claims, claim)]])));
    return {
      subject: typeof subject === 'string' || typeof subject === 'number' ? String(subject) : undefined,
      email: typeof email === 'string' && email.includes('@') ? email : undefined,
      emailVerified,
      profile: pick(m.profile),
      metadata: pick(m.metadata),
    };
  }

  /** Keeps the mapped fields the pool's schema accepts; an upstream's odd value costs that field, not the sign-in. */
  function fitting(pool: PoolRow, field: 'profile' | 'metadata', values: Record<string, unknown>): Record<string, unknown> {
    const schema = field === 'profile' ? deps.schemas.profileSchemaOf(pool) : deps.schemas.metadataSchemaOf(pool);
    const kept = { ...values };
    for (const error of deps.schemas.validate(schema, kept, field)) delete kept[error.field.split('.')[1] ?? ''];
    return deps.schemas.validate(schema, kept, field).length === 0 ? kept : {};
  }

  const linkContext = (poolId: string) => `federation-link:${poolId}`;

  function sealTokens(poolId: string, connection: ConnectionRow, subject: string, tokens: oidc.TokenEndpointResponse): string | undefined {
    const now = new Date();
    if (connection.settings.storeTokens !== true) {
      // Signing out upstream needs the ID token as id_token_hint (RP-Initiated Logout §2); nothing else is kept for it.
      if (connection.settings.upstreamLogout !== true || !tokens.id_token) return undefined;
      const idOnly: StoredUpstreamTokens = { idToken: tokens.id_token, receivedAt: now.toISOString() };
      return deps.envelope.seal(JSON.stringify(idOnly), identityTokenContext(poolId, connection.id, subject));
    }
    const stored: StoredUpstreamTokens = {
      accessToken: tokens.access_token,
      tokenType: tokens.token_type,
      refreshToken: tokens.refresh_token,
      idToken: tokens.id_token,
      scope: tokens.scope,
      expiresAt: typeof tokens.expires_in === 'number' ? new Date(now.getTime() + tokens.expires_in * 1000).toISOString() : undefined,
      receivedAt: now.toISOString(),
    };
    return deps.envelope.seal(JSON.stringify(stored), identityTokenContext(poolId, connection.id, subject));
  }

  const sessionContext = (poolId: string) => `federation-session:${poolId}`;
  const logoutContext = (poolId: string, name: string) => `federation-logout:${poolId}:${name}`;

  return {
    publicKeys: (poolId: string) => deps.connections.publicKeys(poolId),

    /** Which upstream identity this browser's sign-in came through, sealed for a cookie (signing out upstream later). */
    sealSignedIn(poolId: string, signedIn: FederatedSignIn): string {
      return deps.envelope.seal(JSON.stringify(signedIn), sessionContext(poolId));
    },

    /**
     * Where to send the browser once its session at the pool ended (RP-Initiated Logout 1.0 §2, toward the
     * upstream): the upstream's end_session_endpoint with the stored ID token as id_token_hint, coming back to the
     * connection's logged-out route; and the sealed state that route checks. Undefined, and the browser goes on
     * where it was going, unless the ended session's user signed in through a connection that propagates
     * logout, the upstream publishes an end_session_endpoint and the ID token is at hand.
     */
    async upstreamLogout(
      pool: PoolRow,
      sealedSignIn: string | undefined,
      endedAccountId: string | undefined,
      back: string,
    ): Promise<{ url: string; cookie: string; cookiePath: string } | undefined> {
      if (!sealedSignIn || !endedAccountId) return undefined;
      let signedIn: FederatedSignIn;
      try {
        signedIn = JSON.parse(deps.envelope.open(sealedSignIn, sessionContext(pool.id))) as FederatedSignIn;
      } catch {
        return undefined;
      }
      // The cookie speaks of the session that ended only if it names the same user.
      if (signedIn.accountId !== endedAccountId) return undefined;
      const queries = createConnectionQueries(deps.db, pool.id);
      const connection = await queries.findConnection(signedIn.connectionId);
      if (!connection || !connection.enabled || connection.type !== 'oidc' || connection.settings.upstreamLogout !== true) return undefined;
      const identity = await queries.findIdentity(connection.id, signedIn.subject);
      if (!identity || identity.user_id !== endedAccountId || !identity.tokens_enc) return undefined;
      let idToken: string | undefined;
      try {
        idToken = (JSON.parse(deps.envelope.open(identity.tokens_enc, identityTokenContext(pool.id, connection.id, signedIn.subject))) as StoredUpstreamTokens)
          .idToken;
      } catch {
        return undefined;
      }
      if (!idToken) return undefined;
      let configuration: oidc.Configuration;
      try {
        configuration = await configurationOf(connection);
      } catch {
        // The user is signed out of the pool already; an unreachable upstream does not stop that.
        return undefined;
      }
      if (!configuration.serverMetadata().end_session_endpoint) return undefined;
      const state = oidc.randomState();
      const url = oidc.buildEndSessionUrl(configuration, {
        id_token_hint: idToken,
        post_logout_redirect_uri: postLogoutUrlOf(deps.publicUrl, pool.id, connection.name),
        state,
      });
      const pending: PendingLogout = { state, back };
      return {
        url: url.href,
        cookie: deps.envelope.seal(JSON.stringify(pending), logoutContext(pool.id, connection.name)),
        cookiePath: `/pools/${pool.id}/connections/${connection.name}`,
      };
    },

    /** Back from the upstream's logout: where the browser was going, if the state is the one sent; else undefined. */
    returnFromLogout(poolId: string, name: string, sealed: string | undefined, state: string | null): string | undefined {
      if (!sealed || !state) return undefined;
      try {
        const pending = JSON.parse(deps.envelope.open(sealed, logoutContext(poolId, name))) as PendingLogout;
        return pending.state === state ? pending.back : undefined;
      } catch {
        return undefined;
      }
    },

    sealLink(poolId: string, link: PendingLink): string {
      const sealed = deps.envelope.seal(JSON.stringify(link), linkContext(poolId));
      // A browser drops a cookie past about 4 KB: then the tokens are left out, and the next sign-in stores them.
      return sealed.length <= MAX_LINK_COOKIE || !link.tokensEnc
        ? sealed
        : deps.envelope.seal(JSON.stringify({ ...link, tokensEnc: undefined }), linkContext(poolId));
    },

    openLink(poolId: string, uid: string, sealed: string | undefined): PendingLink {
      if (!sealed) throw new FederationError('bad_state', 'no pending link');
      let link: PendingLink;
      try {
        link = JSON.parse(deps.envelope.open(sealed, linkContext(poolId))) as PendingLink;
      } catch {
        throw new FederationError('bad_state', 'pending link cookie does not open');
      }
      if (link.uid !== uid) throw new FederationError('bad_state', 'pending link of another sign-in');
      return link;
    },

    /** Links after the account's owner proved it (the caller checked the proof for `link.userId`). */
    async linkProven(poolId: string, link: PendingLink, provenUserId: string): Promise<void> {
      if (provenUserId !== link.userId) throw new FederationError('proof_required', 'proof for another account');
      await createConnectionQueries(deps.db, poolId)
        .insertIdentity({ connection_id: link.connectionId, subject: link.subject, user_id: link.userId, tokens_enc: link.tokensEnc ?? null })
        .catch((error: unknown) => {
          if (isUniqueViolation(error)) throw new FederationError('bad_state', 'identity linked meanwhile');
          throw error;
        });
    },

    async begin(pool: PoolRow, name: string, uid: string): Promise<{ url: string; cookie: string; cookiePath: string }> {
      const connection = await findEnabled(pool.id, name);
      const configuration = await configurationOf(connection);
      const pending: PendingFederation = { uid, state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier() };
      const url = oidc.buildAuthorizationUrl(configuration, {
        redirect_uri: callbackUrlOf(deps.publicUrl, pool.id, connection.name),
        scope: connection.settings.scopes.join(' '),
        state: pending.state,
        // PKCE always (RFC 7636 §4.2), also for oauth2 upstreams, which ignore what they do not know.
        code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier),
        code_challenge_method: 'S256',
        ...(connection.type === 'oidc' ? { nonce: pending.nonce } : {}),
      });
      return {
        url: url.href,
        cookie: deps.envelope.seal(JSON.stringify(pending), cookieContext(pool.id, connection.name)),
        cookiePath: `/pools/${pool.id}/connections/${connection.name}`,
      };
    },

    /** The pending sign-in the callback's cookie holds; a missing or forged one is a bad state. */
    openPending(poolId: string, name: string, sealed: string | undefined): PendingFederation {
      if (!sealed) throw new FederationError('bad_state', 'no pending sign-in for this browser');
      try {
        return JSON.parse(deps.envelope.open(sealed, cookieContext(poolId, name))) as PendingFederation;
      } catch {
        throw new FederationError('bad_state', 'pending sign-in cookie does not open');
      }
    },

    /** Exchanges the code and answers the user to sign in. */
    async complete(pool: PoolRow, name: string, pending: PendingFederation, callbackUrl: URL): Promise<FederationOutcome> {
      const connection = await findEnabled(pool.id, name);
      if (callbackUrl.searchParams.get('state') !== pending.state) throw new FederationError('bad_state', 'state does not match');
      const upstreamError = callbackUrl.searchParams.get('error');
      if (upstreamError) throw new FederationError('upstream_denied', `upstream answered ${upstreamError}`);
      const configuration = await configurationOf(connection);
      let claims: Record<string, unknown>;
      let tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
      try {
        tokens = await oidc.authorizationCodeGrant(configuration, callbackUrl, {
          pkceCodeVerifier: pending.verifier,
          expectedState: pending.state,
          ...(connection.type === 'oidc' ? { expectedNonce: pending.nonce, idTokenExpected: true } : {}),
        });
        if (connection.type === 'oidc') {
          // openid-client checks iss, aud, nonce and times; the signature is checked here against the
          // upstream's JWKS as well (OIDC Core §3.1.3.7 step 6), not trusted to TLS alone; Microsoft's
          // multi-tenant issuer template is filled with the token's tenant (id-token.ts).
          const server = configuration.serverMetadata();
          if (!server.jwks_uri || !tokens.id_token) throw new FederationError('upstream_invalid', 'no JWKS or no ID token');
          const keys = jose.createRemoteJWKSet(new URL(server.jwks_uri), { [jose.customFetch]: deps.outgoingFetch as unknown as jose.FetchImplementation });
          await verifyUpstreamIdToken(tokens.id_token, keys, {
            issuer: server.issuer,
            audience: connection.client_id,
            tenants: connection.preset === 'microsoft' ? connection.settings.tenants : undefined,
          });
          claims = { ...tokens.claims() };
        } else {
          claims = await readProfile(connection, tokens.access_token);
        }
      } catch (error) {
        if (error instanceof FederationError) throw error;
        if (error instanceof TenantNotAllowed) throw new FederationError('tenant_refused', 'the upstream tenant is not on the allow-list');
        const unreachable = isNetworkFailure(error);
        throw new FederationError(unreachable ? 'upstream_unreachable' : 'upstream_invalid', `code exchange failed: ${(error as Error).message}`);
      }
      const identity = mapped(connection, claims);
      if (!identity.subject) throw new FederationError('upstream_invalid', 'no subject in the upstream answer');
      const tokensEnc = sealTokens(pool.id, connection, identity.subject, tokens);

      const links = createConnectionQueries(deps.db, pool.id);
      const users = createUserQueries(deps.db, pool.id);
      const linked = await links.findIdentity(connection.id, identity.subject);
      if (linked) {
        const user = await users.findUser(linked.user_id);
        if (!user || user.status !== 'active') throw new FederationError('inactive', 'linked user is not active');
        // The newest tokens replace the stored ones; a connection that stores none leaves the column empty.
        if (tokensEnc) await links.setTokens(connection.id, identity.subject, tokensEnc);
        return { kind: 'signed_in', user, connection, subject: identity.subject, created: false };
      }
      const owner = identity.email ? await users.findUserByEmail(identity.email) : undefined;
      if (owner) {
        // Never on the email alone (ADR 0900): with a verified upstream email the owner may link
        // after proving the account; an unverified one leads to no link at all.
        if (!identity.emailVerified || owner.status !== 'active')
          throw new FederationError('proof_required', 'a user with this email exists; the upstream email is not verified');
        return {
          kind: 'proof_required',
          link: { uid: pending.uid, userId: owner.id, email: owner.email, connectionId: connection.id, subject: identity.subject, tokensEnc },
        };
      }
      if (connection.settings.provisioning === 'existing_users_only') throw new FederationError('not_provisioned', 'no linked user and provisioning is off');
      if (!identity.email) throw new FederationError('upstream_invalid', 'the upstream gave no email');
      const user = await deps.db
        .transaction()
        .execute(async (trx) => {
          const created = await createUserQueries(trx, pool.id).insertUser({
            id: randomUUID(),
            email: identity.email!,
            email_verified: identity.emailVerified,
            phone: null,
            status: 'active',
            profile: JSON.stringify(fitting(pool, 'profile', identity.profile)),
            metadata: JSON.stringify(fitting(pool, 'metadata', identity.metadata)),
            password_hash: null,
          });
          await createConnectionQueries(trx, pool.id).insertIdentity({
            connection_id: connection.id,
            subject: identity.subject!,
            user_id: created.id,
            tokens_enc: tokensEnc ?? null,
          });
          return created;
        })
        .catch((error: unknown) => {
          // Another sign-in made this email's user (or this identity) a moment ago: the same rule holds.
          if (isUniqueViolation(error)) throw new FederationError('proof_required', 'the email or identity was taken meanwhile');
          throw error;
        });
      return { kind: 'signed_in', user, connection, subject: identity.subject, created: true };
    },
  };
}

export type FederationService = ReturnType<typeof createFederationService>;
