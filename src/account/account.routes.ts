/**
 * The hosted account page of a pool (docs/adr/0306), a relying party of its own pool through
 * the built-in client `tarn:account` (oidc/built-in-clients.ts):
 *   GET  /account                        overview and the profile form (from the pool's profile schema)
 *   POST /account/profile                saves the profile
 *   GET|POST /account/password           change the password (asks for the current one)
 *   GET|POST /account/email              a new address: a code is mailed to it
 *   POST /account/email/confirm          the code: the address changes, the old one is told
 *   GET  /account/passkeys               list, and add one (WebAuthn in /assets/passkey.js)
 *   POST /account/passkeys               the browser's new credential
 *   POST /account/passkeys/:id/delete    remove one
 *   GET  /account/two-step               authenticator app (enrol with QR code or key, remove), recovery codes
 *   POST /account/two-step/totp          the first code of a newly scanned app → on, recovery codes shown once
 *   POST /account/two-step/totp/delete   remove the app (its recovery codes go with it)
 *   POST /account/two-step/recovery-codes   new recovery codes, shown once
 *   GET  /account/sessions               the user's sessions, this one marked
 *   POST /account/sessions/:id/delete    sign one out;  POST /account/sessions/others/delete  all others
 *   GET|POST /account/delete             delete the account (only where account.allowDeletion)
 *   GET  /account/login                  starts an authorization request (PKCE, state, nonce; max_age=0 to re-authenticate)
 *   GET  /account/callback               the code, redeemed in-process through the provider's AuthorizationCode model
 *   POST /account/sign-out               ends the page's cookie and the session (RP-initiated logout)
 *   GET  /account/signed-out             where the logout returns
 * Without its own cookie the page signs in through the pool's issuer like any application,
 * so lockout, second factors and max_age all apply. Sensitive actions (password, email,
 * passkeys, two-step, sessions, deletion) need an authentication of the last five minutes;
 * older, the user authenticates again (max_age=0) and comes back to the same page.
 * Every POST carries a CSRF token bound to the page's cookie; wrong secrets answer 401, which
 * the request frame's sign-in limiter counts per network as on the sign-in pages.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { createHash, randomBytes } from 'node:crypto';
import { hmac, safeEqual } from '../crypto/secrets.js';
import type { PoolRow, UserRow } from '../db/tables.js';
import { readForm } from '../http/body.js';
import { AppError, HostedPageError } from '../http/problem.js';
import type { Logger } from '../log.js';
import type { MfaService } from '../mfa/mfa.service.js';
import { ACCOUNT_CLIENT } from '../oidc/built-in-clients.js';
import { entryOf } from '../oidc/interactions/interactions.routes.js';
import { TOO_MANY_MAILS } from '../oidc/interactions/interactions.routes.js';
import { WRONG_TOTP } from '../oidc/interactions/mfa.routes.js';
import { isPasskeyEnabled, PasskeyRefused, type PasskeyService } from '../passkeys/passkeys.service.js';
import type { AuditService, RecordChange } from '../audit/audit.service.js';
import type { UserSchemas } from '../users/user-schema.js';
import type { UserService } from '../users/users.service.js';
import { wordMessage, type PageMessage, type PageRenderer } from '../views/render.js';
import { localeOf } from '../i18n/request-locale.js';
import { translatorFor } from '../i18n/translator.js';
import { fieldMessages } from '../oidc/interactions/interaction-steps.js';
import ejs from 'ejs';
import { accountPath, type AccountCookie, type AccountCookies } from './account-cookie.js';
import { allowsDeletion, type AccountService } from './account.service.js';
import { profileFields, profileFromForm, valueOf, type ProfileField } from './profile-form.js';

export interface AccountRouteDeps {
  account: AccountService;
  users: UserService;
  schemas: UserSchemas;
  mfa: MfaService;
  passkeys: PasskeyService;
  cookies: AccountCookies;
  pages: PageRenderer;
  csrfKey: Buffer;
  bodyLimitBytes: number;
  publicUrl: string;
  log: Logger;
  clock: () => Date;
  /** Writes each change's event in the change's transaction (ADR 0809). */
  audit?: Pick<AuditService, 'userChanges' | 'queuedCommitted'>;
}

