/**
 * The account page's profile form, generated from the pool's profile schema: one input per
 * top-level property a person can type (strings, numbers, integers, booleans, enums), and one
 * per property of a nested object of such (the standard `address`). Labels come from the
 * schema's `title`, or from the property name. What the form sends becomes a profile object
 * that the user service checks against the same schema as the admin API (users.service.ts).
 */
export interface ProfileField {
  /** The form field's name: `given_name`, or `address.locality` inside an object. */
  name: string;
  /** The field's HTML id (dots are not welcome in ids used by aria-describedby). */
  id: string;
  label: string;
  kind: 'text' | 'number' | 'checkbox' | 'select' | 'url' | 'date';
  required: boolean;
  options: string[];
  maxLength?: number | undefined;
  description?: string | undefined;
  autocomplete?: string | undefined;
}

type Property = {
  type?: unknown;
  title?: unknown;
  description?: unknown;
  enum?: unknown;
  format?: unknown;
  maxLength?: unknown;
  properties?: unknown;
  required?: unknown;
};

/** Browsers' autofill names for the OIDC standard claims. */
const AUTOCOMPLETE: Record<string, string> = {
  name: 'name',
  given_name: 'given-name',
  family_name: 'family-name',
  middle_name: 'additional-name',
  nickname: 'nickname',
  preferred_username: 'username',
  website: 'url',
  birthdate: 'bday',
  phone_number: 'tel',
  gender: 'sex',
  locale: 'language',
  'address.street_address': 'street-address',
  'address.locality': 'address-level2',
  'address.region': 'address-level1',
  'address.postal_code': 'postal-code',
  'address.country': 'country-name',
};

function labelOf(name: string, property: Property): string {
  if (typeof property.title === 'string') return property.title;
  return name.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

function fieldOf(name: string, property: Property, required: boolean, prefix = ''): ProfileField | undefined {
  const full = prefix ? `${prefix}.${name}` : name;
  const base = {
    name: full,
    id: `profile-${full.replace(/[^A-Za-z0-9_-]/g, '-')}`,
    label: prefix ? `${labelOf(prefix, {})}: ${labelOf(name, property).toLowerCase()}` : labelOf(name, property),
    required,
    options: [] as string[],
    maxLength: typeof property.maxLength === 'number' ? property.maxLength : undefined,
    description: typeof property.description === 'string' ? property.description : undefined,
    autocomplete: AUTOCOMPLETE[full],
  };
  if (Array.isArray(property.enum) && property.enum.every((item) => typeof item === 'string')) return { ...base, kind: 'select', options: property.enum };
  if (property.type === 'string') return { ...base, kind: property.format === 'uri' ? 'url' : property.format === 'date' ? 'date' : 'text' };
  if (property.type === 'number' || property.type === 'integer') return { ...base, kind: 'number' };
  if (property.type === 'boolean') return { ...base, kind: 'checkbox' };
  return undefined;
}

function requiredOf(schema: Property): Set<string> {
  return new Set(Array.isArray(schema.required) ? (schema.required as unknown[]).filter((item): item is string => typeof item === 'string') : []);
}

/** The inputs of the profile form, in the schema's order. Properties that cannot be typed (arrays, deeper objects) are left out. */
export function profileFields(schema: Record<string, unknown>): ProfileField[] {
  const properties = (schema.properties ?? {}) as Record<string, Property>;
  const required = requiredOf(schema);
  const fields: ProfileField[] = [];
  for (const [name, property] of Object.entries(properties)) {
    if (property.type === 'object' && property.properties && typeof property.properties === 'object') {
      const inner = requiredOf(property);
      for (const [innerName, innerProperty] of Object.entries(property.properties as Record<string, Property>)) {
        const field = fieldOf(innerName, innerProperty, false, name);
        if (field) fields.push({ ...field, required: required.has(name) && inner.has(innerName) });
      }
      continue;
    }
    const field = fieldOf(name, property, required.has(name));
    if (field) fields.push(field);
  }
  return fields;
}

/** The value a field shows for a stored profile. */
export function valueOf(profile: Record<string, unknown>, field: ProfileField): string {
  const [outer, inner] = field.name.split('.') as [string, string | undefined];
  const value = inner === undefined ? profile[outer] : (profile[outer] as Record<string, unknown> | undefined)?.[inner];
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * The profile a submitted form makes: the stored profile with the form's fields set (an empty
 * field removes the attribute; numbers that are not numbers stay text, so the schema names them).
 * Attributes the form does not show are kept as they are.
 */
export function profileFromForm(stored: Record<string, unknown>, fields: ProfileField[], form: Record<string, string>): Record<string, unknown> {
  const profile: Record<string, unknown> = structuredClone(stored);
  for (const field of fields) {
    const raw = (form[field.name] ?? '').trim();
    let value: unknown = raw === '' ? undefined : raw;
    if (field.kind === 'checkbox') value = form[field.name] === 'on';
    else if (field.kind === 'number' && raw !== '' && Number.isFinite(Number(raw))) value = Number(raw);
    const [outer, inner] = field.name.split('.') as [string, string | undefined];
    if (inner === undefined) {
      if (value === undefined) delete profile[outer];
      else profile[outer] = value;
      continue;
    }
    const object = { ...((profile[outer] as Record<string, unknown> | undefined) ?? {}) };
    if (value === undefined) delete object[inner];
    else object[inner] = value;
    if (Object.keys(object).length) profile[outer] = object;
    else delete profile[outer];
  }
  return profile;
}
