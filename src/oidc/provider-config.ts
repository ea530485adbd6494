/**
 * The node-oidc-provider configuration of one pool. Everything pool-specific (issuer,
 * keys, clients, accounts, artifacts, cookie path, branding of error pages) comes from
 * the pool's rows; everything else is Tarn's policy, the same for every pool.
 * What every pool offers (docs/conformance.md proves each): authorization code with PKCE
 * (S256 only; required for public clients), refresh rotation, client credentials,
 * userinfo, introspection, revocation, RP-initiated and back-channel logout, PAR, DPoP,
 * the device grant, resource indicators with RFC 9068 JWT access tokens, form_post, the
 * claims parameter. Discovery lists exactly this, since it is derived from this object.
 */
import { localeOf } from '../i18n/request-locale.js';
import { ACR_VALUES, ACR_MFA, clientRequiresMfa, requestsMfa } from '../mfa/acr.js';
import { interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Db } from '../db/database.js';
import type { PoolRow } from '../db/tables.js';
import type { OidcClientMetadata } from '../clients/clients.service.js';
import type { PublishedKey } from '../keys/keys.service.js';
import type { UserService } from '../users/users.service.js';
import type { OutgoingFetch } from '../net/outgoing-fetch.js';
import type { PageRenderer } from '../views/render.js';
import { createDevicePages } from './device-pages.js';
import type { Logger } from '../log.js';
import { LOCALES } from '../i18n/catalogues.js';
import { translatorFor } from '../i18n/translator.js';
import { backAfterSignOutUrlOf, providerErrorPage, startAgainUrlOf } from './start-again.js';
import { createResourceServerInfo } from './resource-servers.js';
import { mayIntrospect, mayRevoke } from './token-disclosure.js';
import { FIRST_PARTY_METADATA, REFRESH_GRACE_METADATA, REQUIRE_MFA_METADATA, RESOURCES_METADATA } from '../clients/clients.service.js';
import { createLoadExistingGrant } from './remembered-consent.js';
import { createFindAccount, PROFILE_CLAIMS } from './account.js';
import { createAdapterFactory } from './adapter.js';
import { builtInClientGrant, isBuiltInClientId } from './built-in-clients.js';
import type { ArtifactAtRest } from './artifact-at-rest.js';
import { withRefreshGrace } from './refresh-grace.js';
import { createGroupsTokenClaims, GROUPS, type GroupNameSource } from './groups-claim.js';

export interface ProviderConfigDeps {
  db: Db;
  users: UserService;
  groups: GroupNameSource;
  findClient(clientId: string): Promise<OidcClientMetadata | undefined>;
  pages: PageRenderer;
  cookieKeys: string[];
  /** How this pool's artifacts are stored (keyed hashes, sealed references: ADR 0709). */
  artifactsAtRest: ArtifactAtRest;
  /** Where refusals the provider renders as pages are logged (technical detail, request id). */
  log?: Logger;
  /** Every outgoing request the provider makes (back-channel logout, …), under the deployment's policy (src/net). */
  fetch: OutgoingFetch;
}

export const TTL = {
  AccessToken: 60 * 60,
  AuthorizationCode: 60,
  ClientCredentials: 10 * 60,
  IdToken: 60 * 60,
  Interaction: 60 * 60,
  Grant: 14 * 24 * 60 * 60,
  RefreshToken: 14 * 24 * 60 * 60,
  Session: 14 * 24 * 60 * 60,
  // RFC 8628 §3.2 expires_in; RFC 9126 §2.2 "short-lived".
  DeviceCode: 10 * 60,
  PushedAuthorizationRequest: 60,
};

