/**
 * The second factor inside a sign-in interaction (docs/adr/0307), after a right password:
 *   POST /interaction/:uid/mfa/totp    a code from the user's authenticator app → signed in
 *   POST /interaction/:uid/mfa/recovery   a recovery code instead (each works once) → signed in
 *   POST /interaction/:uid/mfa/enrol   the first code of a newly scanned app → enrolled, signed in,
 *                                      and the ten recovery codes shown once before going on
 *   GET  /interaction/:uid/mfa/skip    not now (pool policy `optional` only): signed in with the password
 * The password's result is kept in the interaction as `mfaPending`, not as `login`: the
 * provider treats the interaction as unfinished until a factor (or, where allowed, the
 * skip) turns it into a login. Wrong codes answer 401, which the request frame's login
 * limiter counts like wrong passwords; the user's lockout counts them too (mfa.service.ts).
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { requestIdOf } from '../../http/state.js';
import { ACR_MFA, ACR_PASSWORD, requestsMfa } from '../../mfa/acr.js';
import { mfaPolicy, type MfaService } from '../../mfa/mfa.service.js';
import type { UserService } from '../../users/users.service.js';
import type { PageRenderer } from '../../views/render.js';
import { csrfToken } from './csrf.js';
import { interactionBase, readInteractionForm } from './interaction-steps.js';
import { entryOf, expired, finishInteraction, loadDetails, saveInteractionResult, type Details } from './interactions.routes.js';

export interface MfaInteractionDeps {
  mfa: MfaService;
  users: UserService;
  pages: PageRenderer;
  csrfKey: Buffer;
  bodyLimitBytes: number;
  audit?: {
    signIn(event: {
      poolId: string;
      method: string;
      outcome: 'success' | 'failure';
      userId?: string;
      reason?: string;
      ip?: string;
      requestId?: string;
    }): Promise<void>;
  };
}

interface PendingLogin {
  accountId: string;
  amr: string[];
}

export const WRONG_RECOVERY_CODE = 'That recovery code is not right, or was already used.';
export const WRONG_TOTP = 'That code is not right, or was already used. Enter the current code from your authenticator app.';

function pendingLogin(details: Details): PendingLogin {
  const pending = (details.result as { mfaPending?: Partial<PendingLogin> } | undefined)?.mfaPending;
  if (typeof pending?.accountId !== 'string' || !Array.isArray(pending.amr)) throw expired();
  return { accountId: pending.accountId, amr: pending.amr.filter((item): item is string => typeof item === 'string') };
}

/** "Not now" exists only where the pool makes MFA optional and the application did not ask for it. */
function maySkip(ctx: Context, details: Details): boolean {
  return mfaPolicy(entryOf(ctx).pool) === 'optional' && !requestsMfa(details.params.acr_values);
}

