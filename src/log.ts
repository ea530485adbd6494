/** Structured JSON logs. Secrets never go in: callers log ids, never values; the redact list is a second net. */
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** `destination`: where lines go (stdout by default; tests pass a stream to read them). */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options: LoggerOptions<never> = {
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
        // not '*.code': err.code (ECONNREFUSED, 57P01…) is what an operator needs
        'code',
        'nextSecret',
        '*.nextSecret',
        'access_token',
        '*.access_token',
        'refresh_token',
        '*.refresh_token',
        'id_token',
        '*.id_token',
        'client_secret',
        '*.client_secret',
        'req.headers.authorization',
        'req.headers.cookie',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
