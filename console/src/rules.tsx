import { useEffect, useState } from 'react';
import type { FilterOp, RuleInput } from './generated/strata-console.ts';
import { useFormats } from './locale.ts';
import { useSession } from './session.tsx';

/** The closed condition language as the console edits it: RuleInput without nulls. */
export type Rule = RuleInput;

export const OPS: readonly FilterOp[] = ['EQ', 'NEQ', 'IN', 'NOT_IN', 'GT', 'GTE', 'LT', 'LTE', 'BETWEEN', 'CONTAINS', 'STARTS_WITH', 'IS_NULL', 'IS_NOT_NULL'];
type LeafKind = 'dimension' | 'tag' | 'aggregate';

export function isGroup(rule: Rule): boolean {
  return rule.and !== undefined || rule.or !== undefined || rule.not !== undefined;
}

/**
 * What is wrong with a rule, as the builder checks it while typing (the server checks the
 * rest on preview): each problem with the path of the node it is on.
 */
export function ruleProblems(rule: Rule, knownTags: ReadonlySet<string>, path = 'rule', tr: (zh: string, en: string) => string = (_zh, en) => en): string[] {
  if (rule.and || rule.or) {
    const list = (rule.and ?? rule.or) as Rule[];
    if (list.length === 0) return [`${path}: ${tr('组合至少需要一个条件', 'a group needs at least one condition')}`];
    return list.flatMap((child, i) => ruleProblems(child, knownTags, `${path}.${rule.and ? 'and' : 'or'}[${i}]`, tr));
  }
  if (rule.not) return ruleProblems(rule.not, knownTags, `${path}.not`, tr);
  const problems: string[] = [];
  const members = [rule.dimension, rule.tag, rule.aggregate].filter((m) => m !== undefined && m !== null);
  if (members.length !== 1) problems.push(`${path}: ${tr('选择一个维度、标签或聚合', 'choose one dimension, tag or aggregate')}`);
  if (rule.dimension === '' || rule.tag === '' || rule.aggregate?.measure === '') problems.push(`${path}: ${tr('未选择字段', 'no member chosen')}`);
  if (rule.tag && !knownTags.has(rule.tag)) problems.push(`${path}: ${tr('不是已发布的标签', 'not a published tag')}: ${rule.tag}`);
  if (rule.aggregate && !(rule.aggregate.window.days >= 1)) problems.push(`${path}: ${tr('窗口天数至少为 1', 'the window needs at least 1 day')}`);
  if (!rule.op) problems.push(`${path}: ${tr('未选择比较符', 'no operator')}`);
  const values = rule.values ?? [];
  if (rule.op === 'IS_NULL' || rule.op === 'IS_NOT_NULL') {
    if (values.length > 0) problems.push(`${path}: ${rule.op} ${tr('不带取值', 'takes no values')}`);
  } else if (rule.op === 'BETWEEN') {
    if (values.length !== 2) problems.push(`${path}: BETWEEN ${tr('需要两个取值', 'needs two values')}`);
  } else if (rule.op && values.length === 0) problems.push(`${path}: ${tr('至少需要一个取值', 'needs at least one value')}`);
  else if (rule.op && !['IN', 'NOT_IN'].includes(rule.op) && values.length > 1) problems.push(`${path}: ${rule.op} ${tr('只取一个值', 'takes one value')}`);
  if (rule.aggregate && values.some((v) => Number.isNaN(Number(v))))
    problems.push(`${path}: ${tr('聚合只能与数字比较', 'an aggregate compares with numbers')}`);
  return problems;
}

/** Reads a rule typed as JSON; throws with the reason when it is not one. */
export function parseRule(text: string): Rule {
  const value = JSON.parse(text) as unknown;
  const check = (node: unknown): Rule => {
    if (!node || typeof node !== 'object' || Array.isArray(node)) throw new Error('a rule is an object');
    const rule = node as Record<string, unknown>;
    const allowed = new Set(['and', 'or', 'not', 'dimension', 'tag', 'aggregate', 'op', 'values']);
    for (const key of Object.keys(rule)) if (!allowed.has(key)) throw new Error(`unknown field ${key}`);
    if (Array.isArray(rule.and)) return { and: rule.and.map(check) };
    if (Array.isArray(rule.or)) return { or: rule.or.map(check) };
    if (rule.not !== undefined) return { not: check(rule.not) };
    if (rule.op !== undefined && (typeof rule.op !== 'string' || !(OPS as readonly string[]).includes(rule.op)))
      throw new Error(`unknown op ${String(rule.op)}`);
    if (rule.values !== undefined && !(Array.isArray(rule.values) && rule.values.every((v) => typeof v === 'string')))
      throw new Error('values is a list of strings');
    return rule as Rule;
  };
  return check(value);
}

