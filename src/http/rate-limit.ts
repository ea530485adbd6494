/**
 * Failure-based rate limits per client IP, in this process's memory (ADR 0802):
 *   token  — failed token requests (a client secret, code or refresh token guessed);
 *   login  — failed hosted sign-in form posts (password guessing across accounts);
 *   admin  — refused admin credentials (admin token or pool secret guessing).
 * Successful requests are never counted: capacity is the load balancer's business, and a
 * busy client doing its job must not be throttled. Past the limit, the IP gets 429 with
 * Retry-After until its window ends. Windows are fixed; keys live in a bounded LRU.
 * With N instances behind a balancer, an IP gets up to N × limit failures per window.
 */
import type { Context, Middleware, Next } from 'koa';
import { LRUCache } from 'lru-cache';
import { problems } from './problem.js';

export interface FailureLimiterOptions {
  name: string;
  /** Failures allowed per window and IP; 0 turns the limiter off. */
  limit: number;
  windowMs: number;
  /** Does this limiter watch the request? */
  applies(ctx: Context): boolean;
  /** Did the request fail in the way this limiter counts? */
  failed(status: number): boolean;
  onLimited?: (name: string) => void;
  /** Answers a limited request itself (a hosted page); by default a 429 problem document. */
  refuse?: (ctx: Context, retryAfterSeconds: number) => Promise<void>;
  clock?: () => number;
  maxKeys?: number;
}

interface Window {
  startedAt: number;
  failures: number;
}

export interface FailureLimiter {
  /** Does this limiter watch the request? */
  applies(ctx: Context): boolean;
  /** Runs the request under the limit: refused past it, counted when it fails. */
  watch(ctx: Context, next: Next): Promise<void>;
}

/**
 * The limiters as one middleware: a request is watched by the first limiter that applies,
 * and passes straight through (no promise of its own) when none does.
 */
export function failureLimits(...limiters: FailureLimiter[]): Middleware {
  return function limitFailures(ctx: Context, next: Next): Promise<void> {
    for (const limiter of limiters) if (limiter.applies(ctx)) return limiter.watch(ctx, next);
    return next();
  };
}

export function failureLimiter(options: FailureLimiterOptions): FailureLimiter {
  const clock = options.clock ?? Date.now;
  const windows = new LRUCache<string, Window>({ max: options.maxKeys ?? 100_000 });

  function current(ip: string): Window {
    const now = clock();
    let window = windows.get(ip);
    if (!window || now - window.startedAt >= options.windowMs) {
      window = { startedAt: now, failures: 0 };
      windows.set(ip, window);
    }
    return window;
  }

  return {
    applies: (ctx) => options.limit > 0 && options.applies(ctx),
    watch,
  };

  async function watch(ctx: Context, next: Next): Promise<void> {
    const ip = ctx.ip || 'unknown';
    const window = current(ip);
    if (window.failures >= options.limit) {
      options.onLimited?.(options.name);
      const retryAfter = Math.max(1, Math.ceil((window.startedAt + options.windowMs - clock()) / 1000));
      if (!options.refuse) throw problems.tooManyRequests(retryAfter);
      ctx.set('Retry-After', String(retryAfter));
      return options.refuse(ctx, retryAfter);
    }
    let status = 0;
    try {
      await next();
      status = ctx.status;
    } catch (error) {
      status = (error as { status?: number }).status ?? 500;
      throw error;
    } finally {
      if (options.failed(status)) current(ip).failures += 1;
    }
  }
}
