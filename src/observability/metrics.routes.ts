/**
 * GET /metrics: Prometheus text format, as the deployment allows (config.ts metricsAccess):
 * - `token`: needs `Authorization: Bearer <token>` (compared in constant time);
 * - `open`: anyone (development by default, or METRICS_TOKEN=open);
 * - `off`: not served at all (production without METRICS_TOKEN), a 404 like any unknown path.
 */
import type { Context } from 'koa';
import type { Next } from '../http/state.js';
import type { MetricsAccess } from '../config.js';
import { safeEqual } from '../crypto/secrets.js';
import { problems } from '../http/problem.js';
import type { Metrics } from './metrics.js';

export function serveMetrics(metrics: Metrics, access: MetricsAccess) {
  return async function metricsEndpoint(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== '/metrics' || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    if (access.mode === 'off') return next();
    if (access.mode === 'token') {
      const [scheme = '', value = ''] = ctx.get('authorization').split(/\s+/, 2);
      if (!/^bearer$/i.test(scheme) || !safeEqual(value, access.token)) throw problems.unauthorized('Send the metrics token (Bearer).');
    }
    const { contentType, body } = await metrics.render();
    ctx.set('Cache-Control', 'no-store');
    ctx.type = contentType;
    ctx.body = body;
  };
}
