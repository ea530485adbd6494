/**
 * The pool's user schemas (JSON Schema, draft 2020-12 subset that Ajv 8 supports):
 * - `profileSchema` (what the user may edit) and `metadataSchema` (admin-only) are checked
 *   on every write of profile or metadata: admin create/patch, registration, /me.
 * - A pool without a profileSchema gets DEFAULT_PROFILE_SCHEMA: the OIDC standard claims
 *   (OpenID Connect Core §5.1), unknown attributes refused. No metadataSchema: any object.
 * - A schema set on a pool must compile; a broken one is refused when it is set, never
 *   discovered at the first user write.
 * - Errors name the field as the user sent it (`profile.given_name`), one entry per problem.
 * - Patterns run on a linear-time engine (linear-pattern.ts): a schema whose pattern needs
 *   backtracking (backreferences, lookaround) is refused when it is set.
 * Compiled validators are cached per schema text in a bounded LRU owned by the instance.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { LRUCache } from 'lru-cache';
import { fieldError, type FieldError } from '../http/problem.js';
import { linearPattern } from './linear-pattern.js';

type FormatsPlugin = (ajv: Ajv) => Ajv;
const addFormats: FormatsPlugin = ((addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? addFormatsModule) as FormatsPlugin;

const text = (maxLength = 256) => ({ type: 'string', maxLength });

/** OIDC standard claims a user may hold in their profile (Core §5.1; `sub`, `email*`, `updated_at` are Tarn's). */
export const DEFAULT_PROFILE_SCHEMA: Record<string, unknown> = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: text(),
    given_name: text(),
    family_name: text(),
    middle_name: text(),
    nickname: text(),
    preferred_username: text(),
    profile: { type: 'string', format: 'uri', maxLength: 2048 },
    picture: { type: 'string', format: 'uri', maxLength: 2048 },
    website: { type: 'string', format: 'uri', maxLength: 2048 },
    gender: text(64),
    // Core §5.1: YYYY-MM-DD, or YYYY alone when only the year is shared (0000 for the year withheld).
    birthdate: { type: 'string', pattern: '^(\\d{4}|\\d{4}-\\d{2}-\\d{2}|0000-\\d{2}-\\d{2})$' },
    zoneinfo: text(64),
    locale: { type: 'string', pattern: '^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$' },
    phone_number: { type: 'string', pattern: '^\\+?[0-9 ().-]{3,32}$' },
    address: {
      type: 'object',
      additionalProperties: false,
      properties: {
        formatted: text(1024),
        street_address: text(512),
        locality: text(),
        region: text(),
        postal_code: text(32),
        country: text(),
      },
    },
  },
};

export type SchemaField = 'profile' | 'metadata';

function pathOf(field: string, error: ErrorObject): string[] {
  const parts = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  const params = error.params as { missingProperty?: string; additionalProperty?: string };
  if (error.keyword === 'required' && params.missingProperty) parts.push(params.missingProperty);
  if (error.keyword === 'additionalProperties' && params.additionalProperty) parts.push(params.additionalProperty);
  return [field, ...parts];
}

function describe(error: ErrorObject): string {
  if (error.keyword === 'required') return 'Required.';
  if (error.keyword === 'additionalProperties') return "Not an attribute of this pool's schema.";
  const message = error.message ?? 'is invalid';
  return `${message.charAt(0).toUpperCase()}${message.slice(1)}.`;
}

export function createUserSchemas(options: { cacheSize?: number } = {}) {
  // strict: false — admins' schemas may carry annotations Ajv does not know (x-…, examples);
  // the meta-schema check below still refuses what is not a JSON Schema.
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true, code: { regExp: linearPattern } });
  addFormats(ajv);
  const compiled = new LRUCache<string, ValidateFunction>({ max: options.cacheSize ?? 1000 });

  function compile(schema: Record<string, unknown>): ValidateFunction {
    const key = JSON.stringify(schema);
    let validate = compiled.get(key);
    if (!validate) {
      validate = ajv.compile(schema);
      compiled.set(key, validate);
    }
    return validate;
  }

  function validatorOf(schema: Record<string, unknown>, field: SchemaField): (value: unknown) => FieldError[] {
    let validate: ValidateFunction;
    try {
      validate = compile(schema);
    } catch {
      // A schema stored before patterns were matched in linear time may use lookaround or
      // backreferences: refuse the write rather than match it with a backtracking engine.
      return () => [fieldError(field, "This pool's schema cannot be checked; an administrator must update it.")];
    }
    return (value) => (validate(value) ? [] : (validate.errors ?? []).map((error) => fieldError(pathOf(field, error), describe(error))));
  }

  return {
    /**
     * validate() bound to one schema, looked up once: a bulk import checks many values
     * against the same schema, and the lookup (the schema as cache key) costs more than the check.
     */
    validator: validatorOf,

    /** Problems with a schema an admin sets on a pool (empty when it compiles). */
    checkSchema(schema: Record<string, unknown> | null | undefined, field: string): FieldError[] {
      if (schema === null || schema === undefined) return [];
      if (!ajv.validateSchema(schema)) {
        return (ajv.errors ?? []).map((error) =>
          fieldError([field, ...error.instancePath.split('/').slice(1)], `Not a valid JSON Schema: ${error.message ?? 'invalid'}.`),
        );
      }
      try {
        compile(schema);
        return [];
      } catch (error) {
        return [fieldError(field, `Not a usable JSON Schema: ${(error as Error).message}`)];
      }
    },

    /** Field errors of `value` against the schema ({} of defaults when the pool has none). */
    validate(schema: Record<string, unknown>, value: unknown, field: SchemaField): FieldError[] {
      return validatorOf(schema, field)(value);
    },

    profileSchemaOf(pool: { profile_schema: Record<string, unknown> | null }): Record<string, unknown> {
      return pool.profile_schema ?? DEFAULT_PROFILE_SCHEMA;
    },

    metadataSchemaOf(pool: { metadata_schema: Record<string, unknown> | null }): Record<string, unknown> {
      return pool.metadata_schema ?? { type: 'object' };
    },
  };
}

export type UserSchemas = ReturnType<typeof createUserSchemas>;

/** The profile fields a registration form must ask for: the schema's required top-level strings/numbers. */
export function requiredProfileFields(schema: Record<string, unknown>): { name: string; label: string; type: 'text' | 'number' }[] {
  const required = Array.isArray(schema.required) ? (schema.required as unknown[]).filter((name): name is string => typeof name === 'string') : [];
  const properties = (schema.properties ?? {}) as Record<string, { title?: unknown; type?: unknown }>;
  return required.map((name) => {
    const property = properties[name] ?? {};
    const label = typeof property.title === 'string' ? property.title : name.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
    return { name, label, type: property.type === 'integer' || property.type === 'number' ? 'number' : 'text' };
  });
}
