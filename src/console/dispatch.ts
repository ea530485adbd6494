/**
 * The console calls the admin API in process, with the administrator's own access token:
 * the same authentication, role checks, validation and audit as any other caller of the API,
 * without a network round trip (and without the console ever holding the admin token).
 * The request carries the browser's address and request id, so the audit trail names them.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type Koa from 'koa';
import type { Context, Middleware } from 'koa';
import { toAppError } from '../http/errors.js';
import type { Logger } from '../log.js';

export interface AdminAnswer {
  status: number;
  // The admin API's JSON answer or problem document.
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON whose shape the admin API's schemas describe
}

export type AdminCaller = (parent: Context, token: string, method: string, path: string, body?: unknown) => Promise<AdminAnswer>;

export function createAdminDispatcher(app: () => Koa, middleware: Middleware, log: Logger): AdminCaller {
  return async function callAdmin(parent, token, method, path, body) {
    const socket = new Socket();
    const req = new IncomingMessage(socket);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    req.method = method;
    req.url = `/admin${path}`;
    req.headers = {
      host: parent.host,
      authorization: `Bearer ${token}`,
      ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
    };
    if (payload) req.push(payload);
    req.push(null);
    const res = new ServerResponse(req);
    const ctx = app().createContext(req, res);
    ctx.request.ip = parent.ip;
    ctx.state.requestId = parent.state.requestId;
    try {
      await middleware(ctx, async () => {});
      if (ctx.status === 404 && ctx.body === undefined) return { status: 404, body: { title: 'Not found', status: 404 } };
      return { status: ctx.status, body: ctx.body };
    } catch (error) {
      const appError = toAppError(error);
      if (appError.status >= 500) log.error({ err: error, path, method }, 'console call to the admin API failed');
      return { status: appError.status, body: appError.toProblem(`/admin${path}`) };
    } finally {
      socket.destroy();
    }
  };
}
