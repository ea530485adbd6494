/**
 * A database fault inside oidc-provider (its adapter or account lookup failed) would be a
 * 500 server_error; it is a 503 with Retry-After instead, so clients and load balancers
 * know to retry (ADR 0800), unless the database refused a value the request brought (a data
 * error): that is the sender's 400 invalid_request, which retrying would not change.
 * The provider reports such faults through its `server_error` event, which
 * `rememberProviderFault` records on the request.
 */
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { mapDatabaseError } from '../db/errors.js';

export function rememberProviderFault(provider: Provider): void {
  provider.on('server_error', (ctx: Context, error: unknown) => {
    ctx.state.providerFault = error;
  });
}

/** After the provider has answered: a database fault it met becomes a 503 to retry. */
export function answerProviderFault(ctx: Context): void {
  const fault = ctx.state.providerFault as unknown;
  const mapped = fault === undefined || ctx.status < 500 ? undefined : mapDatabaseError(fault);
  if (!mapped) return;
  const body = ctx.body as { error?: unknown } | undefined;
  const json = body && typeof body === 'object' && !Buffer.isBuffer(body) && body.error === 'server_error';
  if (mapped.status < 500) {
    ctx.status = 400;
    if (json) ctx.body = { error: 'invalid_request', error_description: mapped.detail };
    return;
  }
  ctx.status = 503;
  ctx.set('Retry-After', '2');
  // RFC 6749 §4.1.2.1: the server is temporarily unable to handle the request.
  if (json) ctx.body = { error: 'temporarily_unavailable', error_description: 'The service is temporarily unavailable. Try again shortly.' };
}
