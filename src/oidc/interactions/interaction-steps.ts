/**
 * Steps the sign-in flows added beside interactions.routes.ts share (registration, email
 * code): a form that must carry the interaction's CSRF token, field errors shown on a page,
 * and the 404 of a method the pool does not offer. (The end of an interaction is
 * interactions.routes.ts's finishInteraction.)
 */
import type { Context } from 'koa';
import { readForm } from '../../http/body.js';
import { AppError } from '../../http/problem.js';
import { routeParam } from '../../http/state.js';
import { csrfValid } from './csrf.js';
import { entryOf, HostedPageError, type Details } from './interactions.routes.js';
import type { RecordChange, SignInEvent, UserEvent } from '../../audit/audit.service.js';
import type { PageMessage } from '../../views/render.js';

/** Records a sign-in attempt (audit log and metrics, src/audit/audit.service.ts). */
export interface SignInRecorder {
  signIn(event: SignInEvent): Promise<void>;
}

/** Records what a user did to their own account on the hosted pages (audit log). */
export interface UserEventRecorder {
  userEvent(event: UserEvent): Promise<void>;
  /** Events written in the change's transaction (audit.service.ts). */
  userChanges?(request: { poolId: string; ip?: string | undefined; requestId?: string | undefined }): RecordChange;
  queuedCommitted?(): void;
}

/** The recorder a service writes a user's change and its event with, in one transaction (ADR 0809). */
export function userChanges(ctx: Context, recorder: UserEventRecorder | undefined): RecordChange | undefined {
  return recorder?.userChanges?.({ poolId: entryOf(ctx).pool.id, ip: ctx.ip, requestId: ctx.state.requestId as string | undefined });
}

/** One call per change a user makes on the hosted pages (`user.registered`, `user.activated`, … docs/events.md). */
export async function recordUserEvent(
  ctx: Context,
  recorder: UserEventRecorder | undefined,
  event: Omit<UserEvent, 'poolId' | 'ip' | 'requestId'>,
): Promise<void> {
  await recorder?.userEvent({ ...event, poolId: entryOf(ctx).pool.id, ip: ctx.ip, requestId: ctx.state.requestId as string | undefined });
}

/**
 * The one call every sign-in method makes, success or failure (ADR 0804): the pool, the
 * client's address and the request id come from the request, the rest from the method.
 */
export async function recordSignIn(ctx: Context, recorder: SignInRecorder | undefined, event: Omit<SignInEvent, 'poolId' | 'ip' | 'requestId'>): Promise<void> {
  await recorder?.signIn({ ...event, poolId: entryOf(ctx).pool.id, ip: ctx.ip, requestId: ctx.state.requestId as string | undefined });
}

export async function readInteractionForm(ctx: Context, details: Details, csrfKey: Buffer, limit: number): Promise<Record<string, string>> {
  const form = await readForm(ctx, limit);
  if (!csrfValid(csrfKey, entryOf(ctx).pool.id, details.uid, form.csrf)) {
    throw new HostedPageError(403, 'csrf');
  }
  return form;
}

export function interactionBase(ctx: Context): string {
  return `/pools/${entryOf(ctx).pool.id}/interaction/${routeParam(ctx, 'uid')}`;
}

/**
 * The messages a person reads for a validation problem, each tied to its form field and in
 * the user's words (never a rule's key such as "minLength:"), or undefined for other errors.
 * `fields`: the labels of the profile fields the form shows.
 */
export function fieldMessages(error: unknown, fields: { name: string; label: string }[] = []): PageMessage[] | undefined {
  if (!(error instanceof AppError) || error.status !== 400 || !error.errors) return undefined;
  return error.errors.map((item): PageMessage => {
    const field = item.field;
    if (field === 'email') return { key: 'validation.email', field };
    if (field === 'password') {
      const minLength = /^minLength:\D*(\d+)/.exec(item.detail)?.[1];
      if (minLength) return { key: 'validation.password.minLength', values: { minLength: Number(minLength) }, field };
      if (item.detail.startsWith('notEmail:')) return { key: 'validation.password.notEmail', field };
      if (item.detail.startsWith('Choose a password different')) return { key: 'validation.password.sameAsCurrent', field };
      return { key: 'validation.password.other', field };
    }
    const name = field.replace(/^profile\./, '').split('.')[0]!;
    const label = fields.find((candidate) => candidate.name === name)?.label ?? name.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
    const formField = field.startsWith('profile.') ? `profile.${name}` : field;
    const bound = /^Must be (>=|<=|>|<) (-?\d+(?:\.\d+)?)\.$/.exec(item.detail);
    if (bound) {
      const key = { '>=': 'validation.atLeast', '<=': 'validation.atMost', '>': 'validation.above', '<': 'validation.below' }[bound[1]!]!;
      return { key, values: { field: label, limit: Number(bound[2]) }, field: formField };
    }
    return { key: item.detail === 'Required.' ? 'validation.required' : 'validation.invalid', values: { field: label }, field: formField };
  });
}

/** A sign-in method the pool does not offer (`what`, for the log). */
export const notOffered = (what: string) => Object.assign(new HostedPageError(404, 'notOffered'), { message: `This pool does not offer ${what}.` });

/** Runs work once this request's answer has been sent (or the connection closed): what depends on an account must not delay the answer. */
export function afterAnswer(ctx: Context): (work: () => void) => void {
  return (work) => {
    let ran = false;
    const once = () => {
      if (ran) return;
      ran = true;
      work();
    };
    ctx.res.once('finish', once);
    ctx.res.once('close', once);
  };
}
