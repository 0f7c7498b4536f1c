import type { Sensitivity, Status } from '../catalog/types.ts';
import { isSensitivity } from '../catalog/sensitivity.ts';
import { deepFreeze } from '../catalog/freeze.ts';
import { parseAggregateRef, parseRule } from '../conditions/parse-rule.ts';
import type { TagDefinition, TagKind, TagSource } from './tag-definition.ts';
import type { AggregateRef } from '../conditions/rule.ts';
import { StrataError } from '../errors.ts';
import { checkDefinitionKey } from '../catalog/definition-text.ts';

/** A tag as written in code or sent by a steward: rules in API.md's JSON form. */
export interface TagSpec {
  readonly key: string;
  readonly kind: TagKind;
  readonly description: string;
  readonly category?: string;
  readonly owner?: string;
  readonly status?: Status;
  readonly rule?: unknown;
  readonly cases?: readonly { readonly value: string; readonly rule: unknown }[];
  readonly else?: string | null;
  readonly aggregate?: AggregateRef;
  readonly top?: { readonly aggregate: AggregateRef; readonly by: string };
  /** Sensitivity class of the values (default `internal`; never less strict than what the rule reads). */
  readonly sensitivity?: Sensitivity;
}

/**
 * Builds a tag definition from its spec, checking its shape (names are checked against the
 * catalog by `checkTag`). Problems are BAD_USER_INPUT with the path of the bad field.
 *
 * ```ts
 * const dormant = defineTag({ key: 'dormant_90d', kind: 'BOOLEAN', description: 'No events in 90 days',
 *   rule: { aggregate: { measure: 'app_event.events', window: { days: 90 } }, op: 'EQ', values: ['0'] } });
 * ```
 */
export function defineTag(spec: TagSpec, origin: 'code' | 'api' = 'code', version = 1): TagDefinition {
  checkDefinitionKey(spec.key);
  if (!['BOOLEAN', 'ENUM', 'NUMERIC'].includes(spec.kind)) throw new StrataError('BAD_USER_INPUT', `kind: expected BOOLEAN, ENUM or NUMERIC`, { path: 'kind' });
  if (spec.sensitivity !== undefined && !isSensitivity(spec.sensitivity))
    throw new StrataError('BAD_USER_INPUT', 'sensitivity: expected public, internal, personal or restricted', { path: 'sensitivity' });
  return deepFreeze({
    key: spec.key,
    kind: spec.kind,
    description: spec.description,
    category: spec.category ?? 'general',
    owner: spec.owner ?? '',
    status: spec.status ?? 'PUBLISHED',
    version,
    source: sourceOf(spec),
    origin,
    ...(spec.sensitivity ? { sensitivity: spec.sensitivity } : {}),
  });
}

function sourceOf(spec: TagSpec): TagSource {
  const given = (['rule', 'cases', 'aggregate', 'top'] as const).filter((k) => spec[k] !== undefined && spec[k] !== null);
  const expected = spec.kind === 'BOOLEAN' ? ['rule'] : spec.kind === 'NUMERIC' ? ['aggregate'] : ['cases', 'top'];
  if (given.length !== 1 || !expected.includes(given[0] as string)) {
    throw new StrataError('BAD_USER_INPUT', `a ${spec.kind} tag takes ${expected.map((e) => `\`${e}\``).join(' or ')} (got ${given.join(', ') || 'none'})`, {
      path: expected[0],
    });
  }
  if (spec.kind === 'BOOLEAN') return { kind: 'rule', rule: parseRule(spec.rule, 'rule') };
  if (spec.kind === 'NUMERIC') return { kind: 'aggregate', aggregate: parseAggregateRef(spec.aggregate, 'aggregate') };
  if (spec.top) {
    if (typeof spec.top.by !== 'string') throw new StrataError('BAD_USER_INPUT', 'top.by: expected a dimension like product.product_type', { path: 'top.by' });
    return { kind: 'top', aggregate: parseAggregateRef(spec.top.aggregate, 'top.aggregate'), by: spec.top.by };
  }
  const cases = spec.cases ?? [];
  if (cases.length === 0) throw new StrataError('BAD_USER_INPUT', 'cases: an ENUM tag needs at least one case', { path: 'cases' });
  return {
    kind: 'cases',
    cases: cases.map((c, i) => {
      if (typeof c.value !== 'string' || c.value === '')
        throw new StrataError('BAD_USER_INPUT', `cases[${i}].value: expected a non-empty string`, { path: `cases[${i}].value` });
      return { value: c.value, rule: parseRule(c.rule, `cases[${i}].rule`) };
    }),
    otherwise: spec.else ?? null,
  };
}
