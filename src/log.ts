/** Structured JSON logs. Secrets never go in: callers log ids, never values; the redact list is a second net. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'tarn' },
    // Database errors carry the failed statement's parameters (hashes, sealed secrets,
    // emails): an error is logged by its kind, message and stack only.
    serializers: {
      err: (error: unknown) => {
        const e = error as { name?: string; message?: string; code?: string; stack?: string };
        return { type: e?.name, message: e?.message, code: e?.code, stack: e?.stack };
      },
    },
    redact: {
      paths: [
        'password',
        '*.password',
        'secret',
        '*.secret',
        'clientSecret',
        '*.clientSecret',
        'token',
        '*.token',
        'req.headers.authorization',
        'req.headers.cookie',
      ],
      censor: '[redacted]',
    },
  });
}
