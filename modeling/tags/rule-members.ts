import { DEFAULT_SENSITIVITY, stricter, type Sensitivity } from '../catalog/sensitivity.ts';
import { leaves, type Rule } from '../conditions/rule.ts';
import { tagRules, type TagDefinition } from './tag-definition.ts';
import type { TagSubject } from './tag-subject.ts';

/** A member a rule or tag reads, with its sensitivity class. */
export interface RuleMember {
  readonly name: string;
  readonly sensitivity: Sensitivity;
}

const TIME_OF_DAY = /^\d{4}-\d{2}-\d{2}[T ](?!00:00(?::00(?:\.0+)?)?(?:Z|[+-]\d{2}:?\d{2})?$)/;

/**
 * The members a rule compares: subject dimensions (a time compared with a time of day takes
 * its sub-day class), tags (with their own effective class) and aggregated measures.
 * Unknown names are left to `checkRule`, which refuses them.
 */
export function ruleMembers(rule: Rule, subject: TagSubject, tags: ReadonlyMap<string, TagDefinition>, seen: ReadonlySet<string> = new Set()): RuleMember[] {
  return leaves(rule).map((leaf): RuleMember => {
    if (leaf.kind === 'compare') {
      const dimension = subject.model.dimensions.find((d) => `${subject.model.name}.${d.name}` === leaf.dimension);
      const own = dimension?.sensitivity ?? DEFAULT_SENSITIVITY;
      const fine = dimension?.type === 'time' && dimension.subDaySensitivity && leaf.values.some((v) => TIME_OF_DAY.test(v));
      return { name: leaf.dimension, sensitivity: fine ? stricter(own, dimension.subDaySensitivity as Sensitivity) : own };
    }
    if (leaf.kind === 'tag') {
      const tag = tags.get(leaf.tag);
      return { name: `tag ${leaf.tag}`, sensitivity: tag && !seen.has(tag.key) ? tagSensitivity(tag, subject, tags, seen) : DEFAULT_SENSITIVITY };
    }
    const [modelName, measureName] = leaf.aggregate.measure.split('.');
    const measure = subject.index.models.get(modelName ?? '')?.measures.find((m) => m.name === measureName);
    return { name: leaf.aggregate.measure, sensitivity: measure?.sensitivity ?? DEFAULT_SENSITIVITY };
  });
}

/** Everything a tag's value is computed from. */
export function tagMembers(
  tag: TagDefinition,
  subject: TagSubject,
  tags: ReadonlyMap<string, TagDefinition>,
  seen: ReadonlySet<string> = new Set(),
): RuleMember[] {
  const inner = new Set([...seen, tag.key]);
  const fromRules = tagRules(tag.source).flatMap((rule) => ruleMembers(rule, subject, tags, inner));
  if (tag.source.kind !== 'aggregate' && tag.source.kind !== 'top') return fromRules;
  const aggregate = ruleMembers({ kind: 'aggregate', aggregate: tag.source.aggregate, op: 'IS_NOT_NULL', values: [] }, subject, tags, inner);
  if (tag.source.kind !== 'top') return [...fromRules, ...aggregate];
  const [role = '', name = ''] = tag.source.by.split('.');
  const by = subject.index.models.get(role)?.dimensions.find((d) => d.name === name);
  return [...fromRules, ...aggregate, { name: tag.source.by, sensitivity: by?.sensitivity ?? DEFAULT_SENSITIVITY }];
}

/** A tag's class: as declared, and never less strict than anything it reads. */
export function tagSensitivity(
  tag: TagDefinition,
  subject: TagSubject,
  tags: ReadonlyMap<string, TagDefinition>,
  seen: ReadonlySet<string> = new Set(),
): Sensitivity {
  return tagMembers(tag, subject, tags, seen).reduce<Sensitivity>((s, m) => stricter(s, m.sensitivity), tag.sensitivity ?? DEFAULT_SENSITIVITY);
}
