/**
 * The one error page of hosted pages (a person's browser): the pool's branded page with a
 * title and a sentence, never JSON, a stack trace or a validator's key. The JSON side of
 * the same errors is http/errors.ts.
 * - HostedPageError: its own status, title and sentence;
 * - the database away → 503 with Retry-After; text it cannot store → 400 (ADR 0800);
 * - any other client mistake (status < 500: a body too large, a wrong media type) → its
 *   status and message; anything else → 500, logged, with a sentence that says nothing.
 */
import type { Context } from 'koa';
import { mapDatabaseError } from '../db/errors.js';
import type { Logger } from '../log.js';
import type { PoolRow } from '../db/tables.js';
import type { PageRenderer } from '../views/render.js';
import { AppError, HostedPageError } from './problem.js';

export interface ErrorPages {
  /** Answers `error` with the error page of the request's pool (when known). */
  answer(ctx: Context, error: unknown): Promise<void>;
  /** Answers with an error page of this status, title and sentence. */
  render(ctx: Context, status: number, title: string, message: string, pool?: PoolPart): Promise<void>;
}

type PoolPart = Pick<PoolRow, 'id' | 'name' | 'logo_url' | 'tag_color'>;

function titleFor(status: number): string {
  if (status === 413) return 'Too much data';
  if (status === 503) return 'Temporarily unavailable';
  return status < 500 ? 'Request refused' : 'Something went wrong';
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

export function createErrorPages({ pages, log }: { pages: PageRenderer; log: Logger }): ErrorPages {
  async function render(ctx: Context, status: number, title: string, message: string, pool?: PoolPart): Promise<void> {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await pages.render('error', pool ?? (ctx.state.poolProvider as { pool?: PoolPart } | undefined)?.pool, { title, message });
  }

  return {
    render,
    async answer(ctx, error) {
      const known = error instanceof AppError ? error : mapDatabaseError(error);
      const status = known?.status ?? statusOf(error) ?? 500;
      if (status >= 500 && !(known && known.status === 503)) log.error({ err: error, path: ctx.path }, 'hosted page failed');
      for (const [name, value] of Object.entries(known?.headers ?? {})) ctx.set(name, value);
      if (error instanceof HostedPageError) return render(ctx, status, error.title, error.userMessage);
      const message = status >= 500 && status !== 503 ? 'Something went wrong on our side. Please try again.' : (known?.detail ?? (error as Error).message);
      return render(ctx, status, titleFor(status), message);
    },
  };
}