/** How recent an authentication a sensitive action needs (seconds). */
export const RECENT_AUTH_SECONDS = 5 * 60;

export const WRONG_CURRENT_PASSWORD: PageMessage = { key: 'account.password.wrongCurrent', field: 'current_password' };
export const WRONG_EMAIL_CODE: PageMessage = { key: 'account.email.wrongCode', field: 'code' };

interface Signed {
  pool: PoolRow;
  user: UserRow;
  cookie: AccountCookie;
  csrf: string;
}

/** A form's messages, by the field they belong to; worded in the page's language when rendered. */
type FormErrors = Record<string, PageMessage[]>;

/**
 * Field errors of a validation problem, in the user's words (fieldMessages), keyed by the form
 * field they belong to (`profile.given_name` → `given_name`). `fields`: the labels of the profile form.
 */
function fieldErrors(error: unknown, prefix = '', fields: { name: string; label: string }[] = []): FormErrors | undefined {
  if (!(error instanceof AppError) || error.status !== 400 || !error.errors) return undefined;
  const messages = fieldMessages(error, fields) ?? [];
  const out: FormErrors = {};
  error.errors.forEach((item, index) => {
    const name = prefix && item.field.startsWith(`${prefix}.`) ? item.field.slice(prefix.length + 1).split('.')[0]! : item.field;
    const message = item.field === 'email' && item.detail.startsWith('This is already') ? { key: 'account.email.same', field: 'email' } : messages[index]!;
    (out[name] ??= []).push(message);
  });
  return out;
}

const messageOf = (key: string, field?: string): FormErrors => ({ [field ?? '']: [{ key, field }] });

const challengeOf = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');
const SAFE_NEXT = /^\/account(\/[a-z-]+)*$/;

