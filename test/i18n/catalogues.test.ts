/**
 * The catalogues (locales/*.json) are complete: every language has exactly the English keys,
 * every message is valid ICU with the same arguments as the English one, and every key a
 * view or a route names exists.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IntlMessageFormat } from 'intl-messageformat';
import { catalogueOf, LOCALES, localesDir } from '../../src/i18n/catalogues.js';
import { viewsDir } from '../../src/views/render.js';

const english = catalogueOf('en');

/** The argument names of an ICU message ({name}, {name, plural, …}), sorted. */
function argumentsOf(message: string): string[] {
  const names = new Set<string>();
  const walk = (elements: unknown[]) => {
    for (const element of elements as { type: number; value?: unknown; options?: Record<string, { value: unknown[] }> }[]) {
      if (element.type !== 0 && element.type !== 7 && typeof element.value === 'string') names.add(element.value);
      for (const option of Object.values(element.options ?? {})) walk(option.value);
    }
  };
  walk(new IntlMessageFormat(message, 'en').getAst());
  return [...names].sort();
}

function filesUnder(dir: string, ending: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name), ending) : entry.name.endsWith(ending) ? [join(dir, entry.name)] : [],
  );
}

test('the shipped languages are the catalogue files', () => {
  const files = readdirSync(localesDir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => name.slice(0, -5))
    .sort();
  expect(files).toEqual([...LOCALES].sort());
});

test.each(LOCALES.filter((locale) => locale !== 'en'))('%s has every English key and no other', (locale) => {
  const keys = Object.keys(catalogueOf(locale));
  expect(Object.keys(english).filter((key) => !keys.includes(key))).toEqual([]);
  expect(keys.filter((key) => !(key in english))).toEqual([]);
});

test.each(LOCALES)('%s: every message is ICU with the arguments of the English one, and is translated', (locale) => {
  const catalogue = catalogueOf(locale);
  for (const [key, message] of Object.entries(catalogue)) {
    expect([key, argumentsOf(message)]).toEqual([key, argumentsOf(english[key]!)]);
    expect([key, message.trim().length > 0]).toEqual([key, true]);
  }
  if (locale !== 'en') {
    // A catalogue copied from English would pass the key checks: most sentences must differ.
    const same = Object.keys(english).filter((key) => catalogue[key] === english[key] && /[a-z]{4,} [a-z]{3,}/.test(english[key]!));
    expect(same).toEqual([]);
  }
});

test('every key a view or a route names is in the catalogues', () => {
  const used = new Set<string>();
  for (const file of filesUnder(viewsDir, '.ejs')) {
    for (const match of readFileSync(file, 'utf8').matchAll(/\bt\(\s*'([\w.-]+)'/g)) used.add(match[1]!);
  }
  for (const file of filesUnder(join(viewsDir, '../src'), '.ts')) {
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/\bkey: '([\w-]+\.[\w.-]+)'/g)) used.add(match[1]!);
    for (const match of source.matchAll(/new HostedPageError\(\s*\d+,\s*'([\w.]+)'/g)) used.add(`error.${match[1]}.title`).add(`error.${match[1]}.message`);
    for (const match of source.matchAll(/errorPages\.render\(\s*ctx,\s*\d+,\s*'([\w.]+)'/g))
      used.add(`error.${match[1]}.title`).add(`error.${match[1]}.message`);
    for (const match of source.matchAll(/\[\d{3}, '([\w.]+)'\]/g)) used.add(`error.${match[1]}.title`).add(`error.${match[1]}.message`);
    for (const match of source.matchAll(/i18n\.t\('([\w.-]+)'/g)) used.add(match[1]!);
  }
  expect(used.size).toBeGreaterThan(150);
  expect([...used].filter((key) => !(key in english))).toEqual([]);
});
