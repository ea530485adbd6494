/**
 * Failure-based rate limits per client IP, in this process's memory (ADR 0802):
 *   token  — failed token requests (a client secret, code or refresh token guessed);
 *   login  — failed hosted sign-in form posts (password guessing across accounts);
 *   admin  — refused admin credentials (admin token or pool secret guessing).
 * Successful requests are never counted: capacity is the load balancer's business, and a
 * busy client doing its job must not be throttled. Past the limit, the IP gets 429 with
 * Retry-After until its window ends. Windows are fixed; keys live in a bounded LRU.
 * With N instances behind a balancer, an IP gets up to N × limit failures per window.
 * The request frame runs them (request-frame.ts): no middleware layer of their own.
 */
import type { Context } from 'koa';
import { LRUCache } from 'lru-cache';
import { problems } from './problem.js';

export interface FailureLimiterOptions {
  name: string;
  /** Failures allowed per window and IP; 0 turns the limiter off. */
  limit: number;
  windowMs: number;
  /** Does this limiter watch the request (`path`: its path as it came)? */
  applies(ctx: Context, path: string): boolean;
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
  /** Does this limiter watch the request (`path`: its path as it came)? */
  applies(ctx: Context, path: string): boolean;
  /** The refusal of a request past the limit (a 429 problem, or the limiter's own answer); undefined when it may go on. */
  refuses(ctx: Context): Promise<void> | undefined;
  /** Counts the finished request when it failed in the way this limiter counts. */
  count(ctx: Context, status: number): void;
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

  async function refuse(ctx: Context, window: Window): Promise<void> {
    options.onLimited?.(options.name);
    const retryAfter = Math.max(1, Math.ceil((window.startedAt + options.windowMs - clock()) / 1000));
    if (!options.refuse) throw problems.tooManyRequests(retryAfter);
    ctx.set('Retry-After', String(retryAfter));
    await options.refuse(ctx, retryAfter);
  }

  return {
    applies: (ctx, path) => options.limit > 0 && options.applies(ctx, path),
    refuses(ctx) {
      const window = windows.get(ctx.ip || 'unknown');
      return window && window.failures >= options.limit && clock() - window.startedAt < options.windowMs ? refuse(ctx, window) : undefined;
    },
    count(ctx, status) {
      if (options.failed(status)) current(ctx.ip || 'unknown').failures += 1;
    },
  };
}
