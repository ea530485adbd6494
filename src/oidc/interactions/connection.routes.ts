/**
 * Sign-in through a connection (an upstream identity provider; docs/adr/0900):
 *   GET /interaction/:uid/connection/:name   to the upstream, state, nonce and PKCE bound to this interaction
 *   GET /connections/:name/callback          back from the upstream: the user signed in (amr "fed")
 *   GET /connections/jwks                    the public keys of the pool's connections' client assertions
 *   GET /connections/:name/logged-out        back from the upstream's end-session endpoint (upstreamLogout)
 *   GET/POST /interaction/:uid/connection/:name/link
 *                                            an account with the upstream's verified email exists:
 *                                            its owner proves it before the link is made: the password,
 *   POST .../link/email, .../link/email/verify  or a 6-digit code mailed to the account's address,
 *   POST .../link/passkey, .../link/passkey/verify  or one of the account's passkeys (where the pool has them on)
 * The callback's path is fixed per connection (it is registered at the upstream), so the
 * interaction it belongs to travels in a sealed cookie scoped to that path. Every failure is
 * a branded page, an audit entry and a counted sign-in failure; none is a 500.
 */
import { localeOf } from '../../i18n/request-locale.js';
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { requestIdOf, routeParam } from '../../http/state.js';
import { mapDatabaseError } from '../../db/errors.js';
import {
  FederationError,
  type FederatedSignIn,
  type FederationFailure,
  type FederationService,
  type PendingLink,
} from '../../connections/federation.service.js';
import type { MfaService } from '../../mfa/mfa.service.js';
import { PasskeyRefused, type PasskeyService } from '../../passkeys/passkeys.service.js';
import { CODE_TTL_MS } from '../../users/codes.service.js';
import type { UserService } from '../../users/users.service.js';
import type { PageMessage, PageRenderer } from '../../views/render.js';
import { csrfToken } from './csrf.js';
import { WRONG_EMAIL_CODE, WRONG_PASSKEY } from './mfa.routes.js';
import { interactionBase, readInteractionForm } from './interaction-steps.js';
import {
  entryOf,
  expired,
  FEDERATED_SESSION_COOKIE,
  finishInteraction,
  HostedPageError,
  INVALID_CREDENTIALS,
  loadDetails,
  TOO_MANY_MAILS,
  type Details,
  type InteractionDeps,
} from './interactions.routes.js';

export interface ConnectionRouteDeps {
  federation: FederationService;
  users: UserService;
  /** Emailed link codes, and the per-user count of wrong factors. */
  mfa: MfaService;
  /** A passkey of the account as the proof (the user's own, asked of the browser). */
  passkeys?: PasskeyService;
  pages: PageRenderer;
  csrfKey: Buffer;
  bodyLimitBytes: number;
  publicUrl: string;
  audit?: InteractionDeps['audit'];
}

const COOKIE = 'tarn.federation';
const LINK_COOKIE = 'tarn.federation.link';
const LOGOUT_COOKIE = 'tarn.federation.logout';
/** The note of a federated sign-in outlives no session: the provider's sessions last at most this long. */
const SIGNED_IN_MAX_AGE_MS = 14 * 24 * 60 * 60 * 1000;

const pages: Record<FederationFailure, [number, string]> = {
  unknown_connection: [404, 'connection.unknown'],
  bad_state: [400, 'connection.badState'],
  upstream_denied: [403, 'connection.denied'],
  upstream_unreachable: [502, 'connection.unreachable'],
  upstream_invalid: [502, 'connection.invalid'],
  tenant_refused: [403, 'connection.tenant'],
  proof_required: [409, 'connection.proof'],
  not_provisioned: [403, 'connection.notProvisioned'],
  inactive: [403, 'connection.inactive'],
};

function pageFor(error: FederationError): HostedPageError {
  const [status, name] = pages[error.reason];
  return new HostedPageError(status, name);
}

