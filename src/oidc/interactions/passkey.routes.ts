/**
 * Passkey pages inside a sign-in interaction of one pool (only when its signIn.passkey is on;
 * otherwise every route here is "not found"):
 *   POST /interaction/:uid/passkey          from the login page: options for a discoverable
 *                                           credential, or for the typed email's credentials
 *   POST /interaction/:uid/passkey/verify   the browser's assertion → signed in (amr hwk or swk, user, mfa)
 *   GET  /interaction/:uid/passkey/add      the "add a passkey" step after a password sign-in
 *   POST /interaction/:uid/passkey/add      the browser's new credential → stored, then on to the app
 *   GET  /interaction/:uid/passkey/skip     not now: on to the app
 * and, outside an interaction (right after invitation activation, see offerStandaloneEnrolment):
 *   GET|POST /passkeys/enrol                the "add a passkey" page / the new credential
 *   GET  /passkeys/enrol/done               not now (or done): the account is ready
 * There the right to add a passkey is a signed 15-minute grant in an httpOnly, SameSite=Strict
 * cookie set by offerStandaloneEnrolment, and the forms' CSRF token is bound to that grant.
 * The add step only exists once the interaction holds a login result (saved by offerEnrolment),
 * so only the person who just signed in, in this browser, can add a passkey to that account.
 * Every POST carries the interaction's CSRF token; the WebAuthn calls run in
 * /assets/passkey.js (the CSP forbids inline scripts), which posts the result as a form.
 */
import { localeOf } from '../../i18n/request-locale.js';
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { InteractionResults } from 'oidc-provider';
import { readForm } from '../../http/body.js';
import type { Logger } from '../../log.js';
import type { PoolRow } from '../../db/tables.js';
import { ENROLMENT_GRANT_TTL_MS, isPasskeyEnabled, PasskeyRefused, type PasskeyService } from '../../passkeys/passkeys.service.js';
import type { UserService } from '../../users/users.service.js';
import type { PageRenderer } from '../../views/render.js';
import { csrfToken, csrfValid } from './csrf.js';
import { ACR_MFA } from '../../mfa/acr.js';
import { interactionBase, readInteractionForm, recordSignIn, type SignInRecorder } from './interaction-steps.js';
import { entryOf, expired, finishInteraction, HostedPageError, loadDetails, saveInteractionResult, type Details } from './interactions.routes.js';

export interface PasskeyInteractionDeps {
  passkeys: PasskeyService;
  users: UserService;
  pages: PageRenderer;
  csrfKey: Buffer;
  bodyLimitBytes: number;
  log: Logger;
  /** Records each passkey sign-in, success or failure (audit log and metrics). */
  audit?: SignInRecorder;
}

const ENROL_COOKIE = '_tarn_passkey_enrol';
const enrolPath = (pool: PoolRow) => `/pools/${pool.id}/passkeys/enrol`;
const enrolmentExpired = () => new HostedPageError(400, 'passkeyExpired');
const notOffered = () => new HostedPageError(404, 'passkeyNotOffered');

/** The account that signed in during this interaction but has not yet gone back to the app. */
function pendingAccount(details: Details): string | undefined {
  const login = (details.result as { login?: { accountId?: unknown } } | undefined)?.login;
  return typeof login?.accountId === 'string' ? login.accountId : undefined;
}

