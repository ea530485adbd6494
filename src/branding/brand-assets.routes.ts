/**
 * GET /pools/{pool}/brand/{kind}-{hash}.{ext}: the uploaded logo or favicon. The URL names
 * the content's SHA-256, so the answer never changes and is cached for a year (immutable);
 * an old URL after a new upload is a 404. An SVG is served with its own policy
 * (`default-src 'none'`): opened directly, it can neither run a script nor load anything.
 */
import type Router from '@koa/router';
import { HostedPageError } from '../http/problem.js';
import { entryOf } from '../oidc/interactions/interactions.routes.js';
import type { BrandingService } from './branding.service.js';
import { ASSET_EXTENSIONS } from './branding.service.js';

const FILE = /^(logo|favicon)-([0-9a-f]{32})\.(png|webp|svg)$/;
export const SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'";

export function registerBrandAssetRoutes(router: Router, deps: { branding: BrandingService }): void {
  router.get('/brand/:file', async function serveBrandAsset(ctx) {
    const match = FILE.exec(ctx.params.file ?? '');
    const notFound = () => new HostedPageError(404, 'noFile');
    if (!match) throw notFound();
    const [, kind, hash, extension] = match as unknown as [string, 'logo' | 'favicon', string, string];
    const asset = await deps.branding.findAsset(entryOf(ctx).pool.id, kind, hash);
    if (!asset || ASSET_EXTENSIONS[asset.mediaType] !== extension) throw notFound();
    ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
    const etag = `"${asset.sha256}"`;
    ctx.set('ETag', etag);
    ctx.set('Cross-Origin-Resource-Policy', 'cross-origin');
    if (asset.mediaType === 'image/svg+xml') ctx.set('Content-Security-Policy', SVG_POLICY);
    ctx.type = asset.mediaType;
    // (compared here: the URL already names the content, so the tag is all there is to check)
    const asked = ctx.get('If-None-Match');
    if (asked.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag)) {
      ctx.status = 304;
      return;
    }
    ctx.body = asset.content;
  });
}