export function registerConnectionRoutes(router: Router, deps: ConnectionRouteDeps): void {
  async function record(ctx: Context, name: string, outcome: 'success' | 'failure', fields: { userId?: string; reason?: string; email?: string }) {
    // The metric's method label stays bounded ("connection"); the connection's name goes into the audit reason.
    const reason = `connection ${name}${fields.reason ? `: ${fields.reason}` : ''}`;
    await deps.audit?.signIn({ poolId: entryOf(ctx).pool.id, method: 'connection', outcome, ip: ctx.ip, requestId: requestIdOf(ctx), ...fields, reason });
  }

  async function failed(ctx: Context, name: string, error: unknown): Promise<never> {
    if (!(error instanceof FederationError)) throw error;
    await record(ctx, name, 'failure', { reason: error.reason });
    throw pageFor(error);
  }

  /** Which upstream identity this sign-in came through, for signing out upstream when the session ends (the pool's whole path). */
  function rememberSignIn(ctx: Context, signedIn: FederatedSignIn) {
    const { pool } = entryOf(ctx);
    ctx.cookies.set(FEDERATED_SESSION_COOKIE, deps.federation.sealSignedIn(pool.id, signedIn), {
      path: `/pools/${pool.id}`,
      httpOnly: true,
      sameSite: 'lax',
      overwrite: true,
      maxAge: SIGNED_IN_MAX_AGE_MS,
      secure: ctx.secure,
    });
  }

  // Back from the upstream's end_session_endpoint (upstreamLogout): on to where the sign-out was going.
  router.get('/connections/:name/logged-out', async function returnFromUpstreamLogout(ctx) {
    const { pool } = entryOf(ctx);
    const name = ctx.params.name!;
    ctx.set('Cache-Control', 'no-store');
    const sealed = ctx.cookies.get(LOGOUT_COOKIE);
    ctx.cookies.set(LOGOUT_COOKIE, null, { path: `/pools/${pool.id}/connections/${name}` });
    const back = deps.federation.returnFromLogout(pool.id, name, sealed, typeof ctx.query.state === 'string' ? ctx.query.state : null);
    if (back) {
      ctx.status = 303;
      return ctx.redirect(back);
    }
    // No sign-out of this browser went this way: the session is over all the same, say so.
    ctx.type = 'html';
    ctx.body = await deps.pages.render('logged-out', pool, { locale: localeOf(ctx), clientName: undefined, backUrl: undefined });
  });

  // The public keys of the pool's connections that sign client assertions (private_key_jwt), for upstreams that fetch them.
  router.get('/connections/jwks', async function connectionKeys(ctx) {
    const { pool } = entryOf(ctx);
    ctx.type = 'application/jwk-set+json';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = await deps.federation.publicKeys(pool.id);
  });

  router.get('/interaction/:uid/connection/:name', async function goUpstream(ctx) {
    const details = await loadDetails(ctx);
    if (details.prompt.name !== 'login') throw expired();
    const { pool } = entryOf(ctx);
    const name = ctx.params.name!;
    const started = await deps.federation.begin(pool, name, details.uid).catch((error: unknown) => failed(ctx, name, error));
    ctx.cookies.set(COOKIE, started.cookie, {
      path: started.cookiePath,
      httpOnly: true,
      sameSite: 'lax',
      overwrite: true,
      maxAge: 10 * 60 * 1000,
      secure: ctx.secure,
    });
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 303;
    ctx.redirect(started.url);
  });

  router.get('/connections/:name/callback', async function returnFromUpstream(ctx) {
    const { pool, provider } = entryOf(ctx);
    const name = ctx.params.name!;
    ctx.set('Cache-Control', 'no-store');
    const sealed = ctx.cookies.get(COOKIE);
    ctx.cookies.set(COOKIE, null, { path: `/pools/${pool.id}/connections/${name}` });
    const pending = await Promise.resolve()
      .then(() => deps.federation.openPending(pool.id, name, sealed))
      .catch((error: unknown) => failed(ctx, name, error));
    let details: Details;
    try {
      details = await provider.interactionDetails(ctx.req, ctx.res);
    } catch (error) {
      if (mapDatabaseError(error)) throw error;
      throw expired();
    }
    if (details.uid !== pending.uid || details.prompt.name !== 'login') throw expired();
    const callbackUrl = new URL(`${deps.publicUrl}${ctx.originalUrl}`);
    const outcome = await deps.federation.complete(pool, name, pending, callbackUrl).catch((error: unknown) => failed(ctx, name, error));
    if (outcome.kind === 'proof_required') {
      ctx.cookies.set(LINK_COOKIE, deps.federation.sealLink(pool.id, outcome.link), {
        path: linkPath(pool.id, details.uid, name),
        httpOnly: true,
        sameSite: 'lax',
        overwrite: true,
        maxAge: 10 * 60 * 1000,
        secure: ctx.secure,
      });
      ctx.status = 303;
      return ctx.redirect(linkPath(pool.id, details.uid, name));
    }
    await record(ctx, name, 'success', { userId: outcome.user.id, email: outcome.user.email, reason: outcome.created ? 'provisioned' : undefined });
    await finishInteraction(ctx, details, { login: { accountId: outcome.user.id, amr: ['fed'] } });
    rememberSignIn(ctx, { accountId: outcome.user.id, connectionId: outcome.connection.id, subject: outcome.subject });
  });

  const linkPath = (poolId: string, uid: string, name: string) => `/pools/${poolId}/interaction/${uid}/connection/${name}/link`;

  async function openLinkStep(ctx: Context) {
    const details = await loadDetails(ctx);
    if (details.prompt.name !== 'login') throw expired();
    const { pool } = entryOf(ctx);
    const name = routeParam(ctx, 'name');
    const link = await Promise.resolve()
      .then(() => deps.federation.openLink(pool.id, details.uid, ctx.cookies.get(LINK_COOKIE)))
      .catch((error: unknown) => failed(ctx, name, error));
    return { details, pool, name, link };
  }

  /** The account's owner, active; its passkeys count as proof only where the pool has passkeys on. */
  async function ownerOf(ctx: Context, link: PendingLink) {
    const { pool } = entryOf(ctx);
    const user = await deps.users.findActiveUser(pool.id, link.userId);
    if (!user) throw expired();
    const passkey = Boolean(deps.passkeys) && (await deps.mfa.factorChoice(pool, user)).passkey;
    return { user, passkey };
  }

  async function renderLink(ctx: Context, details: Details, link: PendingLink, name: string, error?: PageMessage | string, status = 200) {
    const { pool } = entryOf(ctx);
    const { passkey } = await ownerOf(ctx, link);
    const base = `${interactionBase(ctx)}/connection/${name}/link`;
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.pages.render('link-account', pool, {
      locale: localeOf(ctx),
      action: base,
      emailAction: `${base}/email`,
      passkeyAction: passkey ? `${base}/passkey` : undefined,
      csrf: csrfToken(deps.csrfKey, pool.id, details.uid),
      email: link.email,
      error,
      abortUrl: `${interactionBase(ctx)}/abort`,
    });
  }

  async function renderLinkCode(ctx: Context, details: Details, link: PendingLink, name: string, error?: PageMessage | string, status?: number) {
    const { pool } = entryOf(ctx);
    const base = `${interactionBase(ctx)}/connection/${name}/link`;
    ctx.status = status ?? (error ? 401 : 200);
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.pages.render('mfa-email', pool, {
      locale: localeOf(ctx),
      action: `${base}/email/verify`,
      resendAction: `${base}/email`,
      otherWaysUrl: base,
      abortUrl: `${interactionBase(ctx)}/abort`,
      csrf: csrfToken(deps.csrfKey, pool.id, details.uid),
      email: link.email,
      minutes: Math.round(CODE_TTL_MS / 60_000),
      error,
    });
  }

  async function renderLinkPasskey(ctx: Context, details: Details, link: PendingLink, name: string, error?: PageMessage | string) {
    const { pool } = entryOf(ctx);
    if (!deps.passkeys) throw expired();
    const base = `${interactionBase(ctx)}/connection/${name}/link`;
    // The account's own credentials only: the challenge is bound to that user and this sign-in.
    const options = await deps.passkeys.startAuthentication(pool, link.email, { interactionUid: details.uid });
    ctx.status = error ? 401 : 200;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.pages.render('mfa-passkey', pool, {
      locale: localeOf(ctx),
      action: `${base}/passkey/verify`,
      otherWaysUrl: base,
      abortUrl: `${interactionBase(ctx)}/abort`,
      csrf: csrfToken(deps.csrfKey, pool.id, details.uid),
      options: JSON.stringify(options),
      email: link.email,
      error,
    });
  }

  /** The proof held: link, forget the pending link, and sign the account's owner in. */
  async function linkAndFinish(ctx: Context, details: Details, name: string, link: PendingLink, user: { id: string; email: string }, amr: string[]) {
    const { pool } = entryOf(ctx);
    await deps.federation.linkProven(pool.id, link, user.id).catch((error: unknown) => failed(ctx, name, error));
    ctx.cookies.set(LINK_COOKIE, null, { path: linkPath(pool.id, details.uid, name) });
    await record(ctx, name, 'success', { userId: user.id, email: user.email, reason: 'linked' });
    await finishInteraction(ctx, details, { login: { accountId: user.id, amr: ['fed', ...amr] } });
    rememberSignIn(ctx, { accountId: user.id, connectionId: link.connectionId, subject: link.subject });
  }

  router.get('/interaction/:uid/connection/:name/link', async function showLinkAccount(ctx) {
    const { details, name, link } = await openLinkStep(ctx);
    return renderLink(ctx, details, link, name);
  });

  router.post('/interaction/:uid/connection/:name/link', async function proveAndLink(ctx) {
    const { details, pool, name, link } = await openLinkStep(ctx);
    const form = await readInteractionForm(ctx, details, deps.csrfKey, deps.bodyLimitBytes);
    // The proof is for the account the upstream email matched, whatever the form says.
    const check = await deps.users.verifyPassword(pool, link.email, form.password ?? '');
    if (!check.ok) {
      await record(ctx, name, 'failure', { userId: link.userId, reason: 'link_proof_failed' });
      return renderLink(ctx, details, link, name, INVALID_CREDENTIALS, 401);
    }
    return linkAndFinish(ctx, details, name, link, check.user, ['pwd']);
  });

  router.post('/interaction/:uid/connection/:name/link/email', async function sendLinkCode(ctx) {
    const { details, pool, name, link } = await openLinkStep(ctx);
    await readInteractionForm(ctx, details, deps.csrfKey, deps.bodyLimitBytes);
    const { user } = await ownerOf(ctx, link);
    const outcome = await deps.mfa.sendLinkCode(pool, user, details.uid, ctx.ip, localeOf(ctx));
    if (outcome === 'throttled') return renderLinkCode(ctx, details, link, name, TOO_MANY_MAILS, 429);
    return renderLinkCode(ctx, details, link, name);
  });

  router.post('/interaction/:uid/connection/:name/link/email/verify', async function proveByCode(ctx) {
    const { details, pool, name, link } = await openLinkStep(ctx);
    const form = await readInteractionForm(ctx, details, deps.csrfKey, deps.bodyLimitBytes);
    const { user } = await ownerOf(ctx, link);
    if (!(await deps.mfa.verifyLinkCode(pool, user, form.code ?? '', details.uid))) {
      await record(ctx, name, 'failure', { userId: user.id, reason: 'link_proof_failed' });
      return renderLinkCode(ctx, details, link, name, WRONG_EMAIL_CODE);
    }
    // RFC 8176 otp: a one-time code, however it reached the user.
    return linkAndFinish(ctx, details, name, link, user, ['otp']);
  });

  router.post('/interaction/:uid/connection/:name/link/passkey', async function askLinkPasskey(ctx) {
    const { details, name, link } = await openLinkStep(ctx);
    await readInteractionForm(ctx, details, deps.csrfKey, deps.bodyLimitBytes);
    if (!(await ownerOf(ctx, link)).passkey) throw expired();
    return renderLinkPasskey(ctx, details, link, name);
  });

  router.post('/interaction/:uid/connection/:name/link/passkey/verify', async function proveByPasskey(ctx) {
    const { details, pool, name, link } = await openLinkStep(ctx);
    const form = await readInteractionForm(ctx, details, deps.csrfKey, deps.bodyLimitBytes);
    const { user, passkey } = await ownerOf(ctx, link);
    if (!deps.passkeys || !passkey) throw expired();
    let synced: boolean | undefined;
    // A locked user's right passkey fails too, like a locked user's right code.
    if (!(await deps.mfa.isLocked(pool.id, user.id))) {
      try {
        const proved = await deps.passkeys.verifyAssertion(pool, form.credential, { interactionUid: details.uid });
        if (proved.user.id === user.id) synced = proved.synced;
      } catch (error) {
        if (!(error instanceof PasskeyRefused)) throw error;
      }
    }
    if (synced === undefined) {
      await deps.mfa.recordFailure(pool, user.id);
      await record(ctx, name, 'failure', { userId: user.id, reason: 'link_proof_failed' });
      return renderLinkPasskey(ctx, details, link, name, WRONG_PASSKEY);
    }
    await deps.mfa.recordSuccess(pool.id, user.id);
    // RFC 8176: swk for a synced passkey, hwk for one bound to its device; user verification took place.
    return linkAndFinish(ctx, details, name, link, user, [synced ? 'swk' : 'hwk', 'user']);
  });
}

