/** Maps PostgreSQL failures to problems: constraint violations are the client's, lost connections are 503. */
import { AppError, problems } from '../http/problem.js';

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004']);

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as { code?: string; constraint?: string };
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
}

export function isForeignKeyViolation(error: unknown): boolean {
  return (error as { code?: string })?.code === '23503';
}

export function mapDatabaseError(error: unknown): AppError | undefined {
  const e = error as { code?: string; message?: string };
  if (!e || typeof e !== 'object') return undefined;
  if (e.code && CONNECTION_CODES.has(e.code)) return problems.unavailable();
  // 22021/22P05: text PostgreSQL cannot store (a NUL character, a lone surrogate): the input's fault.
  if (e.code === '22021' || e.code === '22P05') return problems.badRequest('The request contains characters that cannot be stored (such as NUL).');
  if (typeof e.message === 'string' && /timeout exceeded when trying to connect|Connection terminated/i.test(e.message)) {
    return problems.unavailable();
  }
  return undefined;
}
