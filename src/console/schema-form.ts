/**
 * Forms generated from a pool's user schemas (JSON Schema): one input a property, its kind from
 * the property's type, format and enum, `required` from the schema. Field names are the paths
 * the admin API names in its problem documents (`profile.given_name`, `profile.address.locality`),
 * so each error lands next to its input. A nested object becomes a group of inputs (one level);
 * anything deeper, and metadata without a schema, is edited as JSON.
 */

type Schema = Record<string, unknown>;

export type FieldKind = 'text' | 'email' | 'url' | 'date' | 'number' | 'integer' | 'checkbox' | 'select' | 'lines' | 'json';

export interface FormField {
  /** The API's path for the value, and the form field's name. */
  name: string;
  /** The element id (letters, digits and dashes). */
  id: string;
  label: string;
  kind: FieldKind;
  required: boolean;
  options: string[];
  /** The value as the input shows it. */
  value: string;
  hint?: string;
  /** The legend of the nested object the field belongs to. */
  group?: string;
  error?: string;
}

export interface SchemaFormProblem {
  field: string;
  detail: string;
}

const humanise = (key: string) =>
  key
    .replace(/[_-]+/g, ' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/^./, (c) => c.toUpperCase());

function titleOf(key: string, property: Schema): string {
  return typeof property.title === 'string' && property.title.trim() ? property.title : humanise(key);
}

function typeOf(property: Schema): string | undefined {
  if (typeof property.type === 'string') return property.type;
  if (Array.isArray(property.type)) return (property.type as unknown[]).find((type): type is string => typeof type === 'string' && type !== 'null');
  return undefined;
}

function kindOf(property: Schema): FieldKind {
  if (Array.isArray(property.enum) && property.enum.every((option) => typeof option === 'string')) return 'select';
  const type = typeOf(property);
  if (type === 'string') {
    if (property.format === 'email') return 'email';
    if (property.format === 'uri' || property.format === 'url') return 'url';
    if (property.format === 'date') return 'date';
    return 'text';
  }
  if (type === 'integer') return 'integer';
  if (type === 'number') return 'number';
  if (type === 'boolean') return 'checkbox';
  if (type === 'array') {
    const items = (property.items ?? {}) as Schema;
    if (typeOf(items) === 'string' && !Array.isArray(items.enum)) return 'lines';
  }
  return 'json';
}

function shown(kind: FieldKind, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (kind === 'checkbox') return value === true ? 'on' : '';
  if (kind === 'lines' && Array.isArray(value)) return value.map(String).join('\n');
  if (kind === 'json' || typeof value === 'object') return JSON.stringify(value, null, 2);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const idOf = (name: string) => `f-${name.replace(/[^A-Za-z0-9]+/g, '-')}`;

function requiredOf(schema: Schema): Set<string> {
  return new Set(Array.isArray(schema.required) ? (schema.required as unknown[]).filter((name): name is string => typeof name === 'string') : []);
}

function propertiesOf(schema: Schema): [string, Schema][] {
  const properties = schema.properties;
  if (!properties || typeof properties !== 'object') return [];
  return Object.entries(properties as Record<string, unknown>).filter((entry): entry is [string, Schema] => !!entry[1] && typeof entry[1] === 'object');
}

function field(name: string, key: string, property: Schema, required: boolean, value: unknown, group?: string): FormField {
  const kind = kindOf(property);
  return {
    name,
    id: idOf(name),
    label: titleOf(key, property),
    kind,
    required,
    options: kind === 'select' ? (property.enum as string[]) : [],
    value: shown(kind, value),
    ...(typeof property.description === 'string' ? { hint: property.description } : {}),
    ...(group ? { group } : {}),
  };
}

/** The inputs for `root` (profile or metadata) under `schema`, filled with `values`. No schema: one JSON field for the whole object. */
export function schemaFields(root: string, schema: Schema | null, values: Record<string, unknown>): FormField[] {
  const properties = schema ? propertiesOf(schema) : [];
  if (!schema || (!properties.length && schema.additionalProperties !== false)) {
    return [{ name: root, id: idOf(root), label: humanise(root), kind: 'json', required: false, options: [], value: JSON.stringify(values, null, 2) }];
  }
  const required = requiredOf(schema);
  const fields: FormField[] = [];
  for (const [key, property] of properties) {
    const nested = propertiesOf(property);
    if (typeOf(property) === 'object' && nested.length) {
      const inner = (values[key] ?? {}) as Record<string, unknown>;
      const innerRequired = requiredOf(property);
      const legend = titleOf(key, property);
      for (const [innerKey, innerProperty] of nested) {
        fields.push(field(`${root}.${key}.${innerKey}`, innerKey, innerProperty, innerRequired.has(innerKey), inner[innerKey], legend));
      }
      continue;
    }
    fields.push(field(`${root}.${key}`, key, property, required.has(key), values[key]));
  }
  return fields;
}

/** A field's form value → its JSON value; undefined: the attribute is left out. */
function parsed(kind: FieldKind, raw: string | undefined): { value?: unknown; problem?: string } {
  const text = (raw ?? '').trim();
  if (kind === 'checkbox') return { value: raw === 'on' };
  if (!text) return {};
  if (kind === 'integer' || kind === 'number') {
    const number = Number(text);
    // Not a number: sent as written, so the API's schema check names the field.
    return { value: Number.isFinite(number) ? number : text };
  }
  if (kind === 'lines')
    return {
      value: text
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter(Boolean),
    };
  if (kind === 'json') {
    try {
      return { value: JSON.parse(text) };
    } catch {
      return { problem: 'Must be JSON, such as {"plan": "pro"}.' };
    }
  }
  return { value: text };
}

/**
 * The object the form describes, over `current` (attributes the form does not show are kept).
 * Problems are the ones the form itself can tell (JSON that does not parse); the API checks the rest.
 */
export function readSchemaFields(
  root: string,
  fields: FormField[],
  form: Record<string, string>,
  current: Record<string, unknown>,
): { value: Record<string, unknown>; problems: SchemaFormProblem[] } {
  const problems: SchemaFormProblem[] = [];
  if (fields.length === 1 && fields[0]!.name === root) {
    const result = parsed('json', form[root]);
    if (result.problem) return { value: current, problems: [{ field: root, detail: result.problem }] };
    const value = result.value ?? {};
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return { value: current, problems: [{ field: root, detail: 'Must be a JSON object.' }] };
    return { value: value as Record<string, unknown>, problems };
  }
  const value: Record<string, unknown> = structuredClone(current);
  for (const item of fields) {
    const path = item.name.split('.').slice(1);
    const result = parsed(item.kind, form[item.name]);
    if (result.problem) problems.push({ field: item.name, detail: result.problem });
    let target = value;
    for (const part of path.slice(0, -1)) {
      if (!target[part] || typeof target[part] !== 'object' || Array.isArray(target[part])) target[part] = {};
      target = target[part] as Record<string, unknown>;
    }
    const last = path[path.length - 1]!;
    if (result.value === undefined) delete target[last];
    else target[last] = result.value;
  }
  // A nested object whose inputs were all left empty is left out.
  for (const [key, nested] of Object.entries(value)) {
    if (nested && typeof nested === 'object' && !Array.isArray(nested) && Object.keys(nested).length === 0) delete value[key];
  }
  return { value, problems };
}

/** The fields with the problems the API (or the form) found, each next to its input; the rest are returned for the page's summary. */
export function withProblems(fields: FormField[], problems: SchemaFormProblem[]): { fields: FormField[]; unplaced: SchemaFormProblem[] } {
  const byName = new Map<string, string[]>();
  for (const problem of problems) byName.set(problem.field, [...(byName.get(problem.field) ?? []), problem.detail]);
  const names = new Set(fields.map((item) => item.name));
  return {
    fields: fields.map((item) => (byName.has(item.name) ? { ...item, error: byName.get(item.name)!.join(' ') } : item)),
    unplaced: problems.filter((problem) => !names.has(problem.field)),
  };
}

/** The value as the form sent it, for showing the form again after a refusal. */
export function refill(fields: FormField[], form: Record<string, string>): FormField[] {
  return fields.map((item) => ({ ...item, value: item.kind === 'checkbox' ? (form[item.name] === 'on' ? 'on' : '') : (form[item.name] ?? '') }));
}
