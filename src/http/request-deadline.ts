/**
 * How long a client may take to send a whole request (REQUEST_TIMEOUT_MS): Node's own
 * server.requestTimeout does this for every request alike, so one slow upload of a million
 * users would be cut like a slow-loris attack. This takes its place (main.ts turns Node's off;
 * headersTimeout still bounds the headers): every request whose body has not fully arrived
 * by the deadline is answered 408 and its connection closed, whether or not the application
 * read the body, unless its route exempted it deliberately (exemptFromRequestDeadline) once
 * the caller was authenticated. Only streaming admin routes do (the user import); a request
 * that is complete (every GET, the export included) is never cut however long its answer takes.
 *
 * No timer per request: one sweep, a few times per deadline, looks at the requests still
 * arriving (a set entry per request on the hot path, nothing more).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, Middleware } from 'koa';
import { AppError } from './problem.js';
import type { Next } from './state.js';

interface Arriving {
  req: IncomingMessage;
  res: ServerResponse;
  deadline: number;
}

const exempt = new WeakSet<IncomingMessage>();

/** Lifts the deadline for this request: its body may take as long as it takes. For authenticated streaming routes only. */
export function exemptFromRequestDeadline(req: IncomingMessage): void {
  exempt.add(req);
}

const TIMED_OUT = JSON.stringify(
  new AppError({ status: 408, type: 'request-timeout', title: 'Request Timeout', detail: 'The request was not received in time.' }).toProblem(),
);

function cut({ req, res }: Arriving): void {
  const socket = req.socket;
  if (!res.headersSent && !res.writableEnded) {
    res.writeHead(408, { 'content-type': 'application/problem+json', connection: 'close', 'content-length': Buffer.byteLength(TIMED_OUT) });
    res.end(TIMED_OUT);
    res.once('finish', () => socket.destroy());
    // A client that does not read either: the connection goes anyway.
    setTimeout(() => socket.destroy(), 1000).unref();
  } else socket.destroy();
}

export interface RequestDeadline {
  middleware: Middleware;
  stop(): void;
}

export function requestDeadline(timeoutMs: number): RequestDeadline {
  const arriving = new Set<Arriving>();
  let sweeper: NodeJS.Timeout | undefined;

  function sweep(): void {
    const now = Date.now();
    for (const entry of arriving) {
      if (entry.req.complete || entry.req.socket.destroyed || exempt.has(entry.req)) arriving.delete(entry);
      else if (now >= entry.deadline) {
        arriving.delete(entry);
        cut(entry);
      }
    }
    if (arriving.size === 0) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  }

  return {
    middleware(ctx: Context, next: Next) {
      if (!ctx.req.complete) {
        arriving.add({ req: ctx.req, res: ctx.res, deadline: Date.now() + timeoutMs });
        if (!sweeper) {
          sweeper = setInterval(sweep, Math.min(1000, Math.max(20, Math.floor(timeoutMs / 10))));
          sweeper.unref();
        }
      }
      return next();
    },
    stop() {
      clearInterval(sweeper);
      sweeper = undefined;
      arriving.clear();
    },
  };
}