export function registerAccountRoutes(router: Router, deps: AccountRouteDeps): void {
  const issuerOf = (pool: PoolRow) => `${deps.publicUrl}/pools/${pool.id}`;
  const base = (pool: PoolRow) => accountPath(pool.id);
  const csrfOf = (pool: PoolRow, cookie: AccountCookie) => hmac(deps.csrfKey, `account:${pool.id}:${cookie.sub}:${cookie.nonce}`);
  const nowSeconds = () => Math.floor(deps.clock().getTime() / 1000);
  const isRecent = (cookie: AccountCookie) => nowSeconds() - cookie.authTime <= RECENT_AUTH_SECONDS;

  /** The recorder a change on this page is written with: its events, marked as the page's, commit with it (ADR 0809). */
  function changes(ctx: Context, signed: Signed): RecordChange | undefined {
    const record = deps.audit?.userChanges({ poolId: signed.pool.id, ip: ctx.ip, requestId: ctx.state.requestId as string | undefined });
    return (
      record &&
      ((executor, events) =>
        record(
          executor,
          events?.map((event) => ({ ...event, details: { via: 'account_page', ...event.details } })),
        ))
    );
  }

  /** A change and its events committed: the webhook worker may look now. */
  const committed = () => deps.audit?.queuedCommitted();

  /** Sends the browser to sign in (again) and come back to `next` (a path under /account). */
  function toLogin(ctx: Context, pool: PoolRow, next: string, fresh: boolean): void {
    ctx.status = 303;
    ctx.redirect(`${base(pool)}/login?next=${encodeURIComponent(next)}${fresh ? '&fresh=1' : ''}`);
  }

  /**
   * The signed-in user of this page, or undefined after sending the browser to sign in: no
   * cookie, an expired one, a user no longer active, or a provider session that ended
   * (signed out, or ended from another device).
   */
  async function signedIn(ctx: Context, next: string, options: { recent?: boolean } = {}): Promise<Signed | undefined> {
    const { pool } = entryOf(ctx);
    ctx.set('Cache-Control', 'no-store');
    const cookie = deps.cookies.readAccount(ctx, pool.id);
    const user = cookie && (await deps.users.findActiveUser(pool.id, cookie.sub));
    if (!cookie || !user || !(await deps.account.sessionAlive(pool.id, user.id, cookie.sid))) {
      if (cookie) deps.cookies.clearAccount(ctx, pool.id);
      toLogin(ctx, pool, next, false);
      return undefined;
    }
    if (options.recent && !isRecent(cookie)) {
      toLogin(ctx, pool, next, true);
      return undefined;
    }
    return { pool, user, cookie, csrf: csrfOf(pool, cookie) };
  }

  /** The form of a POST, refused (403) without the page's CSRF token. */
  async function readAccountForm(ctx: Context, signed: Signed): Promise<Record<string, string>> {
    const form = await readForm(ctx, deps.bodyLimitBytes);
    if (typeof form.csrf !== 'string' || !safeEqual(form.csrf, signed.csrf)) {
      throw new HostedPageError(403, 'accountForm');
    }
    return form;
  }

  /** The page's language (and its mails'): the user's locale claim, else the browser's, else the pool's default. */
  function languageOf(ctx: Context, signed: Signed | { pool: PoolRow }) {
    if ('user' in signed) ctx.state.userLocale ??= signed.user.profile?.locale;
    return localeOf(ctx, signed.pool);
  }

  async function render(ctx: Context, signed: Signed | { pool: PoolRow }, view: string, locals: Record<string, unknown>, status = 200) {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    const nav =
      'user' in signed ? { base: base(signed.pool), csrf: signed.csrf, email: signed.user.email, passkeys: isPasskeyEnabled(signed.pool) } : undefined;
    const locale = languageOf(ctx, signed);
    const i18n = translatorFor(locale);
    const word = (message: unknown) => (message ? wordMessage(i18n, message as PageMessage | string) : undefined);
    // Messages travel as catalogue keys; the views get them worded (errors by field, one sentence per field).
    const worded: Record<string, unknown> = { ...locals };
    if (locals.errors && typeof locals.errors === 'object' && !Array.isArray(locals.errors)) {
      worded.errors = Object.fromEntries(Object.entries(locals.errors as FormErrors).map(([field, list]) => [field, list.map(word).join(' ')]));
    }
    for (const name of ['error', 'notice'] as const) worded[name] = word(locals[name]);
    ctx.body = await deps.pages.render(view, signed.pool, { nav, base: base(signed.pool), ...worded, locale });
  }

  const noticeOf = (ctx: Context) => {
    const done = typeof ctx.query.done === 'string' ? ctx.query.done : '';
    return NOTICES[done];
  };

  function done(ctx: Context, pool: PoolRow, path: string, notice: keyof typeof NOTICES) {
    ctx.status = 303;
    ctx.redirect(`${base(pool)}${path}?done=${notice}`);
  }

  // ---- Signing in to the page ------------------------------------------------------------

  router.get('/account/login', async function startAccountSignIn(ctx) {
    const { pool } = entryOf(ctx);
    const next = typeof ctx.query.next === 'string' && SAFE_NEXT.test(ctx.query.next) ? ctx.query.next : '/account';
    const fresh = ctx.query.fresh === '1';
    const state = randomBytes(24).toString('base64url');
    const nonce = randomBytes(24).toString('base64url');
    const verifier = randomBytes(48).toString('base64url');
    deps.cookies.writeLogin(ctx, pool.id, { state, nonce, verifier, next, fresh });
    const params = new URLSearchParams({
      client_id: ACCOUNT_CLIENT.clientId,
      redirect_uri: `${issuerOf(pool)}/account/callback`,
      response_type: 'code',
      scope: 'openid',
      state,
      nonce,
      code_challenge: challengeOf(verifier),
      code_challenge_method: 'S256',
    });
    if (fresh) {
      // Re-authentication before a sensitive action: the provider asks for the password (and second factor) again.
      params.set('max_age', '0');
      params.set('prompt', 'login');
      const current = deps.cookies.readAccount(ctx, pool.id);
      const user = current && (await deps.users.findActiveUser(pool.id, current.sub));
      if (user) params.set('login_hint', user.email);
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 303;
    ctx.redirect(`${issuerOf(pool)}/auth?${params.toString()}`);
  });

  router.get('/account/callback', async function finishAccountSignIn(ctx) {
    const { pool, provider } = entryOf(ctx);
    ctx.set('Cache-Control', 'no-store');
    const login = deps.cookies.readLogin(ctx, pool.id);
    const state = typeof ctx.query.state === 'string' ? ctx.query.state : '';
    const retry = `${base(pool)}/login?next=${encodeURIComponent(login?.next ?? '/account')}`;
    if (!login || !state || !safeEqual(state, login.state)) {
      return render(
        ctx,
        { pool },
        'account-message',
        { title: 'account.signIn.expiredTitle', message: 'account.signIn.expired', link: { href: retry, text: 'account.signIn.again' } },
        400,
      );
    }
    deps.cookies.clearLogin(ctx, pool.id);
    if (typeof ctx.query.error === 'string') {
      return render(
        ctx,
        { pool },
        'account-message',
        { title: 'account.signIn.cancelledTitle', message: 'account.signIn.cancelled', link: { href: retry, text: 'account.signIn.again' } },
        400,
      );
    }
    const code = typeof ctx.query.code === 'string' && ctx.query.code.length < 200 ? await provider.AuthorizationCode.find(ctx.query.code) : undefined;
    const valid =
      code &&
      code.isValid &&
      code.clientId === ACCOUNT_CLIENT.clientId &&
      code.redirectUri === `${issuerOf(pool)}/account/callback` &&
      code.codeChallengeMethod === 'S256' &&
      typeof code.codeChallenge === 'string' &&
      safeEqual(code.codeChallenge, challengeOf(login.verifier)) &&
      code.nonce === login.nonce &&
      typeof code.accountId === 'string' &&
      typeof code.sessionUid === 'string' &&
      typeof code.authTime === 'number';
    if (!valid) {
      return render(
        ctx,
        { pool },
        'account-message',
        { title: 'account.signIn.failedTitle', message: 'account.signIn.failed', link: { href: retry, text: 'account.signIn.again' } },
        400,
      );
    }
    // Used once, as a token endpoint would use it.
    await code.consume();
    // The provider's auth_time is on the system clock; the page judges recency on the app's clock.
    const age = Math.max(0, Math.floor(Date.now() / 1000) - code.authTime!);
    if (login.fresh && age > RECENT_AUTH_SECONDS) {
      return render(
        ctx,
        { pool },
        'account-message',
        { title: 'account.signIn.failedTitle', message: 'account.signIn.again.needed', link: { href: retry, text: 'account.signIn.again' } },
        400,
      );
    }
    const authTime = nowSeconds() - age;
    deps.cookies.writeAccount(ctx, pool.id, { sub: code.accountId!, sid: code.sessionUid!, authTime, nonce: randomBytes(18).toString('base64url') });
    // A page, not a redirect: a SameSite=Strict cookie is sent only on a navigation that starts
    // on this site, which a redirect chain begun by a link in a mail is not.
    return render(ctx, { pool }, 'account-continue', { next: `/pools/${pool.id}${login.next}` });
  });

  router.post('/account/sign-out', async function signOutOfAccountPage(ctx) {
    const signed = await signedIn(ctx, '/account');
    if (!signed) return;
    await readAccountForm(ctx, signed);
    deps.cookies.clearAccount(ctx, signed.pool.id);
    const params = new URLSearchParams({ client_id: ACCOUNT_CLIENT.clientId, post_logout_redirect_uri: `${issuerOf(signed.pool)}/account/signed-out` });
    ctx.status = 303;
    ctx.redirect(`${issuerOf(signed.pool)}/session/end?${params.toString()}`);
  });

  router.get('/account/signed-out', async function showSignedOut(ctx) {
    const { pool } = entryOf(ctx);
    deps.cookies.clearAccount(ctx, pool.id);
    return render(ctx, { pool }, 'account-message', {
      title: 'account.signedOut.title',
      message: 'account.signedOut.text',
      link: { href: base(pool), text: 'account.signedOut.signIn' },
    });
  });

  // ---- Overview and profile ---------------------------------------------------------------

  async function renderOverview(ctx: Context, signed: Signed, locals: { values?: Record<string, string>; errors?: FormErrors } = {}, status = 200) {
    const fields = profileFields(deps.schemas.profileSchemaOf(signed.pool));
    const values = locals.values ?? Object.fromEntries(fields.map((field) => [field.name, valueOf(signed.user.profile, field)]));
    return render(
      ctx,
      signed,
      'account',
      {
        user: signed.user,
        fields: fields.map((field: ProfileField) => ({ ...field, value: values[field.name] ?? '' })),
        // Worded by render(): one sentence per field; those about no field of the form are shown above it.
        errors: locals.errors ?? {},
        errorCount: Object.keys(locals.errors ?? {}).length,
        otherErrors: Object.keys(locals.errors ?? {}).filter((name) => !fields.some((field) => field.name === name)),
        passkeysOffered: isPasskeyEnabled(signed.pool),
        deletionAllowed: allowsDeletion(signed.pool),
        notice: noticeOf(ctx),
      },
      status,
    );
  }

  router.get('/account', async function showAccount(ctx) {
    const signed = await signedIn(ctx, '/account');
    if (signed) await renderOverview(ctx, signed);
  });

  router.post('/account/profile', async function saveProfile(ctx) {
    const signed = await signedIn(ctx, '/account');
    if (!signed) return;
    const form = await readAccountForm(ctx, signed);
    const fields = profileFields(deps.schemas.profileSchemaOf(signed.pool));
    const profile = profileFromForm(signed.user.profile, fields, form);
    try {
      await deps.account.updateProfile(signed.pool, signed.user, profile, changes(ctx, signed));
      committed();
    } catch (error) {
      const errors = fieldErrors(error, 'profile', fields);
      if (!errors) throw error;
      const values = Object.fromEntries(
        fields.map((field) => [field.name, field.kind === 'checkbox' ? (form[field.name] === 'on' ? 'true' : 'false') : (form[field.name] ?? '')]),
      );
      return renderOverview(ctx, signed, { values, errors }, 400);
    }
    return done(ctx, signed.pool, '', 'profile');
  });

  // ---- Password ---------------------------------------------------------------------------

  const renderPassword = (ctx: Context, signed: Signed, errors: FormErrors = {}, status = 200) =>
    render(
      ctx,
      signed,
      'account-password',
      { errors, minLength: signed.pool.password_policy.minLength, hasPassword: signed.user.password_hash !== null },
      status,
    );

  router.get('/account/password', async function showPasswordChange(ctx) {
    const signed = await signedIn(ctx, '/account/password', { recent: true });
    if (signed) await renderPassword(ctx, signed);
  });

  router.post('/account/password', async function changePassword(ctx) {
    const signed = await signedIn(ctx, '/account/password', { recent: true });
    if (!signed) return;
    const form = await readAccountForm(ctx, signed);
    let changed: boolean;
    try {
      changed = await deps.account.changePassword(
        signed.pool,
        signed.user,
        form.current_password ?? '',
        form.password ?? '',
        signed.cookie.sid,
        languageOf(ctx, signed),
        changes(ctx, signed),
      );
    } catch (error) {
      const errors = fieldErrors(error);
      if (!errors) throw error;
      return renderPassword(ctx, signed, errors, 400);
    }
    if (!changed) return renderPassword(ctx, signed, { current_password: [WRONG_CURRENT_PASSWORD] }, 401);
    committed();
    return done(ctx, signed.pool, '', 'password');
  });

  // ---- Email ------------------------------------------------------------------------------

  const renderEmail = (ctx: Context, signed: Signed, locals: { pending?: string; email?: string; errors?: FormErrors } = {}, status = 200) =>
    render(
      ctx,
      signed,
      'account-email',
      { pending: locals.pending, email: locals.email ?? '', errors: locals.errors ?? {}, current: signed.user.email },
      status,
    );

  router.get('/account/email', async function showEmailChange(ctx) {
    const signed = await signedIn(ctx, '/account/email', { recent: true });
    if (signed) await renderEmail(ctx, signed);
  });

  router.post('/account/email', async function requestEmailChange(ctx) {
    const signed = await signedIn(ctx, '/account/email', { recent: true });
    if (!signed) return;
    const form = await readAccountForm(ctx, signed);
    try {
      const { outcome, email } = await deps.account.startEmailChange(signed.pool, signed.user, form.email ?? '', ctx.ip, languageOf(ctx, signed));
      if (outcome === 'throttled') return renderEmail(ctx, signed, { email, errors: messageOf(TOO_MANY_MAILS, 'email') }, 429);
      return renderEmail(ctx, signed, { pending: email });
    } catch (error) {
      const errors = fieldErrors(error);
      if (!errors) throw error;
      return renderEmail(ctx, signed, { email: form.email ?? '', errors }, 400);
    }
  });

  router.post('/account/email/confirm', async function confirmEmailChange(ctx) {
    const signed = await signedIn(ctx, '/account/email', { recent: true });
    if (!signed) return;
    const form = await readAccountForm(ctx, signed);
    const email = form.email ?? '';
    let updated;
    try {
      updated = await deps.account.confirmEmailChange(signed.pool, signed.user, email, form.code ?? '', languageOf(ctx, signed), changes(ctx, signed));
    } catch (error) {
      const errors = fieldErrors(error);
      if (!errors) throw error;
      return renderEmail(ctx, signed, { errors }, 409);
    }
    if (!updated) return renderEmail(ctx, signed, { pending: email, errors: { code: [WRONG_EMAIL_CODE] } }, 401);
    committed();
    return done(ctx, signed.pool, '', 'email');
  });

  // ---- Passkeys ---------------------------------------------------------------------------

  async function renderPasskeys(ctx: Context, signed: Signed, error?: PageMessage | string, status = 200) {
    if (!isPasskeyEnabled(signed.pool)) throw new HostedPageError(404, 'passkeyNotOffered');
    const { items } = await deps.passkeys.listMyPasskeys(signed.pool, signed.user.id);
    const options = await deps.passkeys.startRegistration(signed.pool, signed.user, { interactionUid: `account:${signed.cookie.sid}` });
    return render(ctx, signed, 'account-passkeys', { passkeys: items, options: JSON.stringify(options), error, notice: noticeOf(ctx) }, status);
  }

  router.get('/account/passkeys', async function showPasskeys(ctx) {
    const signed = await signedIn(ctx, '/account/passkeys', { recent: true });
    if (signed) await renderPasskeys(ctx, signed);
  });

  router.post('/account/passkeys', async function addPasskey(ctx) {
    const signed = await signedIn(ctx, '/account/passkeys', { recent: true });
    if (!signed) return;
    const form = await readAccountForm(ctx, signed);
    let credential: unknown;
    try {
      credential = JSON.parse(form.credential ?? '');
    } catch {
      return renderPasskeys(ctx, signed, 'account.passkeys.missing', 400);
    }
    try {
      await deps.passkeys.finishRegistration(
        signed.pool,
        signed.user.id,
        credential,
        { interactionUid: `account:${signed.cookie.sid}` },
        form.name,
        changes(ctx, signed),
      );
      committed();
    } catch (error) {
      if (!(error instanceof PasskeyRefused)) throw error;
      deps.log.info({ poolId: signed.pool.id, reason: error.reason }, 'passkey refused');
      const message = error.reason === 'already-registered' ? 'account.passkeys.duplicate' : 'account.passkeys.failed';
      return renderPasskeys(ctx, signed, message, 400);
    }
    return done(ctx, signed.pool, '/passkeys', 'passkey_added');
  });

  router.post('/account/passkeys/:id/delete', async function removePasskey(ctx) {
    const signed = await signedIn(ctx, '/account/passkeys', { recent: true });
    if (!signed) return;
    await readAccountForm(ctx, signed);
    try {
      await deps.passkeys.deleteMyPasskey(signed.pool, signed.user.id, ctx.params.id!, changes(ctx, signed));
    } catch (error) {
      if (error instanceof AppError && error.status === 404) throw new HostedPageError(404, 'passkeyUnknown');
      throw error;
    }
    committed();
    return done(ctx, signed.pool, '/passkeys', 'passkey_removed');
  });

  // ---- Two-step verification ------------------------------------------------------------

  async function renderTwoStep(ctx: Context, signed: Signed, error?: PageMessage | string, status = 200) {
    const { pool, user } = signed;
    const enabled = await deps.mfa.hasFactor(pool.id, user.id);
    const enrolment = enabled ? undefined : await deps.mfa.startTotpEnrolment(pool, user);
    return render(
      ctx,
      signed,
      'account-two-step',
      {
        enabled,
        remaining: enabled ? await deps.mfa.countUnusedRecoveryCodes(pool.id, user.id) : 0,
        secret: enrolment?.secret,
        qrSvg: enrolment?.qrSvg.replace('<svg ', `<svg role="img" aria-label="${ejs.escapeXML(translatorFor(localeOf(ctx, pool)).t('mfa.enrol.qrLabel'))}" `),
        error,
        notice: noticeOf(ctx),
      },
      status,
    );
  }

  router.get('/account/two-step', async function showTwoStep(ctx) {
    const signed = await signedIn(ctx, '/account/two-step', { recent: true });
    if (signed) await renderTwoStep(ctx, signed);
  });

  /** New recovery codes, shown once; `record` writes their event with them. */
  async function showRecoveryCodes(ctx: Context, signed: Signed, record?: RecordChange) {
    const codes = await deps.mfa.regenerateRecoveryCodes(signed.pool.id, signed.user.id, record);
    if (record) committed();
    return render(ctx, signed, 'mfa-recovery-codes', { codes, continueUrl: `${base(signed.pool)}/two-step` });
  }

  router.post('/account/two-step/totp', async function enrolTotp(ctx) {
    const signed = await signedIn(ctx, '/account/two-step', { recent: true });
    if (!signed) return;
    const form = await readAccountForm(ctx, signed);
    if (!(await deps.mfa.confirmTotp(signed.pool, signed.user.id, form.code ?? '', changes(ctx, signed)))) return renderTwoStep(ctx, signed, WRONG_TOTP, 401);
    committed();
    return showRecoveryCodes(ctx, signed);
  });

  router.post('/account/two-step/totp/delete', async function removeTotp(ctx) {
    const signed = await signedIn(ctx, '/account/two-step', { recent: true });
    if (!signed) return;
    await readAccountForm(ctx, signed);
    if (await deps.mfa.removeTotp(signed.pool.id, signed.user.id, changes(ctx, signed))) committed();
    return done(ctx, signed.pool, '/two-step', 'totp_removed');
  });

  router.post('/account/two-step/recovery-codes', async function regenerateRecoveryCodes(ctx) {
    const signed = await signedIn(ctx, '/account/two-step', { recent: true });
    if (!signed) return;
    await readAccountForm(ctx, signed);
    if (!(await deps.mfa.hasFactor(signed.pool.id, signed.user.id))) return renderTwoStep(ctx, signed, 'account.twoStep.first', 400);
    return showRecoveryCodes(ctx, signed, changes(ctx, signed));
  });

  // ---- Sessions ---------------------------------------------------------------------------

  async function clientNames(ctx: Context, ids: string[]): Promise<string[]> {
    const { provider } = entryOf(ctx);
    return Promise.all(ids.map(async (id) => (await provider.Client.find(id).catch(() => undefined))?.clientName ?? id));
  }

  router.get('/account/sessions', async function showSessions(ctx) {
    const signed = await signedIn(ctx, '/account/sessions', { recent: true });
    if (!signed) return;
    const sessions = await deps.account.listSessions(signed.pool.id, signed.user.id, signed.cookie.sid);
    const shown = await Promise.all(sessions.map(async (session) => ({ ...session, clientNames: await clientNames(ctx, session.clients) })));
    return render(ctx, signed, 'account-sessions', { sessions: shown, notice: noticeOf(ctx) });
  });

  router.post('/account/sessions/others/delete', async function signOutOtherSessions(ctx) {
    const signed = await signedIn(ctx, '/account/sessions', { recent: true });
    if (!signed) return;
    await readAccountForm(ctx, signed);
    await deps.account.signOutOthers(signed.pool.id, signed.user.id, signed.cookie.sid, changes(ctx, signed));
    committed();
    return done(ctx, signed.pool, '/sessions', 'others_signed_out');
  });

  router.post('/account/sessions/:id/delete', async function signOutSession(ctx) {
    const signed = await signedIn(ctx, '/account/sessions', { recent: true });
    if (!signed) return;
    await readAccountForm(ctx, signed);
    // A session is named by its stored key (base64url); anything else names none, and never reaches SQL.
    const id = ctx.params.id ?? '';
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(id) || !(await deps.account.signOutSession(signed.pool.id, signed.user.id, id, changes(ctx, signed)))) {
      throw new HostedPageError(404, 'sessionUnknown');
    }
    committed();
    return done(ctx, signed.pool, '/sessions', 'session_ended');
  });

  // ---- Deletion ---------------------------------------------------------------------------

  function requireDeletion(pool: PoolRow) {
    if (!allowsDeletion(pool)) throw new HostedPageError(404, 'deleteNotOffered');
  }

  router.get('/account/delete', async function showDeletion(ctx) {
    requireDeletion(entryOf(ctx).pool);
    const signed = await signedIn(ctx, '/account/delete', { recent: true });
    if (signed) await render(ctx, signed, 'account-delete', { error: undefined });
  });

  router.post('/account/delete', async function deleteAccount(ctx) {
    requireDeletion(entryOf(ctx).pool);
    const signed = await signedIn(ctx, '/account/delete', { recent: true });
    if (!signed) return;
    const form = await readAccountForm(ctx, signed);
    if ((form.confirm ?? '').trim().toLowerCase() !== signed.user.email.toLowerCase()) {
      return render(ctx, signed, 'account-delete', { error: { key: 'account.delete.mismatch', field: 'confirm' } }, 400);
    }
    // The event commits with the deletion: the trail keeps who asked.
    await deps.account.deleteAccount(signed.pool, signed.user, languageOf(ctx, signed), changes(ctx, signed));
    committed();
    deps.cookies.clearAccount(ctx, signed.pool.id);
    return render(ctx, { pool: signed.pool }, 'account-message', {
      title: 'account.deleted.title',
      message: 'account.deleted.text',
      link: undefined,
    });
  });
}

/** The one-line confirmations shown after a change (`?done=…`), never taken from the URL as text. */
const NOTICES: Record<string, string> = {
  profile: 'account.notice.profile',
  password: 'account.notice.password',
  email: 'account.notice.email',
  passkey_added: 'account.notice.passkeyAdded',
  passkey_removed: 'account.notice.passkeyRemoved',
  totp_removed: 'account.notice.totpRemoved',
  others_signed_out: 'account.notice.othersSignedOut',
  session_ended: 'account.notice.sessionEnded',
};
