/**
 * Hosted login and consent (oidc-provider "interactions") of one pool.
 *   GET  /interaction/:uid          the page the current prompt needs (login or consent)
 *   POST /interaction/:uid/login    email + password
 *   POST /interaction/:uid/consent  allow or deny; an allowed grant is remembered
 *   GET  /interaction/:uid/abort    back to the application with access_denied
 * Every POST carries a CSRF token bound to the interaction. Failures render the
 * pool's branded error page, never a stack trace.
 */
import { mapDatabaseError } from '../../db/errors.js';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { InteractionResults } from 'oidc-provider';
import { HostedPageError } from '../../http/problem.js';
import { routeParam } from '../../http/state.js';
import type { PasswordCheck, UserService } from '../../users/users.service.js';
import type { PageMessage, PageRenderer } from '../../views/render.js';
import { localeOf } from '../../i18n/request-locale.js';
import type { PoolProvider } from '../provider-registry.js';
import { csrfToken } from './csrf.js';
import { interactionBase, notOffered, readInteractionForm, recordSignIn, type SignInRecorder } from './interaction-steps.js';
import { ACR_PASSWORD } from '../../mfa/acr.js';
import type { MfaInteractions } from './mfa.routes.js';
import type { PasskeyInteractions } from './passkey.routes.js';
import type { PasswordChangeInteractions, PendingPasswordLogin } from './password-change.routes.js';
import { describeScopes } from './scopes.js';

export interface InteractionDeps {
  users: UserService;
  pages: PageRenderer;
  csrfKey: Buffer;
  bodyLimitBytes: number;
  /** Records sign-in attempts (audit log and metrics); see src/audit/audit.service.ts. */
  audit?: SignInRecorder;
  /** Passkey pages (passkey.routes.ts): registered on this router, and offered after a sign-in. */
  passkeys?: PasskeyInteractions;
  /** The pool's "Continue with …" buttons (connections.service.ts). */
  connections?: { listButtons(poolId: string): Promise<{ name: string; displayName: string; logoUrl: string | null }[]> };
  /** Second factor after a password (mfa.routes.ts). */
  mfa?: MfaInteractions;
  /** "Choose a new password" when the user must change theirs (password-change.routes.ts). */
  passwordChange?: PasswordChangeInteractions;
}

export type Details = Awaited<ReturnType<PoolProvider['provider']['interactionDetails']>>;

/**
 * Records the interaction's result with the provider's public API, which reads the
 * interaction (and its session) again from the browser's cookie: one more read per sign-in,
 * beside the password hash's ≈ 20 ms. Returns where the browser goes next.
 */
export async function saveInteractionResult(ctx: Context, result: InteractionResults): Promise<string> {
  // A sign-in of any kind replaces what the browser's last federated sign-in said (connection.routes.ts sets it anew after).
  if (result.login && ctx.cookies.get(FEDERATED_SESSION_COOKIE)) ctx.cookies.set(FEDERATED_SESSION_COOKIE, null, { path: `/pools/${entryOf(ctx).pool.id}` });
  try {
    return await entryOf(ctx).provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  } catch (error) {
    // The database away is not an expired sign-in (ADR 0800).
    if (mapDatabaseError(error)) throw error;
    throw expired();
  }
}

/**
 * Ends an interaction: its result recorded, the browser sent back to the provider.
 * (`details` is the interaction this request loaded; the provider reads its own copy.)
 */
export async function finishInteraction(ctx: Context, _details: Details, result: InteractionResults): Promise<void> {
  const returnTo = await saveInteractionResult(ctx, result);
  ctx.status = 303;
  ctx.redirect(returnTo);
}

/** The sealed note of which upstream identity this browser's sign-in came through (signing out upstream, ADR 0900). */
export const FEDERATED_SESSION_COOKIE = 'tarn.federation.session';

/** The one answer to a wrong email or a wrong password, whatever the account's state (lockout.service.ts). */
export const INVALID_CREDENTIALS = 'login.invalid';
/** Past the mail limit of a network (mail-limits.service.ts): about the network, not an account. */
export const TOO_MANY_MAILS = 'mail.tooMany';

