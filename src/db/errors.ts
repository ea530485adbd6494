/** Maps PostgreSQL failures to problems: constraint violations are the client's, lost connections are 503. */
import { AppError, problems } from '../http/problem.js';

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
]);

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as { code?: string; constraint?: string };
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
}

export function isForeignKeyViolation(error: unknown): boolean {
  return (error as { code?: string })?.code === '23503';
}

/**
 * A failure caused by a value the statement was given rather than by the statement or the
 * database: SQLSTATE class 22 (data exception: text it cannot store, a value out of range or
 * of the wrong form), 23 (integrity constraint) or 54 (program limit, e.g. an index row too
 * large). In a batch, one item's value may be the cause (statement-batcher.ts).
 */
export function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && /^(22|23|54)/.test(code);
}

export function mapDatabaseError(error: unknown): AppError | undefined {
  const e = error as { code?: string; message?: string };
  if (!e || typeof e !== 'object') return undefined;
  if (e.code && CONNECTION_CODES.has(e.code)) return problems.unavailable();
  // Class 22, data exceptions: text PostgreSQL cannot store (22021 and 22P05 a NUL character,
  // 22P02 a lone surrogate in jsonb), a value of the wrong form or out of range: the input's fault.
  if (e.code?.startsWith('22')) return problems.badRequest('The request contains characters or values that cannot be stored (such as NUL).');
  if (typeof e.message === 'string' && /timeout exceeded when trying to connect|Connection terminated/i.test(e.message)) {
    return problems.unavailable();
  }
  return undefined;
}
