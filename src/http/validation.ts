/** Validate at the edge: a zod schema turns unknown input into a typed value or a 400 naming each field. */
import type { ZodType } from 'zod';
import { fieldError, problems } from './problem.js';

export function parseInput<T>(schema: ZodType<T>, input: unknown, what = 'body'): T {
  if (input === undefined) throw problems.validation([fieldError([], `A JSON ${what} is required.`)]);
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const errors = result.error.issues.flatMap((issue) => {
    // Unknown fields are reported one by one, each under its own name.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => fieldError([...issue.path, key], 'Unknown field.'));
    }
    return [fieldError(issue.path, issue.message)];
  });
  throw problems.validation(errors);
}
