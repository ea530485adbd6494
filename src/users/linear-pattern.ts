/**
 * The regular-expression engine for patterns that pool administrators write (the `pattern`
 * and `patternProperties` of profile and metadata schemas). JavaScript's RegExp backtracks:
 * `^(a+)+$` against 32 characters keeps the event loop, and so every pool, busy for
 * minutes. RE2 (here its pure-JavaScript port, re2js) matches in time linear in the input,
 * and refuses what cannot be matched that way (backreferences, lookaround), so such a
 * schema is refused when it is saved (docs/adr/0303-linear-time-schema-patterns.md).
 */
import type { CodeOptions } from 'ajv';
import { RE2JS } from 're2js';

/** Ajv's `code.regExp`: ECMAScript pattern syntax translated to RE2's, then compiled by RE2. */
export const linearPattern: NonNullable<CodeOptions['regExp']> = Object.assign(
  (pattern: string, _flags: string) => {
    // Ajv passes "u" (unicodeRegExp): RE2 always matches by code point, so nothing to translate.
    let compiled: RE2JS;
    try {
      compiled = RE2JS.compile(RE2JS.translateRegExp(pattern));
    } catch (error) {
      throw new Error(
        `the pattern "${pattern}" cannot be used (${(error as Error).message}); patterns are matched in linear time, without backreferences or lookaround`,
        { cause: error },
      );
    }
    // Ajv shares compiled patterns by their toString(): it must name the pattern.
    return { test: (input: string) => compiled.test(input), toString: () => `/${pattern}/${_flags}` };
  },
  // Only read when Ajv generates standalone code, which Tarn never does.
  { code: 'require("re2js").RE2JS' },
);