export { HostedPageError };

export const expired = () => new HostedPageError(400, 'expired');

export function entryOf(ctx: Context): PoolProvider {
  return ctx.state.poolProvider as PoolProvider;
}

export async function loadDetails(ctx: Context): Promise<Details> {
  const { provider } = entryOf(ctx);
  let details: Details;
  try {
    details = await provider.interactionDetails(ctx.req, ctx.res);
  } catch (error) {
    // The database away is not an expired sign-in: let the gateway answer 503 (ADR 0800).
    if (mapDatabaseError(error)) throw error;
    throw expired();
  }
  if (details.uid !== routeParam(ctx, 'uid')) throw expired();
  // The page's language (i18n/request-locale.ts) and the application an error page offers to start again at.
  ctx.state.uiLocales = details.params.ui_locales;
  ctx.state.clientId = details.params.client_id;
  return details;
}

/**
 * What a failed password sign-in is told. Only someone who gave the account's right password
 * learns that it is disabled, or locked until when (users.service.ts verifyPassword checks the
 * password first); every other failure gets the one generic answer.
 */
export function credentialsMessage(check: Exclude<PasswordCheck, { ok: true }>): PageMessage {
  if (check.reason === 'disabled') return { key: 'login.disabled' };
  if (check.reason === 'locked') return { key: 'login.locked', values: { until: check.lockedUntil } };
  return { key: INVALID_CREDENTIALS };
}

