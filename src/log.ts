/** Structured JSON logs. Secrets never go in: callers log ids, never values; the redact list is a second net. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'tarn' },
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