export function buildProviderConfiguration(pool: PoolRow, keys: PublishedKey[], deps: ProviderConfigDeps): Configuration {
  const basePath = `/pools/${pool.id}`;
  const cookieOptions = { httpOnly: true, sameSite: 'lax' as const, path: basePath };
  const devicePages = createDevicePages(deps.pages, pool);
  const rememberedConsent = createLoadExistingGrant(deps.db, pool.id);
  return {
    fetch: deps.fetch as Configuration['fetch'],
    adapter: withRefreshGrace(createAdapterFactory(deps.db, pool.id, deps.findClient, deps.artifactsAtRest), deps.findClient),
    findAccount: createFindAccount(deps.users, pool.id, deps.groups),
    extraTokenClaims: createGroupsTokenClaims(deps.groups, pool.id),
    jwks: {
      keys: keys.map((key) => (key.status === 'current' ? key.privateJwk : { ...key.privateJwk, key_ops: ['verify'] })),
    },
    cookies: {
      keys: deps.cookieKeys,
      // Each pool's cookies stay on its own path: signing in at one pool never touches another's session.
      long: cookieOptions,
      short: cookieOptions,
      names: { session: '_tarn_session', interaction: '_tarn_interaction', resume: '_tarn_resume' },
    },
    claims: {
      // Every ID token says how the user signed in (docs/adr/0307): acr (whether a second factor
      // was passed) and RFC 8176 amr (pwd, otp, mfa, hwk), as set by the sign-in that made the session.
      openid: ['sub', 'acr', 'amr'],
      email: ['email', 'email_verified'],
      phone: ['phone_number', 'phone_number_verified'],
      profile: [...PROFILE_CLAIMS],
      [GROUPS]: [GROUPS],
    },
    // ID tokens carry the claims of the granted scopes, as Keycloak and Logto users expect.
    conformIdTokenClaims: false,
    // Only the code flow (OIDC Core §3.1); the implicit and hybrid flows are not offered.
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    // OIDC Core §3.1.2.1: redirect_uri is required, even when a client has only one.
    allowOmittingSingleRegisteredRedirectUri: false,
    // The client's resource servers travel with its metadata (clients.service toOidcMetadata).
    extraClientMetadata: { properties: [RESOURCES_METADATA, REFRESH_GRACE_METADATA, REQUIRE_MFA_METADATA, FIRST_PARTY_METADATA] },
    // `idp=<connection name>`: the relying party picks the upstream, skipping the login page (ADR 0900).
    extraParams: ['idp'],
    features: {
      devInteractions: { enabled: false },
      backchannelLogout: { enabled: true },
      deviceFlow: {
        enabled: true,
        charset: 'base-20',
        mask: '****-****',
        userCodeInputSource: devicePages.userCodeInputSource,
        userCodeConfirmSource: devicePages.userCodeConfirmSource,
        successSource: devicePages.successSource,
      },
      dPoP: { enabled: true },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
      resourceIndicators: {
        enabled: true,
        getResourceServerInfo: createResourceServerInfo(TTL.AccessToken),
      },
      claimsParameter: { enabled: true },
      clientCredentials: { enabled: true },
      // Only the client a token was issued to learns about it or revokes it (token-disclosure.ts).
      introspection: { enabled: true, allowedPolicy: mayIntrospect },
      revocation: { enabled: true, allowedPolicy: mayRevoke },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx: KoaContextWithOIDC, form: string) => {
          ctx.type = 'html';
          ctx.body = await deps.pages.render('logout', pool, { locale: localeOf(ctx, pool), form, clientName: ctx.oidc.client?.clientName });
        },
        postLogoutSuccessSource: async (ctx: KoaContextWithOIDC) => {
          ctx.type = 'html';
          ctx.body = await deps.pages.render('logged-out', pool, {
            locale: localeOf(ctx, pool),
            clientName: ctx.oidc.client?.clientName,
            backUrl: backAfterSignOutUrlOf(ctx.oidc.client),
          });
        },
      },
    },
    // acr_values_supported in discovery; the acr of a session is set by the sign-in (docs/adr/0307).
    acrValues: ACR_VALUES,
    interactions: {
      policy: loginPolicy(),
      url: (_ctx, interaction) => `${basePath}/interaction/${interaction.uid}`,
    },
    // Consent remembered per user and application, and never asked by first-party applications
    // (ADR 0401); Tarn's built-in clients (built-in-clients.ts) have no row to remember it by,
    // and get their grant from the session, made here when the session has none yet.
    loadExistingGrant: (ctx) => (isBuiltInClientId(pool.id, ctx.oidc.client!.clientId) ? builtInClientGrant(ctx) : rememberedConsent(ctx)),
    // A client that may use refresh tokens gets one with every code exchange.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // RFC 9700 §4.14.2: rotate on every use; reuse of a rotated token revokes the grant,
    // after the client's reuse grace period (refresh-grace.ts, ADR 0604).
    rotateRefreshToken: true,
    // A browser sent here with a request the provider refuses (an unknown client, a redirect_uri
    // not registered, …) gets the pool's error page in words for people; the technical detail
    // goes to the log under the request id the page shows.
    renderError: async (ctx, out) => {
      const requestId = (ctx.state as { requestId?: string } | undefined)?.requestId;
      deps.log?.info({ poolId: pool.id, requestId, error: out.error, detail: out.error_description }, 'provider refused a browser request');
      const i18n = translatorFor(localeOf(ctx, pool));
      const name = providerErrorPage(out.error, out.error_description);
      ctx.type = 'html';
      ctx.set('Content-Language', i18n.locale);
      ctx.body = await deps.pages.render('error', pool, {
        locale: i18n.locale,
        title: i18n.t(`error.${name}.title`),
        message: i18n.t(`error.${name}.message`),
        reference: requestId,
        // A bad redirect_uri is no place to send anyone back to; the client's registered home page is.
        startAgainUrl: startAgainUrlOf(ctx.oidc?.client),
      });
    },
    // OIDC Discovery §3: the languages of the hosted pages (src/i18n).
    discovery: { ui_locales_supported: [...LOCALES] },
    ttl: TTL,
    // oidc-provider's default userinfo path is /me, which is the user's self-service profile
    // API in Tarn (users/me.routes.ts); relying parties find /userinfo through discovery.
    routes: { userinfo: '/userinfo' },
  };
}

/**
 * The default prompts, plus one login check: a session whose account is no longer active
 * (disabled or deleted: findAccount finds nothing) must sign in again, never be reused silently.
 */
function loginPolicy() {
  const policy = interactionPolicy.base();
  const login = policy.get('login')!;
  login.checks.add(
    new interactionPolicy.Check('account_inactive', 'The signed-in account is no longer active', (ctx) =>
      ctx.oidc.session?.accountId && !ctx.oidc.account ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT,
    ),
    0,
  );
  // Step-up: a relying party that asks for MFA (acr_values), or whose application requires it (docs/adr/0309), gets a second factor even within a
  // session that signed in with a password alone; the hosted page asks for the missing factor.
  login.checks.add(
    new interactionPolicy.Check('mfa_requested', 'The application asked for a second factor', (ctx) =>
      ctx.oidc.session?.accountId && (requestsMfa(ctx.oidc.params?.acr_values) || clientRequiresMfa(ctx.oidc.client)) && ctx.oidc.acr !== ACR_MFA
        ? interactionPolicy.Check.REQUEST_PROMPT
        : interactionPolicy.Check.NO_NEED_TO_PROMPT,
    ),
  );
  return policy;
}
