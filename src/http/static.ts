/** The few static files hosted pages need (the stylesheet, the passkey, repost and focus scripts), read once and served from memory. */
import { readFileSync } from 'node:fs';
import type { Context } from 'koa';
import type { Next } from './state.js';
import { viewsDir } from '../views/render.js';

const FILES: Record<string, { type: string; file: string }> = {
  '/assets/tarn.css': { type: 'text/css', file: 'assets/tarn.css' },
  '/assets/passkey.js': { type: 'text/javascript', file: 'assets/passkey.js' },
  '/assets/repost.js': { type: 'text/javascript', file: 'assets/repost.js' },
  '/assets/focus-error.js': { type: 'text/javascript', file: 'assets/focus-error.js' },
  '/assets/console.css': { type: 'text/css', file: 'assets/console.css' },
  '/assets/console.js': { type: 'text/javascript', file: 'assets/console.js' },
};

export function staticAssets() {
  const loaded = new Map(Object.entries(FILES).map(([path, { type, file }]) => [path, { type, body: readFileSync(`${viewsDir}${file}`) }]));
  return async function serveStatic(ctx: Context, next: Next): Promise<void> {
    const asset = ctx.method === 'GET' || ctx.method === 'HEAD' ? loaded.get(ctx.path) : undefined;
    if (!asset) return next();
    ctx.type = asset.type;
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = asset.body;
  };
}
