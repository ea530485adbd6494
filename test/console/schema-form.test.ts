/** Forms generated from a pool's user schemas: the inputs, and the object the form sends back. */
import { readSchemaFields, schemaFields, withProblems } from '../../src/console/schema-form.js';
import { DEFAULT_PROFILE_SCHEMA } from '../../src/users/user-schema.js';

const schema = {
  type: 'object',
  required: ['department'],
  properties: {
    department: { type: 'string', enum: ['sales', 'support'], description: 'Where they work.' },
    seats: { type: 'integer' },
    vip: { type: 'boolean' },
    tags: { type: 'array', items: { type: 'string' } },
    address: { type: 'object', required: ['city'], properties: { city: { type: 'string', title: 'Town' } } },
    extra: { type: 'object' },
  },
};

it('makes one input a property, typed by the schema, nested objects as a group, with the stored values', () => {
  const fields = schemaFields('profile', schema, { department: 'sales', seats: 3, vip: true, tags: ['a', 'b'], address: { city: 'Oslo' }, extra: { x: 1 } });
  expect(fields.map((field) => [field.name, field.kind, field.required, field.value])).toEqual([
    ['profile.department', 'select', true, 'sales'],
    ['profile.seats', 'integer', false, '3'],
    ['profile.vip', 'checkbox', false, 'on'],
    ['profile.tags', 'lines', false, 'a\nb'],
    ['profile.address.city', 'text', true, 'Oslo'],
    ['profile.extra', 'json', false, JSON.stringify({ x: 1 }, null, 2)],
  ]);
  expect(fields[0]).toMatchObject({ options: ['sales', 'support'], hint: 'Where they work.', id: 'f-profile-department' });
  expect(fields[4]).toMatchObject({ label: 'Town', group: 'Address' });
});

it('reads the form back over the stored object: empty inputs leave attributes out, unshown ones are kept', () => {
  const fields = schemaFields('profile', schema, {});
  const read = readSchemaFields(
    'profile',
    fields,
    { 'profile.department': 'support', 'profile.seats': '12', 'profile.tags': 'x\n\n y ', 'profile.address.city': '', 'profile.extra': '' },
    { legacy: 'kept', seats: 1, address: { city: 'Old' } },
  );
  expect(read).toEqual({ value: { legacy: 'kept', department: 'support', seats: 12, vip: false, tags: ['x', 'y'] }, problems: [] });
});

it('leaves a number that is not one for the API to refuse, and refuses JSON that does not parse itself', () => {
  const fields = schemaFields('profile', schema, {});
  const read = readSchemaFields('profile', fields, { 'profile.seats': 'twelve', 'profile.extra': '{oops' }, {});
  expect(read.value.seats).toBe('twelve');
  expect(read.problems).toEqual([{ field: 'profile.extra', detail: expect.stringContaining('Must be JSON') }]);
});

it('metadata without a schema is one JSON object', () => {
  const fields = schemaFields('metadata', null, { plan: 'pro' });
  expect(fields).toHaveLength(1);
  expect(readSchemaFields('metadata', fields, { metadata: '{"plan": "free"}' }, { plan: 'pro' }).value).toEqual({ plan: 'free' });
  expect(readSchemaFields('metadata', fields, { metadata: '[1]' }, {}).problems).toEqual([{ field: 'metadata', detail: 'Must be a JSON object.' }]);
});

it("puts each of the API's problems next to its input, and returns the others", () => {
  const fields = schemaFields('profile', DEFAULT_PROFILE_SCHEMA, {});
  const placed = withProblems(fields, [
    { field: 'profile.website', detail: 'Must match format "uri".' },
    { field: 'profile.address.locality', detail: 'Too long.' },
    { field: 'profile.unknown', detail: "Not an attribute of this pool's schema." },
  ]);
  expect(placed.fields.filter((field) => field.error).map((field) => [field.name, field.error])).toEqual([
    ['profile.website', 'Must match format "uri".'],
    ['profile.address.locality', 'Too long.'],
  ]);
  expect(placed.unplaced).toEqual([{ field: 'profile.unknown', detail: "Not an attribute of this pool's schema." }]);
});
