import type { Sensitivity, Status } from '../catalog/types.ts';
import type { AggregateRef, Rule } from '../conditions/rule.ts';
import type { ValueType } from '../conditions/compare.ts';

export type TagKind = 'BOOLEAN' | 'ENUM' | 'NUMERIC';

/** How a tag's value is computed for each customer. */
export type TagSource =
  /** BOOLEAN: whether the rule is true. */
  | { readonly kind: 'rule'; readonly rule: Rule }
  /** ENUM: the value of the first case whose rule is true, else `otherwise`. */
  | { readonly kind: 'cases'; readonly cases: readonly { readonly value: string; readonly rule: Rule }[]; readonly otherwise: string | null }
  /** ENUM: the `by` dimension value with the largest aggregate (ties: alphabetically first), null without data. */
  | { readonly kind: 'top'; readonly aggregate: AggregateRef; readonly by: string }
  /** NUMERIC: the aggregate itself. */
  | { readonly kind: 'aggregate'; readonly aggregate: AggregateRef };

/** A per-customer label: its meaning (source) and its governance. */
export interface TagDefinition {
  readonly key: string;
  readonly kind: TagKind;
  readonly description: string;
  readonly category: string;
  readonly owner: string;
  readonly status: Status;
  readonly version: number;
  readonly source: TagSource;
  /** `code` for tags defined with the domain, `api` for steward-defined tags. */
  readonly origin: 'code' | 'api';
  /** Sensitivity class as declared (default `internal`); `tagSensitivity` adds what the rule reads. */
  readonly sensitivity?: Sensitivity;
}

/** The type of a tag's values, for comparisons against it. */
export function tagValueType(tag: Pick<TagDefinition, 'kind'>): ValueType {
  return tag.kind === 'BOOLEAN' ? 'boolean' : tag.kind === 'NUMERIC' ? 'number' : 'string';
}

/** Values an enum tag can take (from its cases), or [] when open (top) or not an enum. */
export function tagValues(tag: Pick<TagDefinition, 'source'>): string[] {
  if (tag.source.kind === 'cases') {
    const values = tag.source.cases.map((c) => c.value);
    if (tag.source.otherwise !== null) values.push(tag.source.otherwise);
    return [...new Set(values)];
  }
  if (tag.source.kind === 'rule') return ['true', 'false'];
  return [];
}

/** Every rule inside a tag's source. */
export function tagRules(source: TagSource): Rule[] {
  if (source.kind === 'rule') return [source.rule];
  if (source.kind === 'cases') return source.cases.map((c) => c.rule);
  return [];
}
