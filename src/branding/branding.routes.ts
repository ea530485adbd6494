/** /admin/pools/{pool}/branding: the uploaded logo and favicon (colours and texts are fields of the pool). */
import { poolRoute } from '../admin/pool-scope.js';
import { changeRecorder } from '../audit/audit.middleware.js';
import { assetParams, brandingResponse, MAX_ASSET_BYTES, uploadAssetSchema } from './branding.schemas.js';
import type { BrandingService } from './branding.service.js';

export function brandingRoutes(branding: BrandingService) {
  return [
    poolRoute(
      { method: 'get', path: '/branding', summary: "Get the pool's branding", status: 200, response: brandingResponse },
      async function getBranding(ctx) {
        return branding.getBranding(ctx.state.pool);
      },
    ),
    poolRoute(
      {
        method: 'put',
        path: '/branding/:kind',
        summary: 'Upload the logo or favicon (PNG, WebP or SVG, base64)',
        description: `At most ${MAX_ASSET_BYTES / 1024} KiB. An SVG is rebuilt from an allow-list of drawing elements: scripts, event handlers, foreignObject, style elements and references outside the file are removed.`,
        params: assetParams,
        body: uploadAssetSchema,
        bodyLimitBytes: 2 * MAX_ASSET_BYTES,
        status: 200,
        response: brandingResponse,
      },
      async function uploadBrandAsset(ctx, { params, body }) {
        return branding.uploadAsset(ctx.state.pool, params.kind, body, changeRecorder(ctx, 200));
      },
    ),
    poolRoute(
      { method: 'delete', path: '/branding/:kind', summary: 'Remove the logo or favicon', params: assetParams, status: 204 },
      async function deleteBrandAsset(ctx, { params }) {
        await branding.deleteAsset(ctx.state.pool, params.kind, changeRecorder(ctx, 204));
      },
    ),
  ];
}