export function createMfaInteractions(deps: MfaInteractionDeps) {
  async function renderTotp(ctx: Context, details: Details, error?: string) {
    const { pool } = entryOf(ctx);
    ctx.status = error ? 401 : 200;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.pages.render('mfa-totp', pool, {
      action: `${interactionBase(ctx)}/mfa/totp`,
      recoveryAction: `${interactionBase(ctx)}/mfa/recovery`,
      abortUrl: `${interactionBase(ctx)}/abort`,
      csrf: csrfToken(deps.csrfKey, pool.id, details.uid),
      error,
    });
  }

  async function renderEnrol(ctx: Context, details: Details, accountId: string, error?: string) {
    const { pool } = entryOf(ctx);
    const user = await deps.users.findActiveUser(pool.id, accountId);
    if (!user) throw expired();
    const enrolment = await deps.mfa.startTotpEnrolment(pool, user);
    if (!enrolment) throw expired();
    ctx.status = error ? 400 : 200;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.pages.render('mfa-enrol', pool, {
      action: `${interactionBase(ctx)}/mfa/enrol`,
      skipUrl: maySkip(ctx, details) ? `${interactionBase(ctx)}/mfa/skip` : undefined,
      abortUrl: `${interactionBase(ctx)}/abort`,
      csrf: csrfToken(deps.csrfKey, pool.id, details.uid),
      secret: enrolment.secret,
      // The SVG of the qrcode library: markup without script, labelled for screen readers.
      qrSvg: enrolment.qrSvg.replace('<svg ', '<svg role="img" aria-label="QR code to scan with your authenticator app" '),
      email: user.email,
      error,
    });
  }

  async function openPending(ctx: Context): Promise<{ details: Details; pending: PendingLogin }> {
    const details = await loadDetails(ctx);
    if (details.prompt.name !== 'login') throw expired();
    return { details, pending: pendingLogin(details) };
  }

  const withSecondFactor = (pending: PendingLogin) => ({
    login: { accountId: pending.accountId, amr: [...new Set([...pending.amr, 'otp', 'mfa'])], acr: ACR_MFA },
  });

  async function audit(ctx: Context, outcome: 'success' | 'failure', userId: string, method = 'totp') {
    await deps.audit?.signIn({
      poolId: entryOf(ctx).pool.id,
      method,
      outcome,
      userId,
      reason: outcome === 'failure' ? 'invalid' : undefined,
      ip: ctx.ip,
      requestId: requestIdOf(ctx),
    });
  }

  return {
    /**
     * After a right password: when the user has a factor, or the pool wants one enrolled,
     * keep the password's result aside and answer with the factor's page (true); else false,
     * and the caller finishes the interaction.
     */
    async askAfterPassword(ctx: Context, details: Details, login: PendingLogin): Promise<boolean> {
      const { pool } = entryOf(ctx);
      if (mfaPolicy(pool) === 'off' && !requestsMfa(details.params.acr_values)) return false;
      const hasFactor = await deps.mfa.hasFactor(pool.id, login.accountId);
      await saveInteractionResult(ctx, { mfaPending: login });
      if (hasFactor) await renderTotp(ctx, details);
      else await renderEnrol(ctx, details, login.accountId);
      return true;
    },

    /**
     * Step-up: the application asked for MFA (acr_values) and the session's sign-in had none.
     * The signed-in user is asked for the missing factor (or to enrol one), not for the password
     * again. False when there is no active signed-in user: the login page then asks for everything.
     */
    async stepUp(ctx: Context, details: Details): Promise<boolean> {
      const { pool } = entryOf(ctx);
      const accountId = details.session?.accountId;
      if (!accountId || !requestsMfa(details.params.acr_values)) return false;
      if (!(await deps.users.findActiveUser(pool.id, accountId))) return false;
      const session = details.session as { amr?: unknown };
      const amr = Array.isArray(session.amr) ? session.amr.filter((item): item is string => typeof item === 'string') : [];
      await saveInteractionResult(ctx, { mfaPending: { accountId, amr } });
      if (await deps.mfa.hasFactor(pool.id, accountId)) await renderTotp(ctx, details);
      else await renderEnrol(ctx, details, accountId);
      return true;
    },

    register(router: Router): void {
      router.post('/interaction/:uid/mfa/totp', async function submitTotp(ctx) {
        const { details, pending } = await openPending(ctx);
        const form = await readInteractionForm(ctx, details, deps.csrfKey, deps.bodyLimitBytes);
        const ok = await deps.mfa.verifyTotp(entryOf(ctx).pool, pending.accountId, form.code ?? '');
        await audit(ctx, ok ? 'success' : 'failure', pending.accountId);
        if (!ok) return renderTotp(ctx, details, WRONG_TOTP);
        return finishInteraction(ctx, details, withSecondFactor(pending));
      });

      router.post('/interaction/:uid/mfa/enrol', async function confirmEnrolment(ctx) {
        const { details, pending } = await openPending(ctx);
        const form = await readInteractionForm(ctx, details, deps.csrfKey, deps.bodyLimitBytes);
        const { pool } = entryOf(ctx);
        if (!(await deps.mfa.confirmTotp(pool, pending.accountId, form.code ?? ''))) {
          return renderEnrol(ctx, details, pending.accountId, WRONG_TOTP);
        }
        const codes = await deps.mfa.regenerateRecoveryCodes(pool.id, pending.accountId);
        // Signed in from here on: the codes page only links on to the application.
        const returnTo = await saveInteractionResult(ctx, withSecondFactor(pending));
        ctx.type = 'html';
        ctx.set('Cache-Control', 'no-store');
        ctx.body = await deps.pages.render('mfa-recovery-codes', pool, { codes, continueUrl: returnTo });
      });

      router.post('/interaction/:uid/mfa/recovery', async function submitRecoveryCode(ctx) {
        const { details, pending } = await openPending(ctx);
        const form = await readInteractionForm(ctx, details, deps.csrfKey, deps.bodyLimitBytes);
        const ok = await deps.mfa.useRecoveryCode(entryOf(ctx).pool, pending.accountId, form.recovery_code ?? '');
        await audit(ctx, ok ? 'success' : 'failure', pending.accountId, 'recovery_code');
        if (!ok) return renderTotp(ctx, details, WRONG_RECOVERY_CODE);
        // RFC 8176 has no value for a recovery code: it is a second factor ("mfa"), not an app code ("otp").
        return finishInteraction(ctx, details, {
          login: { accountId: pending.accountId, amr: [...new Set([...pending.amr, 'mfa'])], acr: ACR_MFA },
        });
      });

      router.get('/interaction/:uid/mfa/skip', async function skipEnrolment(ctx) {
        const { details, pending } = await openPending(ctx);
        const { pool } = entryOf(ctx);
        // Only where enrolment is optional, and only for a user who has no factor to pass.
        if (!maySkip(ctx, details) || (await deps.mfa.hasFactor(pool.id, pending.accountId))) throw expired();
        return finishInteraction(ctx, details, { login: { accountId: pending.accountId, amr: pending.amr, acr: ACR_PASSWORD } });
      });
    },
  };
}

export type MfaInteractions = ReturnType<typeof createMfaInteractions>;
