import { builder } from './builder.ts';
import { FilterOpEnum } from './enums.ts';
import type { FilterOp } from '../modeling/catalog/types.ts';
import { conditionLimitsText } from './condition-limits-text.ts';

export interface AggregateInputShape {
  measure: string;
  window: { days: number };
}

export interface RuleInputShape {
  and?: RuleInputShape[] | null;
  or?: RuleInputShape[] | null;
  not?: RuleInputShape | null;
  dimension?: string | null;
  tag?: string | null;
  aggregate?: AggregateInputShape | null;
  op?: FilterOp | null;
  values?: string[] | null;
}

const WindowInput = builder.inputType('WindowInput', {
  description: 'Whole days up to and including the as-of date.',
  fields: (t) => ({ days: t.int({ required: true }) }),
});

export const AggregateInput = builder.inputType('AggregateInput', {
  description: 'A measure aggregated per customer over a trailing window, e.g. transaction.purchase_amount over 30 days.',
  fields: (t) => ({
    measure: t.string({ required: true, description: '`model.measure`' }),
    window: t.field({ type: WindowInput, required: true }),
  }),
});

export const RuleInput = builder.inputRef<RuleInputShape>('RuleInput').implement({
  description: `The closed condition language: one combinator (\`and\`, \`or\`, \`not\`) or one comparison of a \`dimension\`, a \`tag\` or an \`aggregate\` with \`op\` and \`values\`; ${conditionLimitsText('rule')}.`,
  fields: (t) => ({
    and: t.field({ type: [RuleInput] }),
    or: t.field({ type: [RuleInput] }),
    not: t.field({ type: RuleInput }),
    dimension: t.string({ description: 'A customer dimension, e.g. customer.age_band.' }),
    tag: t.string({ description: 'A published tag key.' }),
    aggregate: t.field({ type: AggregateInput }),
    op: t.field({ type: FilterOpEnum }),
    values: t.stringList({ description: 'Always strings, cast to the compared type.' }),
  }),
});
