import type { DimensionType } from './types.ts';
import { timeProblem } from './calendar.ts';
import { isStorableText, UNSTORABLE_MESSAGE } from '../storable-text.ts';
import { quoteInput } from '../quote-input.ts';

/** Why `value` cannot be read as a `type` value, or undefined when it can. */
export function castProblem(type: DimensionType, value: string): string | undefined {
  if (!isStorableText(value)) return `a value ${UNSTORABLE_MESSAGE}`;
  switch (type) {
    case 'string':
      return undefined;
    case 'number':
      return /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/.test(value) ? undefined : `${quoteInput(value)} is not a number`;
    case 'boolean':
      return /^(true|false)$/i.test(value) ? undefined : `${quoteInput(value)} is not true or false`;
    case 'time': {
      const problem = timeProblem(value);
      return problem ? `${quoteInput(value)} is not a date or timestamp: ${problem}` : undefined;
    }
  }
}
