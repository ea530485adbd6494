/**
 * What every request gets, in one middleware (ADR 0705: each middleware layer costs a few
 * promises on every request, and these always run together):
 *   on the way in   the security headers (security-headers.ts), and the failure limit
 *                   that watches the request, if one does (rate-limit.ts);
 *   on the way out  an error or an unanswered request as a problem document (errors.ts),
 *                   the failure counted, the policy headers settled, one log line and
 *                   metric (request-log.ts); while draining, the connection closed after it.
 */
import type { Context, Middleware } from 'koa';
import type { Next } from './state.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../observability/metrics.js';
import { requestObserver, type RouteNaming } from '../observability/request-log.js';
import { answerUnmatched, answerWithProblem } from './errors.js';
import type { FailureLimiter } from './rate-limit.js';
import { finishSecurityHeaders, startSecurityHeaders } from './security-headers.js';

export interface RequestFrameOptions {
  log: Logger;
  metrics: Metrics;
  naming: RouteNaming;
  /** A request is watched by the first of these that applies to it. */
  limiters?: FailureLimiter[];
  /** Requests being answered, and whether the process is shutting down (main.ts). */
  traffic?: Traffic;
}

export interface Traffic {
  inFlight: number;
  /** Once set, every answer closes its connection, so keep-alive clients go elsewhere. */
  draining: boolean;
}

export function requestFrame({ log, metrics, naming, limiters = [], traffic = { inFlight: 0, draining: false } }: RequestFrameOptions): Middleware {
  const observe = requestObserver(log, metrics, naming);

  function finish(ctx: Context, path: string, started: bigint, limiter: FailureLimiter | undefined): void {
    limiter?.count(ctx, ctx.status);
    finishSecurityHeaders(ctx);
    if (traffic.draining) ctx.set('Connection', 'close');
    traffic.inFlight -= 1;
    observe(ctx, path, started);
  }

  // Not an async function: the request's work is one promise, answered by one `then`
  // (each async layer adds promises, and every promise pays the async hooks that
  // oidc-provider's AsyncLocalStorage keeps enabled; ADR 0708).
  return function frame(ctx: Context, next: Next): Promise<void> {
    const started = process.hrtime.bigint();
    // (the path as it came: the pool gateway rewrites the URL while the provider runs)
    const path = ctx.path;
    traffic.inFlight += 1;
    let limiter: FailureLimiter | undefined;
    let work: Promise<void>;
    try {
      startSecurityHeaders(ctx, path);
      limiter = limiters.find((candidate) => candidate.applies(ctx, path));
      work = limiter?.refuses(ctx) ?? next();
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes on what the middleware threw, unchanged
      work = Promise.reject(error);
    }
    return work.then(
      () => {
        try {
          answerUnmatched(ctx);
        } finally {
          finish(ctx, path, started, limiter);
        }
      },
      (error: unknown) => {
        try {
          answerWithProblem(ctx, error, log);
        } finally {
          finish(ctx, path, started, limiter);
        }
      },
    );
  };
}
