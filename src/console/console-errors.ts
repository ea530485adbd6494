/** Console pages answer refusals and faults with a page, never JSON or a stack trace. */
import type { Context, Next } from 'koa';
import type { ErrorPages } from '../http/error-page.js';

export function consoleErrors(errorPages: ErrorPages) {
  return async function answerConsoleErrors(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== '/console' && !ctx.path.startsWith('/console/')) return next();
    try {
      await next();
    } catch (error) {
      await errorPages.answer(ctx, error);
    }
  };
}
