/**
 * Hosted pages: ejs templates in views/, branded with the pool's name, logo and colour.
 * ejs escapes every `<%= %>` value; nothing a user typed is ever output raw.
 */
import ejs from 'ejs';
import { fileURLToPath } from 'node:url';
import type { PoolRow } from '../db/tables.js';

export const viewsDir = fileURLToPath(new URL('../../views/', import.meta.url));

export interface Branding {
  id: string;
  name: string;
  logoUrl: string | null;
  tagColor: string | null;
}

export interface PageRenderer {
  render(view: string, pool: Pick<PoolRow, 'id' | 'name' | 'logo_url' | 'tag_color'> | undefined, locals?: Record<string, unknown>): Promise<string>;
}

export function createPageRenderer(options: { cache: boolean }): PageRenderer {
  return {
    async render(view, pool, locals = {}) {
      const branding: Branding | undefined = pool && { id: pool.id, name: pool.name, logoUrl: pool.logo_url, tagColor: pool.tag_color };
      return ejs.renderFile(`${viewsDir}${view}.ejs`, { pool: branding, title: undefined, ...locals }, { cache: options.cache, root: viewsDir, async: true });
    },
  };
}