export function createPasskeyInteractions(deps: PasskeyInteractionDeps) {
  function requireEnabled(ctx: Context): void {
    if (!isPasskeyEnabled(entryOf(ctx).pool)) throw notOffered();
  }

  async function renderSignIn(ctx: Context, details: Details, email: string, error?: string) {
    const { pool } = entryOf(ctx);
    const options = await deps.passkeys.startAuthentication(pool, email || undefined, { interactionUid: details.uid });
    ctx.status = error ? 401 : 200;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.pages.render('passkey-signin', pool, {
      locale: localeOf(ctx),
      action: `${interactionBase(ctx)}/passkey/verify`,
      retryAction: `${interactionBase(ctx)}/passkey`,
      loginUrl: `${interactionBase(ctx)}`,
      csrf: csrfToken(deps.csrfKey, pool.id, details.uid),
      options: JSON.stringify(options),
      email,
      error,
    });
  }

  async function renderAdd(ctx: Context, details: Details, accountId: string, error?: string) {
    const { pool } = entryOf(ctx);
    const user = await deps.users.findActiveUser(pool.id, accountId);
    if (!user) throw expired();
    const options = await deps.passkeys.startRegistration(pool, user, { interactionUid: details.uid });
    ctx.status = error ? 400 : 200;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.pages.render('passkey-add', pool, {
      locale: localeOf(ctx),
      action: `${interactionBase(ctx)}/passkey/add`,
      skipUrl: `${interactionBase(ctx)}/passkey/skip`,
      csrf: csrfToken(deps.csrfKey, pool.id, details.uid),
      options: JSON.stringify(options),
      email: user.email,
      error,
    });
  }

  function refused(ctx: Context, error: unknown): void {
    if (!(error instanceof PasskeyRefused)) throw error;
    deps.log.info({ poolId: entryOf(ctx).pool.id, reason: error.reason, detail: error.message }, 'passkey refused');
  }

  function enrolCsrf(pool: PoolRow, grant: string): string {
    return csrfToken(deps.csrfKey, pool.id, `enrol:${grant}`);
  }

  function setEnrolCookie(ctx: Context, pool: PoolRow, value: string | null): void {
    ctx.cookies.set(ENROL_COOKIE, value, {
      httpOnly: true,
      sameSite: 'strict',
      path: enrolPath(pool),
      maxAge: ENROLMENT_GRANT_TTL_MS,
      signed: false,
      overwrite: true,
    });
  }

  async function renderStandaloneAdd(ctx: Context, pool: PoolRow, userId: string, grant: string, error?: string) {
    const user = await deps.users.findActiveUser(pool.id, userId);
    if (!user) throw enrolmentExpired();
    const options = await deps.passkeys.startRegistration(pool, user);
    ctx.status = error ? 400 : 200;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.pages.render('passkey-add', pool, {
      locale: localeOf(ctx),
      action: enrolPath(pool),
      skipUrl: `${enrolPath(pool)}/done`,
      csrf: enrolCsrf(pool, grant),
      options: JSON.stringify(options),
      email: user.email,
      error,
    });
  }

  function enrolmentGrant(ctx: Context): { grant: string; userId: string } {
    const { pool } = entryOf(ctx);
    const grant = ctx.cookies.get(ENROL_COOKIE, { signed: false });
    const userId = deps.passkeys.readEnrolmentGrant(pool.id, grant);
    if (!grant || !userId) throw enrolmentExpired();
    return { grant, userId };
  }

  async function continueToApp(ctx: Context, details: Details) {
    ctx.status = 303;
    ctx.redirect(details.returnTo);
  }

  return {
    /**
     * After a successful sign-in inside an interaction: when the pool offers passkeys and the user
     * has none, save the login result and show the "add a passkey" step (true); else false, and the
     * caller finishes the interaction as usual. After an email-code sign-in (the recovery path of a
     * user whose passkey is on a lost device) pass { evenWithPasskeys: true }.
     */
    async offerEnrolment(ctx: Context, details: Details, result: InteractionResults, options: { evenWithPasskeys?: boolean } = {}): Promise<boolean> {
      const { pool } = entryOf(ctx);
      const accountId = (result.login as { accountId?: string } | undefined)?.accountId;
      if (!accountId || !(await deps.passkeys.shouldOfferEnrolment(pool, accountId, options))) return false;
      await saveInteractionResult(ctx, result);
      ctx.status = 303;
      ctx.redirect(`${interactionBase(ctx)}/passkey/add`);
      return true;
    },

    /**
     * Outside an interaction (after an invitation is activated): when the pool offers passkeys and
     * the user has none, answer with the "add a passkey" page (true), bound to this browser by a
     * short-lived cookie; else false, and the caller renders its own page.
     */
    async offerStandaloneEnrolment(ctx: Context, userId: string): Promise<boolean> {
      const { pool } = entryOf(ctx);
      if (!(await deps.passkeys.shouldOfferEnrolment(pool, userId))) return false;
      const grant = deps.passkeys.issueEnrolmentGrant(pool.id, userId);
      setEnrolCookie(ctx, pool, grant);
      await renderStandaloneAdd(ctx, pool, userId, grant);
      return true;
    },

    register(router: Router): void {
      router.get('/passkeys/enrol', async function showEnrolment(ctx) {
        requireEnabled(ctx);
        const { grant, userId } = enrolmentGrant(ctx);
        return renderStandaloneAdd(ctx, entryOf(ctx).pool, userId, grant);
      });

      router.post('/passkeys/enrol', async function enrolPasskey(ctx) {
        requireEnabled(ctx);
        const { pool } = entryOf(ctx);
        const { grant, userId } = enrolmentGrant(ctx);
        const form = await readForm(ctx, deps.bodyLimitBytes);
        if (!csrfValid(deps.csrfKey, pool.id, `enrol:${grant}`, form.csrf)) {
          throw new HostedPageError(403, 'csrf');
        }
        try {
          await deps.passkeys.finishRegistration(pool, userId, form.credential, {}, form.name);
        } catch (error) {
          refused(ctx, error);
          return renderStandaloneAdd(ctx, pool, userId, grant, 'passkey.add.failed');
        }
        setEnrolCookie(ctx, pool, null);
        ctx.type = 'html';
        ctx.body = await deps.pages.render('passkey-done', pool, { locale: localeOf(ctx), added: true });
      });

      router.get('/passkeys/enrol/done', async function finishEnrolment(ctx) {
        const { pool } = entryOf(ctx);
        setEnrolCookie(ctx, pool, null);
        ctx.type = 'html';
        ctx.body = await deps.pages.render('passkey-done', pool, { locale: localeOf(ctx), added: false });
      });

      router.post('/interaction/:uid/passkey', async function startPasskeySignIn(ctx) {
        requireEnabled(ctx);
        const details = await loadDetails(ctx);
        if (details.prompt.name !== 'login') throw expired();
        const form = await readInteractionForm(ctx, details, deps.csrfKey, deps.bodyLimitBytes);
        return renderSignIn(ctx, details, (form.email ?? '').trim());
      });

      router.post('/interaction/:uid/passkey/verify', async function verifyPasskeySignIn(ctx) {
        requireEnabled(ctx);
        const details = await loadDetails(ctx);
        if (details.prompt.name !== 'login') throw expired();
        const form = await readInteractionForm(ctx, details, deps.csrfKey, deps.bodyLimitBytes);
        const { pool } = entryOf(ctx);
        try {
          const { user, synced } = await deps.passkeys.verifyAssertion(pool, form.credential, { interactionUid: details.uid });
          await recordSignIn(ctx, deps.audit, { method: 'passkey', outcome: 'success', userId: user.id });
          // RFC 8176: hwk for a key bound to its device, swk for a synced one; user verification is
          // required at every passkey ceremony, so the key (possession) and the PIN or biometric
          // that unlocked it make two factors: mfa, and the MFA acr (docs/adr/0309).
          await finishInteraction(ctx, details, { login: { accountId: user.id, amr: [synced ? 'swk' : 'hwk', 'user', 'mfa'], acr: ACR_MFA } });
        } catch (error) {
          refused(ctx, error);
          const email = (form.email ?? '').trim();
          await recordSignIn(ctx, deps.audit, { method: 'passkey', outcome: 'failure', reason: (error as PasskeyRefused).reason, email: email || undefined });
          return renderSignIn(ctx, details, (form.email ?? '').trim(), 'passkey.signin.failed');
        }
      });

      router.get('/interaction/:uid/passkey/add', async function showAddPasskey(ctx) {
        requireEnabled(ctx);
        const details = await loadDetails(ctx);
        const accountId = pendingAccount(details);
        if (!accountId) throw expired();
        return renderAdd(ctx, details, accountId);
      });

      router.post('/interaction/:uid/passkey/add', async function addPasskey(ctx) {
        requireEnabled(ctx);
        const details = await loadDetails(ctx);
        const accountId = pendingAccount(details);
        if (!accountId) throw expired();
        const form = await readInteractionForm(ctx, details, deps.csrfKey, deps.bodyLimitBytes);
        try {
          await deps.passkeys.finishRegistration(entryOf(ctx).pool, accountId, form.credential, { interactionUid: details.uid }, form.name);
        } catch (error) {
          refused(ctx, error);
          const message = error instanceof PasskeyRefused && error.reason === 'already-registered' ? 'passkey.add.duplicate' : 'passkey.add.failed';
          return renderAdd(ctx, details, accountId, message);
        }
        return continueToApp(ctx, details);
      });

      router.get('/interaction/:uid/passkey/skip', async function skipAddPasskey(ctx) {
        const details = await loadDetails(ctx);
        if (!pendingAccount(details)) throw expired();
        return continueToApp(ctx, details);
      });
    },
  };
}

export type PasskeyInteractions = ReturnType<typeof createPasskeyInteractions>;
