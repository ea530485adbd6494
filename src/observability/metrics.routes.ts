/**
 * GET /metrics: Prometheus text format. Open unless METRICS_TOKEN is set, then it needs
 * `Authorization: Bearer <token>` (compared in constant time): counts and latencies are
 * not secrets, but an operator may not want them public.
 */
import type { Context, Next } from 'koa';
import { safeEqual } from '../crypto/secrets.js';
import { problems } from '../http/problem.js';
import type { Metrics } from './metrics.js';

export function serveMetrics(metrics: Metrics, token: string | undefined) {
  return async function metricsEndpoint(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== '/metrics' || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    if (token) {
      const [scheme = '', value = ''] = ctx.get('authorization').split(/\s+/, 2);
      if (!/^bearer$/i.test(scheme) || !safeEqual(value, token)) throw problems.unauthorized('Send the metrics token (Bearer).');
    }
    const { contentType, body } = await metrics.render();
    ctx.set('Cache-Control', 'no-store');
    ctx.type = contentType;
    ctx.body = body;
  };
}
