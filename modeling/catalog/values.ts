import type { DimensionType } from './types.ts';

/** Why `value` cannot be read as a `type` value, or undefined when it can. */
export function castProblem(type: DimensionType, value: string): string | undefined {
  switch (type) {
    case 'string':
      return undefined;
    case 'number':
      return /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/.test(value) ? undefined : `'${value}' is not a number`;
    case 'boolean':
      return /^(true|false)$/i.test(value) ? undefined : `'${value}' is not true or false`;
    case 'time':
      return /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$/.test(value) && !Number.isNaN(Date.parse(value.slice(0, 10)))
        ? undefined
        : `'${value}' is not a date or timestamp (YYYY-MM-DD or ISO 8601)`;
  }
}
