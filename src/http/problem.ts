/**
 * One error type for the whole app, rendered as RFC 9457 application/problem+json on
 * the admin API and as a branded page on hosted pages. `expose` is true below 500:
 * a client mistake says what was wrong; a fault says nothing about internals.
 */
import { english, type MessageValues } from '../i18n/translator.js';

export interface FieldError {
  /** Dotted path of the offending field, e.g. "redirectUris.0". */
  field: string;
  /** RFC 6901 JSON pointer to the same field, e.g. "/redirectUris/0". */
  pointer: string;
  detail: string;
}

export interface ProblemInit {
  status: number;
  type: string;
  title: string;
  detail?: string | undefined;
  errors?: FieldError[] | undefined;
  headers?: Record<string, string> | undefined;
}

const TYPE_BASE = 'https://tarn.dev/problems/';

export class AppError extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string> | undefined;
  readonly expose: boolean;

  constructor(init: ProblemInit) {
    super(init.detail ?? init.title);
    this.name = 'AppError';
    this.status = init.status;
    this.type = init.type.startsWith('http') ? init.type : TYPE_BASE + init.type;
    this.title = init.title;
    this.detail = init.detail;
    this.errors = init.errors;
    this.headers = init.headers;
    this.expose = init.status < 500;
  }

  toProblem(instance?: string): Record<string, unknown> {
    return {
      type: this.type,
      title: this.title,
      status: this.status,
      ...(this.detail ? { detail: this.detail } : {}),
      ...(instance ? { instance } : {}),
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }
}

/**
 * A refusal on a hosted page, named by its catalogue entry: `error.{name}.title` and
 * `error.{name}.message` (locales/*.json), rendered in the page's language as the pool's
 * branded error page (http/error-page.ts), never as JSON. Title and detail of the error
 * itself are the English words, for logs and any API caller.
 */
export class HostedPageError extends AppError {
  readonly messageKey: string;
  readonly values: (MessageValues & { until?: Date }) | undefined;
  readonly userMessage: string;
  /** Set when the words are given as is (the admin console, which stays English): no catalogue entry. */
  readonly literal: { title: string; message: string } | undefined;

  /** `name`: the catalogue entry error.{name}; or, for the English-only admin console, a title and its message. */
  constructor(status: number, name: string, values?: (MessageValues & { until?: Date }) | string) {
    const literal = typeof values === 'string' ? { title: name, message: values } : undefined;
    const entryValues = typeof values === 'string' ? undefined : values;
    const userMessage = literal ? literal.message : english(`error.${name}.message`, entryValues);
    super({ status, type: 'hosted-page', title: literal ? literal.title : english(`error.${name}.title`, entryValues), detail: userMessage });
    this.name = 'HostedPageError';
    this.messageKey = literal ? 'error.refused' : `error.${name}`;
    this.values = entryValues;
    this.userMessage = userMessage;
    this.literal = literal;
  }
}

export function pointerOf(path: readonly PropertyKey[]): string {
  return path.map((part) => '/' + String(part).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

export function fieldOf(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

export function fieldError(path: readonly PropertyKey[] | string, detail: string): FieldError {
  const parts = typeof path === 'string' ? path.split('.') : path;
  return { field: fieldOf(parts), pointer: pointerOf(parts), detail };
}

export const problems = {
  validation: (errors: FieldError[], detail = 'The request has invalid fields.') =>
    new AppError({ status: 400, type: 'validation', title: 'Invalid request', detail, errors }),
  badRequest: (detail: string) => new AppError({ status: 400, type: 'bad-request', title: 'Bad request', detail }),
  unauthorized: (detail = 'Valid credentials are required.') =>
    new AppError({
      status: 401,
      type: 'unauthorized',
      title: 'Unauthorized',
      detail,
      headers: { 'WWW-Authenticate': 'Bearer realm="tarn-admin", Basic realm="tarn-admin"' },
    }),
  forbidden: (detail: string) => new AppError({ status: 403, type: 'forbidden', title: 'Forbidden', detail }),
  notFound: (what: string, detail?: string) =>
    new AppError({ status: 404, type: 'not-found', title: `${what} not found`, detail: detail ?? `No such ${what.toLowerCase()}.` }),
  conflict: (detail: string, errors?: FieldError[]) => new AppError({ status: 409, type: 'conflict', title: 'Conflict', detail, errors }),
  payloadTooLarge: (limit: number) =>
    new AppError({ status: 413, type: 'payload-too-large', title: 'Payload too large', detail: `The body exceeds ${limit} bytes.` }),
  unsupportedMediaType: (expected: string) =>
    new AppError({ status: 415, type: 'unsupported-media-type', title: 'Unsupported media type', detail: `Send ${expected}.` }),
  methodNotAllowed: () => new AppError({ status: 405, type: 'method-not-allowed', title: 'Method not allowed' }),
  tooManyRequests: (retryAfterSeconds: number) =>
    new AppError({
      status: 429,
      type: 'too-many-requests',
      title: 'Too many requests',
      detail: 'Too many failed attempts from this address. Try again later.',
      headers: { 'Retry-After': String(retryAfterSeconds) },
    }),
  unavailable: (detail = 'The service is temporarily unavailable. Try again shortly.') =>
    new AppError({ status: 503, type: 'unavailable', title: 'Service unavailable', detail, headers: { 'Retry-After': '2' } }),
  internal: () => new AppError({ status: 500, type: 'internal', title: 'Internal server error', detail: 'Something went wrong on our side.' }),
};
