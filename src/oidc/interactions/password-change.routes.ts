/**
 * "Choose a new password" inside a sign-in interaction, for a user who must change theirs:
 * an imported password that fails the pool's policy, or the admin's choice
 * (`users.password_change = 'required'`, ADR 0305).
 *   POST /interaction/:uid/password-change   the new password → the sign-in goes on
 * The right password's result is kept in the interaction as `passwordChangePending`, not
 * as `login`: the provider treats the interaction as unfinished, so the application gets
 * no code until the new password is stored. The new one passes the pool's policy and
 * differs from the current one. After it, the sign-in goes on as after any right password
 * (second factor, passkey offer, back to the application).
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { UserRow } from '../../db/tables.js';
import type { UserService } from '../../users/users.service.js';
import { localeOf } from '../../i18n/request-locale.js';
import type { PageMessage, PageRenderer } from '../../views/render.js';
import { csrfToken } from './csrf.js';
import { fieldMessages, interactionBase, readInteractionForm, userChanges, type UserEventRecorder } from './interaction-steps.js';
import { entryOf, expired, loadDetails, saveInteractionResult, type Details } from './interactions.routes.js';

export interface PasswordChangeInteractionDeps {
  users: UserService;
  pages: PageRenderer;
  csrfKey: Buffer;
  bodyLimitBytes: number;
  audit?: UserEventRecorder;
}

export interface PendingPasswordLogin {
  accountId: string;
  amr: string[];
}

/** What a right password leads to next (second factor, passkey offer, or the application). */
export type AfterPassword = (ctx: Context, details: Details, login: PendingPasswordLogin) => Promise<void>;

export const SAME_PASSWORD = 'Choose a password different from your current one.';

function pendingOf(details: Details): PendingPasswordLogin {
  const pending = (details.result as { passwordChangePending?: Partial<PendingPasswordLogin> } | undefined)?.passwordChangePending;
  if (typeof pending?.accountId !== 'string' || !Array.isArray(pending.amr)) throw expired();
  return { accountId: pending.accountId, amr: pending.amr.filter((item): item is string => typeof item === 'string') };
}

export function createPasswordChangeInteractions(deps: PasswordChangeInteractionDeps) {
  async function render(ctx: Context, details: Details, email: string, errors: PageMessage[] = []) {
    const { pool } = entryOf(ctx);
    ctx.status = errors.length ? 400 : 200;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.pages.render('change-password', pool, {
      locale: localeOf(ctx),
      action: `${interactionBase(ctx)}/password-change`,
      abortUrl: `${interactionBase(ctx)}/abort`,
      csrf: csrfToken(deps.csrfKey, pool.id, details.uid),
      email,
      minLength: pool.password_policy.minLength,
      errors,
    });
  }

  return {
    /** After a right password: when the user must change it, keep the result aside and show the page (true). */
    async askAfterPassword(ctx: Context, details: Details, user: UserRow, login: PendingPasswordLogin): Promise<boolean> {
      if (user.password_change !== 'required') return false;
      await saveInteractionResult(ctx, { passwordChangePending: login });
      await render(ctx, details, user.email);
      return true;
    },

    register(router: Router, afterPassword: AfterPassword): void {
      router.post('/interaction/:uid/password-change', async function submitPasswordChange(ctx) {
        const details = await loadDetails(ctx);
        if (details.prompt.name !== 'login') throw expired();
        const pending = pendingOf(details);
        const form = await readInteractionForm(ctx, details, deps.csrfKey, deps.bodyLimitBytes);
        const { pool } = entryOf(ctx);
        const user = await deps.users.findActiveUser(pool.id, pending.accountId);
        if (!user) throw expired();
        try {
          await deps.users.replaceRequiredPassword(pool, user.id, form.password ?? '', userChanges(ctx, deps.audit));
        } catch (error) {
          const messages = fieldMessages(error);
          if (!messages) throw error;
          return render(ctx, details, user.email, messages);
        }
        deps.audit?.queuedCommitted?.();
        return afterPassword(ctx, details, pending);
      });
    },
  };
}

export type PasswordChangeInteractions = ReturnType<typeof createPasswordChangeInteractions>;
