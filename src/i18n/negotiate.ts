/**
 * Which language a page or mail speaks, first match wins:
 *   1. `ui_locales` of the authorization (or logout, device) request, space-separated, in order;
 *   2. the user's `locale` claim, when the user is known;
 *   3. the browser's Accept-Language, by quality;
 *   4. the pool's default language;
 *   5. English.
 * A tag matches a shipped language exactly (case-insensitive) or by its language part
 * ("de-AT" → de, "zh-Hans-SG" → zh-CN); Chinese in traditional script (zh-Hant, zh-TW,
 * zh-HK, zh-MO) is not given the simplified catalogue.
 */
import { DEFAULT_LOCALE, LOCALES, type Locale } from './catalogues.js';

const TRADITIONAL_CHINESE = /^zh-(hant|tw|hk|mo)\b/i;

export function matchLocale(tag: string): Locale | undefined {
  const wanted = tag.trim().replace(/_/g, '-');
  if (!wanted || wanted.length > 35) return undefined;
  const exact = LOCALES.find((locale) => locale.toLowerCase() === wanted.toLowerCase());
  if (exact) return exact;
  const language = wanted.split('-')[0]!.toLowerCase();
  if (language === 'zh') return TRADITIONAL_CHINESE.test(wanted) ? undefined : 'zh-CN';
  return LOCALES.find((locale) => locale === language);
}

/** The tags of an Accept-Language header, best first (q=0 means "not this one"). */
export function acceptedTags(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .slice(0, 1000)
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((param) => /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(param)?.[1]).find((value) => value !== undefined);
      return { tag: tag.trim(), q: q === undefined ? 1 : Number(q), index };
    })
    .filter((item) => item.tag && item.tag !== '*' && item.q > 0 && !Number.isNaN(item.q))
    .sort((a, b) => b.q - a.q || a.index - b.index)
    .map((item) => item.tag);
}

export interface LocaleSources {
  uiLocales?: unknown;
  userLocale?: unknown;
  acceptLanguage?: string | undefined;
  poolDefault?: string | null | undefined;
}

export function chooseLocale(sources: LocaleSources): Locale {
  const candidates = [
    ...(typeof sources.uiLocales === 'string' ? sources.uiLocales.split(/\s+/) : []),
    ...(typeof sources.userLocale === 'string' ? [sources.userLocale] : []),
    ...acceptedTags(sources.acceptLanguage),
    ...(sources.poolDefault ? [sources.poolDefault] : []),
  ];
  for (const tag of candidates) {
    const found = matchLocale(tag);
    if (found) return found;
  }
  return DEFAULT_LOCALE;
}
