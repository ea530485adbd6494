/**
 * Messages of one language: `t(key, values)` formats the catalogue's ICU message
 * (intl-messageformat: plurals, selects, numbers in the language's rules), and the dates
 * and durations hosted pages and mails show ("in 10 minutes", "3 December 2026, 14:05 UTC"),
 * never a raw GMT string. A key missing in a language falls back to English, then to the key
 * itself (the catalogue test keeps that from happening).
 */
import { IntlMessageFormat } from 'intl-messageformat';
import { catalogueOf, DEFAULT_LOCALE, directionOf, type Locale } from './catalogues.js';

export type MessageValues = Record<string, string | number | Date>;

export interface Translator {
  locale: Locale;
  dir: 'ltr' | 'rtl';
  t(key: string, values?: MessageValues): string;
  /** "in 10 minutes", "in 2 hours", "tomorrow": how far `at` is from `now`, in words. */
  relative(at: Date, now?: Date): string;
  /** "in 10 minutes" for a number of minutes ahead. */
  inMinutes(minutes: number): string;
  /** A date and time in the language's form, in UTC and saying so. */
  dateTime(at: Date): string;
}

const compiled = new Map<string, IntlMessageFormat>();
const translators = new Map<Locale, Translator>();

function format(locale: Locale, key: string, values: MessageValues | undefined): string {
  const id = `${locale}\u0000${key}`;
  let message = compiled.get(id);
  if (!message) {
    const source = catalogueOf(locale)[key] ?? (locale === DEFAULT_LOCALE ? undefined : catalogueOf(DEFAULT_LOCALE)[key]);
    if (source === undefined) return key;
    message = new IntlMessageFormat(source, locale);
    compiled.set(id, message);
  }
  return String(message.format(values));
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
];

export function translatorFor(locale: Locale): Translator {
  let translator = translators.get(locale);
  if (translator) return translator;
  const relativeFormat = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  const dateFormat = new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' });
  const inMinutes = (minutes: number) => {
    for (const [unit, ms] of UNITS) {
      const amount = (minutes * 60_000) / ms;
      if (amount >= 1 && Number.isInteger(amount)) return relativeFormat.format(amount, unit);
    }
    return relativeFormat.format(Math.max(1, Math.round(minutes)), 'minute');
  };
  translator = {
    locale,
    dir: directionOf(locale),
    t: (key, values) => format(locale, key, values),
    inMinutes,
    relative(at, now = new Date()) {
      const minutes = Math.max(1, Math.round((at.getTime() - now.getTime()) / 60_000));
      if (minutes < 120) return relativeFormat.format(minutes, 'minute');
      if (minutes < 48 * 60) return relativeFormat.format(Math.round(minutes / 60), 'hour');
      return relativeFormat.format(Math.round(minutes / 1440), 'day');
    },
    dateTime: (at) => `${dateFormat.format(at)} UTC`,
  };
  translators.set(locale, translator);
  return translator;
}

/** English, for texts that are not shown to a person in a chosen language (problem+json, logs). */
export const english = (key: string, values?: MessageValues) => translatorFor(DEFAULT_LOCALE).t(key, values);
