/**
 * The one error page of hosted pages (a person's browser): the pool's branded page, in the
 * page's language (src/i18n), with a title and a sentence for people, never JSON, a stack
 * trace or a validator's key. The technical detail goes to the log under the request id,
 * which the page shows as a reference. The JSON side of the same errors is http/errors.ts.
 * - HostedPageError: its own status and catalogue entry (error.{name}.title / .message);
 * - the database away → 503 with Retry-After; text it cannot store → 400 (ADR 0800);
 * - any other client mistake (status < 500: a body too large, a wrong media type) → its
 *   status and a general sentence; anything else → 500, logged, with a sentence that says nothing.
 * Where the application is known (ctx.state.startAgainUrl: its initiate_login_uri or home
 * page), the page offers to start again there.
 */
import type { Context } from 'koa';
import { mapDatabaseError } from '../db/errors.js';
import type { Logger } from '../log.js';
import { localeOf } from '../i18n/request-locale.js';
import { translatorFor } from '../i18n/translator.js';
import { wordMessage, type PageMessageValues, type PageRenderer, type PagePool } from '../views/render.js';
import { AppError, HostedPageError } from './problem.js';
import { startAgainUrlOf, type ClientLinks } from '../oidc/start-again.js';

export interface ErrorPages {
  /** Answers `error` with the error page of the request's pool (when known). */
  answer(ctx: Context, error: unknown): Promise<void>;
  /** Answers with the error page `error.{name}` (its title and message in the catalogues) and this status. */
  render(ctx: Context, status: number, name: string, values?: PageMessageValues, pool?: PagePool): Promise<void>;
}

function nameFor(status: number): string {
  if (status === 413) return 'tooLarge';
  if (status === 503) return 'unavailable';
  if (status === 404) return 'notFound';
  return status < 500 ? 'refused' : 'internal';
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

/** The application's start-again address, when the request named a client (ctx.state.clientId, set by the interaction). */
async function startAgainUrl(ctx: Context): Promise<string | undefined> {
  const clientId = ctx.state.clientId as unknown;
  const provider = (ctx.state.poolProvider as { provider?: { Client: { find(id: string): Promise<ClientLinks | undefined> } } } | undefined)?.provider;
  if (typeof clientId !== 'string' || !provider) return undefined;
  try {
    return startAgainUrlOf(await provider.Client.find(clientId));
  } catch {
    return undefined; // the page is shown without it (the database may be what failed)
  }
}

export function createErrorPages({ pages, log }: { pages: PageRenderer; log: Logger }): ErrorPages {
  async function render(
    ctx: Context,
    status: number,
    name: string,
    values?: PageMessageValues,
    pool?: PagePool,
    literal?: { title: string; message: string },
  ): Promise<void> {
    const shownPool = pool ?? (ctx.state.poolProvider as { pool?: PagePool } | undefined)?.pool;
    const i18n = translatorFor(localeOf(ctx, shownPool));
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Content-Language', i18n.locale);
    ctx.body = await pages.render('error', shownPool, {
      locale: i18n.locale,
      title: literal?.title ?? wordMessage(i18n, { key: `error.${name}.title`, values }),
      message: literal?.message ?? wordMessage(i18n, { key: `error.${name}.message`, values }),
      reference: ctx.state.requestId as string | undefined,
      startAgainUrl: await startAgainUrl(ctx),
    });
  }

  return {
    render,
    async answer(ctx, error) {
      const known = error instanceof AppError ? error : mapDatabaseError(error);
      const status = known?.status ?? statusOf(error) ?? 500;
      if (status >= 500 && !(known && known.status === 503)) log.error({ err: error, path: ctx.path, requestId: ctx.state.requestId }, 'hosted page failed');
      else log.info({ reason: (error as Error).message, status, path: ctx.path, requestId: ctx.state.requestId }, 'hosted page refused');
      for (const [name, value] of Object.entries(known?.headers ?? {})) ctx.set(name, value);
      if (error instanceof HostedPageError) return render(ctx, status, error.messageKey.slice('error.'.length), error.values, undefined, error.literal);
      return render(ctx, status, nameFor(status));
    },
  };
}
