/**
 * What every request gets, in one middleware (issue 7: each middleware layer costs a few
 * promises on every request, and these three always run together):
 *   on the way in   the security headers (security-headers.ts);
 *   on the way out  an error or an unanswered request as a problem document (errors.ts),
 *                   the policy headers settled, one log line and metric (request-log.ts).
 */
import type { Context, Middleware, Next } from 'koa';
import type { Logger } from '../log.js';
import type { Metrics } from '../observability/metrics.js';
import { requestObserver, type RouteNaming } from '../observability/request-log.js';
import { answerUnmatched, answerWithProblem } from './errors.js';
import { finishSecurityHeaders, setSecurityHeaders } from './security-headers.js';

export function requestFrame(log: Logger, metrics: Metrics, naming: RouteNaming): Middleware {
  const observe = requestObserver(log, metrics, naming);
  return async function frame(ctx: Context, next: Next): Promise<void> {
    const started = process.hrtime.bigint();
    setSecurityHeaders(ctx);
    try {
      await next();
      answerUnmatched(ctx);
    } catch (error) {
      answerWithProblem(ctx, error, log);
    } finally {
      finishSecurityHeaders(ctx);
      observe(ctx, started);
    }
  };
}