export function createInteractionRouter(deps: InteractionDeps) {
  const router = new Router();

  async function clientName(ctx: Context, details: Details): Promise<string> {
    const client = await entryOf(ctx).provider.Client.find(String(details.params.client_id));
    return client?.clientName ?? String(details.params.client_id);
  }

  async function renderLogin(ctx: Context, details: Details, locals: { error?: PageMessage | string; email?: string; status?: number }) {
    const { pool } = entryOf(ctx);
    ctx.status = locals.status ?? 200;
    ctx.type = 'html';
    ctx.body = await deps.pages.render('login', pool, {
      locale: localeOf(ctx),
      action: `${interactionBase(ctx)}/login`,
      abortUrl: `${interactionBase(ctx)}/abort`,
      csrf: csrfToken(deps.csrfKey, pool.id, details.uid),
      clientName: await clientName(ctx, details),
      email: locals.email ?? (typeof details.params.login_hint === 'string' ? details.params.login_hint : ''),
      error: locals.error,
      // Other ways in, each only when the pool offers it (registration.routes.ts, email-code.routes.ts).
      passwordEnabled: pool.sign_in.password !== false,
      registerUrl: pool.self_registration ? `${interactionBase(ctx)}/register` : undefined,
      emailCodeAction: pool.sign_in.emailCode ? `${interactionBase(ctx)}/email-code` : undefined,
      passkeyAction: pool.sign_in.passkey ? `${interactionBase(ctx)}/passkey` : undefined,
      connections: ((await deps.connections?.listButtons(pool.id)) ?? []).map((button) => ({
        ...button,
        url: `${interactionBase(ctx)}/connection/${button.name}`,
      })),
    });
  }

  async function renderConsent(ctx: Context, details: Details) {
    const { pool } = entryOf(ctx);
    const prompt = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    const user = details.session?.accountId ? await deps.users.findActiveUser(pool.id, details.session.accountId) : undefined;
    const scopes = [...(prompt.missingOIDCScope ?? []), ...Object.values(prompt.missingResourceScopes ?? {}).flat()];
    ctx.state.userLocale = user?.profile?.locale;
    ctx.type = 'html';
    ctx.body = await deps.pages.render('consent', pool, {
      locale: localeOf(ctx),
      action: `${interactionBase(ctx)}/consent`,
      csrf: csrfToken(deps.csrfKey, pool.id, details.uid),
      clientName: await clientName(ctx, details),
      requested: describeScopes(scopes, prompt.missingOIDCClaims ?? []),
      email: user?.email ?? '',
    });
  }

  router.get('/interaction/:uid', async function showInteraction(ctx) {
    const details = await loadDetails(ctx);
    ctx.set('Cache-Control', 'no-store');
    if (details.prompt.name === 'login') {
      // A session that has signed in but lacks the second factor asked for (step-up, ADR 0307).
      if (await deps.mfa?.stepUp(ctx, details)) return;
      // The relying party chose the upstream itself (`idp`, ADR 0900): no login page.
      if (typeof details.params.idp === 'string' && deps.connections) {
        ctx.status = 303;
        return ctx.redirect(`${interactionBase(ctx)}/connection/${encodeURIComponent(details.params.idp)}`);
      }
      return renderLogin(ctx, details, {});
    }
    if (details.prompt.name === 'consent') return renderConsent(ctx, details);
    throw Object.assign(new HostedPageError(400, 'unsupported'), {
      message: `The application asked for "${details.prompt.name}", which this pool does not offer.`,
    });
  });

  router.post('/interaction/:uid/login', async function submitLogin(ctx) {
    const details = await loadDetails(ctx);
    if (details.prompt.name !== 'login') throw expired();
    if (entryOf(ctx).pool.sign_in.password === false) throw notOffered('sign-in with a password');
    const form = await readInteractionForm(ctx, details, deps.csrfKey, deps.bodyLimitBytes);
    const email = (form.email ?? '').trim();
    const password = form.password ?? '';
    const { pool } = entryOf(ctx);
    const check = await deps.users.verifyPassword(pool, email, password);
    await recordSignIn(ctx, deps.audit, {
      method: 'password',
      outcome: check.ok ? 'success' : 'failure',
      userId: check.ok ? check.user.id : undefined,
      reason: check.ok ? undefined : check.reason,
      email,
    });
    if (!check.ok) return renderLogin(ctx, details, { status: 401, email, error: credentialsMessage(check) });
    const login = { accountId: check.user.id, amr: ['pwd'] };
    if (await deps.passwordChange?.askAfterPassword(ctx, details, check.user, login)) return;
    return afterPassword(ctx, details, login);
  });

  /** A right password (and, where asked, a new one): second factor, passkey offer, or back to the application. */
  async function afterPassword(ctx: Context, details: Details, login: PendingPasswordLogin): Promise<void> {
    if (await deps.mfa?.askForSecondFactor(ctx, details, login)) return;
    const result = { login: { ...login, acr: ACR_PASSWORD } };
    if (await deps.passkeys?.offerEnrolment(ctx, details, result)) return;
    return finishInteraction(ctx, details, result);
  }

  router.post('/interaction/:uid/consent', async function submitConsent(ctx) {
    const details = await loadDetails(ctx);
    if (details.prompt.name !== 'consent') throw expired();
    const form = await readInteractionForm(ctx, details, deps.csrfKey, deps.bodyLimitBytes);
    if (form.decision !== 'allow') {
      return finishInteraction(ctx, details, { error: 'access_denied', error_description: 'The user denied the request.' });
    }
    const { provider } = entryOf(ctx);
    const accountId = details.session?.accountId;
    if (!accountId) throw expired();
    const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId, clientId: String(details.params.client_id) });
    if (!grant) throw expired();
    const prompt = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (prompt.missingOIDCScope) grant.addOIDCScope(prompt.missingOIDCScope.join(' '));
    if (prompt.missingOIDCClaims) grant.addOIDCClaims(prompt.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(prompt.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    return finishInteraction(ctx, details, { consent: details.grantId ? {} : { grantId } });
  });

  router.get('/interaction/:uid/abort', async function abortInteraction(ctx) {
    const details = await loadDetails(ctx);
    return finishInteraction(ctx, details, { error: 'access_denied', error_description: 'The user cancelled the sign-in.' });
  });

  deps.passkeys?.register(router);
  deps.mfa?.register(router);
  deps.passwordChange?.register(router, afterPassword);

  return router;
}
