import { castProblem } from '../catalog/values.ts';
import { leaves, type Rule } from '../conditions/rule.ts';
import { StrataError } from '../errors.ts';
import { closestNames } from '../query/suggest.ts';
import { tagRules, tagValueType, type TagDefinition } from './tag-definition.ts';
import { measureOwner, subjectDimension, type TagSubject } from './tag-subject.ts';
import { quoteInput } from '../quote-input.ts';

/**
 * Checks every name and value in a tag against the catalog and the other tags. With
 * `forPublish`, the tags it reads must be published too. Throws the first problem, coded
 * and with the path of the bad node.
 */
export function checkTag(tag: TagDefinition, subject: TagSubject, tags: ReadonlyMap<string, TagDefinition>, options: { forPublish: boolean }): void {
  const source = tag.source;
  tagRules(source).forEach((rule, i) => checkRule(rule, subject, tags, source.kind === 'cases' ? `cases[${i}].rule` : 'rule', { ...options, self: tag.key }));
  if (source.kind === 'aggregate' || source.kind === 'top') {
    const owner = measureOwner(subject, source.aggregate.measure, `${source.kind === 'top' ? 'top.' : ''}aggregate.measure`);
    if (source.kind === 'top') {
      const [role = '', name = ''] = source.by.split('.');
      const found = subject.index.dimension(owner.model, role, name);
      if (!found.ok) throw new StrataError('UNKNOWN_MEMBER', `top.by: ${found.message}`, { path: 'top.by' });
    }
  }
}

/** Checks a rule's names and values (also used for audiences). */
export function checkRule(
  rule: Rule,
  subject: TagSubject,
  tags: ReadonlyMap<string, TagDefinition>,
  path: string,
  options: { forPublish: boolean; self?: string },
): void {
  leaves(rule).forEach((leaf, i) => {
    const at = `${path} (comparison ${i + 1})`;
    if (leaf.kind === 'compare') return checkValues(subjectDimension(subject, leaf.dimension, at).type, leaf.values, at);
    if (leaf.kind === 'aggregate') {
      measureOwner(subject, leaf.aggregate.measure, at);
      return checkValues('number', leaf.values, at);
    }
    const target = tags.get(leaf.tag);
    if (leaf.tag === options.self) throw new StrataError('BAD_USER_INPUT', `${at}: a tag cannot read itself`, { path: at });
    if (!target || target.status === 'ARCHIVED') {
      const suggestions = closestNames(leaf.tag, [...tags.keys()]);
      throw new StrataError(
        'UNKNOWN_MEMBER',
        `${at}: unknown tag ${quoteInput(leaf.tag)}${suggestions.length ? `; did you mean ${suggestions.join(', ')}?` : ''}`,
        { path: at, suggestions },
      );
    }
    if (options.forPublish && target.status !== 'PUBLISHED') {
      throw new StrataError(
        'BAD_USER_INPUT',
        `${at}: tag ${quoteInput(leaf.tag)} is ${target.status}; only published tags can be read by a published definition`,
        { path: at },
      );
    }
    checkValues(tagValueType(target), leaf.values, at);
  });
}

function checkValues(type: Parameters<typeof castProblem>[0], values: readonly string[], at: string): void {
  for (const value of values) {
    const problem = castProblem(type, value);
    if (problem) throw new StrataError('BAD_USER_INPUT', `${at}: ${problem} (a ${type} is compared)`, { path: at });
  }
}

/** Tags a tag reads. */
export function tagDependencies(tag: TagDefinition): string[] {
  return [
    ...new Set(
      tagRules(tag.source)
        .flatMap(leaves)
        .flatMap((l) => (l.kind === 'tag' ? [l.tag] : [])),
    ),
  ];
}

/** The tags whose every dependency is among them too (a tag reading a missing one is left out). */
export function completeTags(tags: readonly TagDefinition[]): { complete: TagDefinition[]; incomplete: TagDefinition[] } {
  let complete = [...tags];
  for (;;) {
    const keys = new Set(complete.map((t) => t.key));
    const next = complete.filter((t) => tagDependencies(t).every((d) => keys.has(d)));
    if (next.length === complete.length) break;
    complete = next;
  }
  const kept = new Set(complete);
  return { complete, incomplete: tags.filter((t) => !kept.has(t)) };
}

/** Tags in an order where each comes after the tags it reads; a cycle is refused. */
export function orderTags(tags: readonly TagDefinition[]): TagDefinition[] {
  const byKey = new Map(tags.map((t) => [t.key, t]));
  const ordered: TagDefinition[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (tag: TagDefinition, trail: string[]) => {
    if (state.get(tag.key) === 'done') return;
    if (state.get(tag.key) === 'open') {
      throw new StrataError('BAD_USER_INPUT', `tags read each other in a circle: ${[...trail.slice(trail.indexOf(tag.key)), tag.key].join(' -> ')}`);
    }
    state.set(tag.key, 'open');
    for (const dependency of tagDependencies(tag)) {
      const next = byKey.get(dependency);
      if (next) visit(next, [...trail, tag.key]);
    }
    state.set(tag.key, 'done');
    ordered.push(tag);
  };
  for (const tag of tags) visit(tag, []);
  return ordered;
}

/** Dependency depth of each tag (0 when it reads no tag), for layered materialization. */
export function tagLayers(ordered: readonly TagDefinition[]): TagDefinition[][] {
  const depth = new Map<string, number>();
  const layers: TagDefinition[][] = [];
  for (const tag of ordered) {
    const d = Math.max(-1, ...tagDependencies(tag).map((k) => depth.get(k) ?? -1)) + 1;
    depth.set(tag.key, d);
    (layers[d] ??= []).push(tag);
  }
  return layers;
}
