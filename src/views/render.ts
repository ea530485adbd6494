/**
 * Hosted pages: ejs templates in views/, branded with the pool's name, logo, favicon,
 * colours (its branding.css) and per-language texts (docs/adr/0401).
 * ejs escapes every `<%= %>` value; nothing a user typed is ever output raw.
 */
import ejs from 'ejs';
import { fileURLToPath } from 'node:url';
import { assetPath, pickText } from '../branding/branding.service.js';
import type { PoolRow } from '../db/tables.js';

export const viewsDir = fileURLToPath(new URL('../../views/', import.meta.url));

export interface Branding {
  id: string;
  name: string;
  logoUrl: string | null;
  faviconUrl: string | null;
  faviconType: string | null;
  tagColor: string | null;
  /** The pool's stylesheet, its version in the query so that a change is seen at once. */
  cssUrl: string;
  scheme: 'light' | 'dark';
  /** Per-language texts, already chosen for the page's language. */
  title: string | undefined;
  signInSubtitle: string | undefined;
  footer: string | undefined;
  termsUrl: string | undefined;
  privacyUrl: string | undefined;
}

export type BrandedPool = Pick<PoolRow, 'id' | 'name' | 'logo_url' | 'tag_color'> & Partial<Pick<PoolRow, 'branding' | 'version'>>;

export interface PageRenderer {
  render(view: string, pool: BrandedPool | undefined, locals?: Record<string, unknown>): Promise<string>;
}

/** What views see of a pool, texts chosen for `language`. */
export function brandingOf(pool: BrandedPool, language = 'en'): Branding {
  const branding = pool.branding ?? {};
  return {
    id: pool.id,
    name: pool.name,
    logoUrl: branding.logo ? assetPath(pool.id, 'logo', branding.logo) : pool.logo_url,
    faviconUrl: branding.favicon ? assetPath(pool.id, 'favicon', branding.favicon) : null,
    faviconType: branding.favicon?.mediaType ?? null,
    tagColor: pool.tag_color,
    cssUrl: `/pools/${pool.id}/branding.css${pool.version === undefined ? '' : `?v=${pool.version}`}`,
    scheme: branding.scheme ?? 'light',
    title: pickText(branding.title, language),
    signInSubtitle: pickText(branding.signInSubtitle, language),
    footer: pickText(branding.footer, language),
    termsUrl: pickText(branding.termsUrl, language),
    privacyUrl: pickText(branding.privacyUrl, language),
  };
}

export function createPageRenderer(options: { cache: boolean }): PageRenderer {
  return {
    async render(view, pool, locals = {}) {
      const language = typeof locals.lang === 'string' ? locals.lang : 'en';
      const branding: Branding | undefined = pool && brandingOf(pool, language);
      return ejs.renderFile(`${viewsDir}${view}.ejs`, { pool: branding, title: undefined, ...locals }, { cache: options.cache, root: viewsDir, async: true });
    },
  };
}
