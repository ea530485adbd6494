/**
 * Prometheus metrics (text format at /metrics), in a registry of this app instance's own
 * (never prom-client's global default, so several apps in one process stay apart).
 * Labels are bounded: route templates, not paths; known grant types and methods only.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type Provider from 'oidc-provider';

const GRANT_TYPES = new Set([
  'authorization_code',
  'refresh_token',
  'client_credentials',
  'urn:ietf:params:oauth:grant-type:device_code',
  'urn:openid:params:grant-type:ciba',
  'urn:ietf:params:oauth:grant-type:token-exchange',
]);

export interface CacheStats {
  size: number;
  max: number;
  hits: number;
  misses: number;
}

export function createMetrics(options: { cacheStats?: () => CacheStats; defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'tarn_' });

  const requestLabels = ['method', 'route', 'status'] as const;
  const requests = new Counter({
    name: 'tarn_http_requests_total',
    help: 'HTTP requests by method, route template and status.',
    labelNames: requestLabels,
    registers: [registry],
  });
  const requestDuration = new Histogram({
    name: 'tarn_http_request_duration_seconds',
    help: 'HTTP request latency by method, route template and status.',
    labelNames: requestLabels,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const signIns = new Counter({
    name: 'tarn_sign_ins_total',
    help: 'Sign-in attempts on hosted pages by method and outcome.',
    labelNames: ['method', 'outcome'] as const,
    registers: [registry],
  });
  const events = new Counter({
    name: 'tarn_events_total',
    help: "Events of the pools' audit logs by type (the audit action) and outcome (docs/events.md).",
    labelNames: ['type', 'outcome'] as const,
    registers: [registry],
  });
  const tokenRequests = new Counter({
    name: 'tarn_token_requests_total',
    help: 'Token endpoint grants by grant type and outcome.',
    labelNames: ['grant_type', 'outcome'] as const,
    registers: [registry],
  });
  const tokensIssued = new Counter({ name: 'tarn_tokens_issued_total', help: 'Tokens issued by type.', labelNames: ['type'] as const, registers: [registry] });
  const rateLimited = new Counter({
    name: 'tarn_rate_limited_total',
    help: 'Requests refused with 429 by limiter.',
    labelNames: ['limiter'] as const,
    registers: [registry],
  });
  const auditFailures = new Counter({
    name: 'tarn_audit_write_failures_total',
    help: 'Audit events that could not be written.',
    registers: [registry],
  });
  const backchannelLogouts = new Counter({
    name: 'tarn_backchannel_logout_deliveries_total',
    help: 'Back-channel logout tokens sent to relying parties, by outcome (delivered, failed).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const webhookDeliveries = new Counter({
    name: 'tarn_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome: delivered, failed (to be retried), gave_up (no retry left).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const webhooksDisabled = new Counter({
    name: 'tarn_webhooks_disabled_total',
    help: 'Webhooks Tarn disabled because every attempt failed for too long.',
    registers: [registry],
  });
  if (options.cacheStats) {
    const stats = options.cacheStats;
    new Gauge({
      name: 'tarn_provider_cache_size',
      help: 'Providers in the cache.',
      registers: [registry],
      collect() {
        this.set(stats().size);
      },
    });
    new Gauge({
      name: 'tarn_provider_cache_max',
      help: 'Capacity of the provider cache.',
      registers: [registry],
      collect() {
        this.set(stats().max);
      },
    });
    new Gauge({
      name: 'tarn_provider_cache_hits',
      help: 'Provider cache hits since start.',
      registers: [registry],
      collect() {
        this.set(stats().hits);
      },
    });
    new Gauge({
      name: 'tarn_provider_cache_misses',
      help: 'Provider cache misses (builds) since start.',
      registers: [registry],
      collect() {
        this.set(stats().misses);
      },
    });
  }

  function grantTypeOf(ctx: unknown): string {
    const grant = (ctx as { oidc?: { params?: { grant_type?: unknown } } }).oidc?.params?.grant_type;
    return typeof grant === 'string' && GRANT_TYPES.has(grant) ? grant : 'other';
  }

  return {
    registry,
    observeRequest(method: string, route: string, status: number, seconds: number): void {
      const labels = { method, route, status: String(status) };
      requests.inc(labels);
      requestDuration.observe(labels, seconds);
    },
    signIn(method: string, outcome: 'success' | 'failure'): void {
      signIns.inc({ method, outcome });
    },
    /** One event of a pool (`count` of them: an import's batch; audit.service.ts); types come from code and route templates, never from input. */
    event(type: string, outcome: 'success' | 'failure', count = 1): void {
      events.inc({ type, outcome }, count);
    },
    rateLimited(limiter: string): void {
      rateLimited.inc({ limiter });
    },
    auditFailed(): void {
      auditFailures.inc();
    },
    backchannelLogout(outcome: 'delivered' | 'failed'): void {
      backchannelLogouts.inc({ outcome });
    },
    webhookDelivery(outcome: 'delivered' | 'failed' | 'gave_up'): void {
      webhookDeliveries.inc({ outcome });
    },
    webhookDisabled(): void {
      webhooksDisabled.inc();
    },
    /** Hooks a freshly built provider's events (called by the registry for each build). */
    instrumentProvider(provider: Provider): void {
      provider.on('grant.success', (ctx) => tokenRequests.inc({ grant_type: grantTypeOf(ctx), outcome: 'success' }));
      provider.on('grant.error', (ctx) => tokenRequests.inc({ grant_type: grantTypeOf(ctx), outcome: 'failure' }));
      provider.on('access_token.issued', () => tokensIssued.inc({ type: 'access_token' }));
      provider.on('client_credentials.issued', () => tokensIssued.inc({ type: 'client_credentials' }));
      provider.on('refresh_token.saved', () => tokensIssued.inc({ type: 'refresh_token' }));
      provider.on('authorization_code.saved', () => tokensIssued.inc({ type: 'authorization_code' }));
    },
    async render(): Promise<{ contentType: string; body: string }> {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
