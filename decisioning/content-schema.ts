import { Ajv, type ValidateFunction } from 'ajv';
import { StrataError } from '../modeling/errors.ts';

/** One validator instance: strict mode refuses unknown keywords, so a typo in a schema is an error, not a silent pass. */
const ajv = new Ajv({ allErrors: true, strict: true });
const compiled = new Map<string, ValidateFunction>();

/** The compiled JSON Schema of a placement's contents; BAD_USER_INPUT naming `path` when it is no valid schema. */
export function contentValidator(schema: unknown, path = 'contentSchema'): ValidateFunction {
  const text = JSON.stringify(schema);
  const cached = compiled.get(text);
  if (cached) return cached;
  if (!schema || typeof schema !== 'object' || Array.isArray(schema))
    throw new StrataError('BAD_USER_INPUT', `${path}: a JSON Schema object is required`, { path });
  try {
    const validate = ajv.compile(schema as object);
    compiled.set(text, validate);
    return validate;
  } catch (error) {
    throw new StrataError('BAD_USER_INPUT', `${path}: not a valid JSON Schema: ${error instanceof Error ? error.message : String(error)}`, { path });
  }
}

/**
 * Checks a content payload against its placement's JSON Schema; BAD_USER_INPUT listing
 * every violation (at most five) otherwise.
 *
 * ```ts
 * checkPayload({ type: 'object', required: ['title'] }, { title: '基金定投' }); // passes
 * ```
 */
export function checkPayload(schema: unknown, payload: unknown, path = 'payload'): void {
  const validate = contentValidator(schema);
  if (validate(payload)) return;
  const problems = (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
  throw new StrataError('BAD_USER_INPUT', `${path} does not match the placement's content schema: ${problems.join('; ')}`, { path });
}
