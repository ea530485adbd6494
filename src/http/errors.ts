/**
 * The one JSON error path: the admin API, the pool gateway and Tarn's resource routes
 * (/me …, whose AppErrors carry their RFC 6750 challenge). Hosted pages have the one page
 * renderer instead (error-page.ts). AppError → its problem document;
 * database faults → 503 (the caller may retry); anything else → a bare 500 whose
 * details go to the log only, never to the client.
 */
import type { Context } from 'koa';
import type { Logger } from '../log.js';
import { mapDatabaseError } from '../db/errors.js';
import { AppError, problems } from './problem.js';

export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  return mapDatabaseError(error) ?? problems.internal();
}

export function sendProblem(ctx: Context, error: AppError): void {
  ctx.status = error.status;
  for (const [name, value] of Object.entries(error.headers ?? {})) ctx.set(name, value);
  ctx.type = 'application/problem+json';
  ctx.body = error.toProblem(ctx.path);
}

/** The answer to an error thrown by a handler: its problem document, logged when it is ours (5xx). */
export function answerWithProblem(ctx: Context, error: unknown, log: Logger): void {
  const appError = toAppError(error);
  if (appError.status >= 500) log.error({ err: error, path: ctx.path, method: ctx.method }, 'request failed');
  sendProblem(ctx, appError);
}

/** Nothing answered the request: a 404 problem document rather than Koa's plain text. */
export function answerUnmatched(ctx: Context): void {
  if (ctx.status === 404 && ctx.body === undefined) sendProblem(ctx, problems.notFound('Resource', `Nothing at ${ctx.path}.`));
}
