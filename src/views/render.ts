/**
 * Hosted pages: ejs templates in views/, branded with the pool's name, logo, favicon, colours
 * (its branding.css) and per-language texts (docs/adr/0401), and
 * written in the page's language (src/i18n): every text comes from the catalogues through
 * `t(key, values)`. ejs escapes every `<%= %>` value; nothing a user typed is ever output raw.
 * Messages of a page (a wrong code, a field in error) travel as PageMessage, a key and its
 * values, and are worded in the page's language here; one tied to a field marks that input
 * (`aria-invalid`, `aria-describedby`) and is shown beneath it.
 */
import ejs from 'ejs';
import { fileURLToPath } from 'node:url';
import { assetPath, pickText } from '../branding/branding.service.js';
import type { PoolRow } from '../db/tables.js';
import { DEFAULT_LOCALE, type Locale } from '../i18n/catalogues.js';
import { matchLocale } from '../i18n/negotiate.js';
import { translatorFor, type MessageValues, type Translator } from '../i18n/translator.js';

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

/** A message of a page: a catalogue key, its values, and the form field it is about (if any). */
export interface PageMessage {
  key: string;
  values?: PageMessageValues;
  field?: string;
}

/** Values of a page message; `until` (a Date) becomes `when` ("in 12 minutes") and `time` (the date and time in words). */
export type PageMessageValues = MessageValues & { until?: Date };

export type BrandedPool = Pick<PoolRow, 'id' | 'name' | 'logo_url' | 'tag_color'> &
  Partial<Pick<PoolRow, 'branding' | 'version'>> & { default_locale?: string | null };
/** The pool a page is branded with (kept under its former name as well). */
export type PagePool = BrandedPool;

export interface PageRenderer {
  /** `locals.locale`: the page's language (i18n/request-locale.ts localeOf); without it the pool's default, then English. */
  render(view: string, pool: BrandedPool | undefined, locals?: Record<string, unknown>): Promise<string>;
}

export function wordMessage(i18n: Translator, message: PageMessage | string): string {
  if (typeof message === 'string') return i18n.t(message);
  const values: MessageValues = { ...message.values };
  const until = message.values?.until;
  if (until instanceof Date) {
    delete values.until;
    values.when = i18n.relative(until);
    values.time = i18n.dateTime(until);
  }
  return i18n.t(message.key, values);
}

/** The id of a field's input ("profile.given_name" → "profile-given_name"). */
export const inputIdOf = (field: string) => field.replace(/[^\w-]/g, '-');

/** The helpers every view has: t, the page's messages, and the attributes of a field in error. */
function pageHelpers(i18n: Translator, locals: Record<string, unknown>) {
  const listed = Array.isArray(locals.errors) ? (locals.errors as (PageMessage | string)[]) : [];
  const single = locals.error ? [locals.error as PageMessage | string] : [];
  const messages = [...listed, ...single].map((item) => (typeof item === 'string' ? { key: item } : item));
  const about = (field: string) => messages.filter((item) => item.field === field);
  return {
    t: i18n.t,
    i18n,
    lang: i18n.locale,
    dir: i18n.dir,
    /** Messages not about one field, worded. */
    generalErrors: () => messages.filter((item) => !item.field).map((item) => wordMessage(i18n, item)),
    /**
     * The attributes of a field's input: ` aria-invalid="true"` and its message first in
     * aria-describedby when it is in error; `describedBy` (ids of hints) always.
     */
    invalid: (field: string, ...describedBy: string[]) => {
      const inError = about(field).length > 0;
      const ids = [...(inError ? [`${inputIdOf(field)}-error`] : []), ...describedBy];
      return `${inError ? ' aria-invalid="true"' : ''}${ids.length ? ` aria-describedby="${ids.join(' ')}"` : ''}`;
    },
    /** The messages about one field, as the paragraph its input points to. */
    fieldError: (field: string) => {
      const found = about(field);
      if (!found.length) return '';
      const text = found.map((item) => ejs.escapeXML(wordMessage(i18n, item))).join(' ');
      return `<p class="error field-error" role="alert" id="${inputIdOf(field)}-error">${text}</p>`;
    },
    hasErrors: messages.length > 0,
  };
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
      const locale: Locale = (locals.locale as Locale | undefined) ?? matchLocale(pool?.default_locale ?? '') ?? DEFAULT_LOCALE;
      const branding: Branding | undefined = pool && brandingOf(pool, locale);
      const i18n = translatorFor(locale);
      return ejs.renderFile(
        `${viewsDir}${view}.ejs`,
        { pool: branding, title: undefined, ...locals, ...pageHelpers(i18n, locals), locale },
        { cache: options.cache, root: viewsDir, async: true },
      );
    },
  };
}