function leafKind(rule: Rule): LeafKind {
  return rule.tag !== undefined ? 'tag' : rule.aggregate !== undefined ? 'aggregate' : 'dimension';
}

interface Members {
  readonly dimensions: readonly string[];
  readonly tags: readonly { key: string; values: readonly string[] }[];
  readonly measures: readonly string[];
}

function useMembers(dimensionsOnly: boolean, dimensionScope: 'customer' | 'all'): Members {
  const { catalog } = useSession();
  const dimensions = catalog.models
    .filter((m) => dimensionScope === 'all' || m.name === 'customer')
    .flatMap((m) => m.dimensions.map((d) => `${m.name}.${d.name}`));
  const tags = catalog.tags.filter((t) => t.status === 'PUBLISHED').map((t) => ({ key: t.key, values: t.values }));
  const measures = catalog.models.filter((m) => m.name !== 'customer').flatMap((m) => m.measures.map((x) => `${m.name}.${x.name}`));
  return dimensionsOnly ? { dimensions, tags: [], measures: [] } : { dimensions, tags, measures };
}

function Leaf({ rule, onChange, members, label }: { rule: Rule; onChange: (rule: Rule) => void; members: Members; label: string }) {
  const { tr } = useFormats();
  const kind = leafKind(rule);
  const kinds: LeafKind[] = members.tags.length > 0 ? ['dimension', 'tag', 'aggregate'] : ['dimension'];
  const member = kind === 'tag' ? rule.tag : kind === 'aggregate' ? rule.aggregate?.measure : rule.dimension;
  const choices = kind === 'tag' ? members.tags.map((t) => t.key) : kind === 'aggregate' ? members.measures : members.dimensions;
  const tagValues = kind === 'tag' ? (members.tags.find((t) => t.key === rule.tag)?.values ?? []) : [];
  const [valuesText, setValuesText] = useState((rule.values ?? []).join(', '));
  useEffect(() => setValuesText((rule.values ?? []).join(', ')), [rule.values]);
  const base = { op: rule.op, values: rule.values };
  return (
    <fieldset className="leaf">
      <legend className="sr-only">{label}</legend>
      <select
        aria-label={tr('条件类型', 'Condition kind')}
        value={kind}
        onChange={(e) => {
          const next = e.target.value as LeafKind;
          onChange(
            next === 'tag'
              ? { ...base, tag: '' }
              : next === 'aggregate'
                ? { ...base, aggregate: { measure: '', window: { days: 30 } } }
                : { ...base, dimension: '' },
          );
        }}
      >
        {kinds.map((k) => (
          <option key={k} value={k}>
            {k === 'dimension' ? tr('维度', 'dimension') : k === 'tag' ? tr('标签', 'tag') : tr('聚合', 'aggregate')}
          </option>
        ))}
      </select>
      <select
        aria-label={tr('字段', 'Member')}
        value={member ?? ''}
        onChange={(e) => {
          const value = e.target.value;
          onChange(
            kind === 'tag'
              ? { ...base, tag: value }
              : kind === 'aggregate'
                ? { ...base, aggregate: { measure: value, window: rule.aggregate?.window ?? { days: 30 } } }
                : { ...base, dimension: value },
          );
        }}
      >
        <option value="">—</option>
        {choices.map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
      {kind === 'aggregate' ? (
        <label className="inline">
          {tr('天数', 'days')}
          <input
            type="number"
            min={1}
            value={rule.aggregate?.window.days ?? 30}
            onChange={(e) => onChange({ ...rule, aggregate: { measure: rule.aggregate?.measure ?? '', window: { days: Number(e.target.value) } } })}
          />
        </label>
      ) : null}
      <select
        aria-label={tr('比较符', 'Operator')}
        value={rule.op ?? ''}
        onChange={(e) => onChange({ ...rule, op: (e.target.value || undefined) as FilterOp | undefined })}
      >
        <option value="">—</option>
        {OPS.map((op) => (
          <option key={op} value={op}>
            {op}
          </option>
        ))}
      </select>
      {rule.op === 'IS_NULL' || rule.op === 'IS_NOT_NULL' ? null : (
        <input
          aria-label={tr('取值（逗号分隔）', 'Values (comma-separated)')}
          list={tagValues.length > 0 ? `values-${rule.tag}` : undefined}
          value={valuesText}
          placeholder={tr('取值，逗号分隔', 'values, comma-separated')}
          onChange={(e) => {
            setValuesText(e.target.value);
            const values = e.target.value
              .split(',')
              .map((v) => v.trim())
              .filter((v) => v !== '');
            onChange({ ...rule, values });
          }}
        />
      )}
      {tagValues.length > 0 ? (
        <datalist id={`values-${rule.tag}`}>
          {tagValues.map((v) => (
            <option key={v} value={v} />
          ))}
        </datalist>
      ) : null}
    </fieldset>
  );
}

function Node({
  rule,
  onChange,
  onRemove,
  members,
  depth,
}: {
  rule: Rule;
  onChange: (rule: Rule) => void;
  onRemove?: () => void;
  members: Members;
  depth: number;
}) {
  const { tr } = useFormats();
  const remove = onRemove ? (
    <button type="button" className="link" onClick={onRemove} aria-label={tr('删除条件', 'Remove condition')}>
      ×
    </button>
  ) : null;
  if (!isGroup(rule))
    return (
      <div className="node">
        <Leaf rule={rule} onChange={onChange} members={members} label={tr('条件', 'Condition')} />
        {remove}
      </div>
    );
  const combinator = rule.and ? 'and' : rule.or ? 'or' : 'not';
  const children: Rule[] = rule.and ?? rule.or ?? (rule.not ? [rule.not] : []);
  const setChildren = (next: Rule[], as = combinator) =>
    onChange(as === 'not' ? { not: next[0] ?? { dimension: '' } } : as === 'and' ? { and: next } : { or: next });
  const newLeaf: Rule = members.tags.length > 0 ? { tag: '', op: 'EQ', values: [] } : { dimension: '', op: 'EQ', values: [] };
  return (
    <fieldset className="group" style={{ marginLeft: depth > 0 ? 12 : 0 }}>
      <legend>
        <select aria-label={tr('组合方式', 'Combinator')} value={combinator} onChange={(e) => setChildren(children, e.target.value as 'and' | 'or' | 'not')}>
          <option value="and">{tr('且 (and)', 'and')}</option>
          <option value="or">{tr('或 (or)', 'or')}</option>
          <option value="not">{tr('非 (not)', 'not')}</option>
        </select>
        {remove}
      </legend>
      {children.map((child, i) => (
        <Node
          // biome-ignore lint/suspicious/noArrayIndexKey: conditions have no identity but their place.
          key={i}
          rule={child}
          depth={depth + 1}
          members={members}
          onChange={(next) => setChildren(children.map((c, j) => (j === i ? next : c)))}
          onRemove={children.length > 1 ? () => setChildren(children.filter((_, j) => j !== i)) : undefined}
        />
      ))}
      {combinator === 'not' ? null : (
        <div className="row">
          <button type="button" onClick={() => setChildren([...children, newLeaf])}>
            + {tr('条件', 'condition')}
          </button>
          <button type="button" onClick={() => setChildren([...children, { and: [newLeaf] }])}>
            + {tr('组合', 'group')}
          </button>
        </div>
      )}
    </fieldset>
  );
}

/**
 * The rule builder: and/or/not groups over dimension, tag and aggregate leaves, checked as
 * you type, beside its JSON (editable: valid JSON replaces the built rule).
 */
export function RuleBuilder({
  rule,
  onChange,
  dimensionsOnly = false,
  dimensionScope = 'customer',
  label,
}: {
  rule: Rule;
  onChange: (rule: Rule) => void;
  dimensionsOnly?: boolean;
  dimensionScope?: 'customer' | 'all';
  label: string;
}) {
  const { tr } = useFormats();
  const members = useMembers(dimensionsOnly, dimensionScope);
  const knownTags = new Set(members.tags.map((t) => t.key));
  const problems = ruleProblems(rule, dimensionsOnly ? new Set() : knownTags, 'rule', tr);
  const [json, setJson] = useState(() => JSON.stringify(rule, null, 2));
  const [jsonProblem, setJsonProblem] = useState<string | null>(null);
  useEffect(() => setJson(JSON.stringify(rule, null, 2)), [rule]);
  const root = isGroup(rule) ? rule : { and: [rule] };
  return (
    <fieldset className="rule-builder">
      <legend className="sr-only">{label}</legend>
      <div className="rule-tree">
        <Node rule={root} onChange={onChange} members={members} depth={0} />
        <ul className="problems" aria-live="polite" data-testid="rule-problems">
          {problems.map((p) => (
            <li key={p} className="error">
              {p}
            </li>
          ))}
        </ul>
      </div>
      <details className="rule-json">
        <summary>JSON</summary>
        <label htmlFor={`${label}-json`} className="sr-only">
          {tr('规则 JSON', 'Rule JSON')}
        </label>
        <textarea
          id={`${label}-json`}
          rows={10}
          value={json}
          spellCheck={false}
          onChange={(e) => {
            setJson(e.target.value);
            try {
              onChange(parseRule(e.target.value));
              setJsonProblem(null);
            } catch (error) {
              setJsonProblem(error instanceof Error ? error.message : String(error));
            }
          }}
        />
        {jsonProblem ? (
          <p className="error" role="alert">
            {jsonProblem}
          </p>
        ) : null}
      </details>
    </fieldset>
  );
}