/** A session of the pool ended (the provider's end_session confirmation answered, ADR 0900). */
export const SESSION_ENDED = 'sessionEndedFor';

/**
 * After the provider ended a session at /session/end/confirm: where the user had signed in through a
 * connection that propagates logout, the browser goes to the upstream's end_session_endpoint first, and
 * comes back through /connections/{name}/logged-out to where the provider was sending it.
 */
export function createUpstreamLogout(federation: FederationService, log?: { warn(fields: object, message: string): void }) {
  return async function afterSessionEnded(ctx: Context): Promise<void> {
    const { pool } = entryOf(ctx);
    const sealed = ctx.cookies.get(FEDERATED_SESSION_COOKIE);
    const ended = ctx.state[SESSION_ENDED] as string | undefined;
    if (!sealed || ended === undefined) return;
    ctx.cookies.set(FEDERATED_SESSION_COOKIE, null, { path: `/pools/${pool.id}` });
    const back = ctx.response.get('Location');
    if (ctx.status !== 303 || !back) return;
    try {
      const upstream = await federation.upstreamLogout(pool, sealed, ended, back);
      if (!upstream) return;
      ctx.cookies.set(LOGOUT_COOKIE, upstream.cookie, {
        path: upstream.cookiePath,
        httpOnly: true,
        sameSite: 'lax',
        overwrite: true,
        maxAge: 10 * 60 * 1000,
        secure: ctx.secure,
      });
      ctx.redirect(upstream.url);
    } catch (error) {
      // Signed out of the pool already: a fault on the way upstream leaves the browser going where it was going.
      if (mapDatabaseError(error)) throw error;
      log?.warn({ poolId: pool.id, reason: (error as Error).message }, 'upstream logout not started');
    }
  };
}

/** Notes on the request whose session the provider ended, and whose it was (read by afterSessionEnded). */
export function watchEndedSessions(provider: { on(event: 'end_session.success', listener: (ctx: KoaContextWithOIDC) => void): unknown }): void {
  provider.on('end_session.success', (ctx) => {
    // `logout` set: the whole session ended, not only one application's part of it.
    if (ctx.oidc.params?.logout) ctx.state[SESSION_ENDED] = ctx.oidc.session?.accountId ?? '';
  });
}
