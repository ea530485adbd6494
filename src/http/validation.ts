/** Validate at the edge: a zod schema turns unknown input into a typed value or a 400 naming each field. */
import type { ZodType } from 'zod';
import { fieldError, problems } from './problem.js';

export type InputPart = 'body' | 'query';

export function parseInput<T>(schema: ZodType<T>, input: unknown, part: InputPart = 'body'): T {
  if (input === undefined) throw problems.validation([fieldError([], `A JSON ${part} is required.`)]);
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const unknown = part === 'query' ? 'Unknown query parameter.' : 'Unknown field.';
  const errors = result.error.issues.flatMap((issue) => {
    // Unknown fields are reported one by one, each under its own name.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => fieldError([...issue.path, key], unknown));
    }
    return [fieldError(issue.path, issue.message)];
  });
  throw problems.validation(errors);
}
