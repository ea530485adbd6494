/**
 * The languages of hosted pages and mails: one flat JSON catalogue per language under
 * locales/, keyed "page.part", each value an ICU message (plurals, selects, numbers). Every
 * catalogue has exactly the keys of the English one (test/unit/catalogues.test.ts).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const LOCALES = ['en', 'de', 'fr', 'es', 'zh-CN', 'ja'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'en';

export type Catalogue = Readonly<Record<string, string>>;

export const localesDir = fileURLToPath(new URL('../../locales/', import.meta.url));

const loaded = new Map<Locale, Catalogue>();

export function catalogueOf(locale: Locale): Catalogue {
  let catalogue = loaded.get(locale);
  if (!catalogue) {
    catalogue = JSON.parse(readFileSync(`${localesDir}${locale}.json`, 'utf8')) as Catalogue;
    loaded.set(locale, catalogue);
  }
  return catalogue;
}

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/** Scripts written right to left (none of the shipped languages yet; `dir` follows the language). */
const RIGHT_TO_LEFT = new Set(['ar', 'he', 'fa', 'ur', 'ps', 'yi', 'dv']);

export function directionOf(locale: string): 'ltr' | 'rtl' {
  return RIGHT_TO_LEFT.has(locale.split('-')[0]!.toLowerCase()) ? 'rtl' : 'ltr';
}
