import { useEffect, useState } from 'react';
import type { FilterOp } from './generated/strata-console.ts';
import { useFormats } from './locale.ts';
import { isGroup, OPS, parseRule, ruleProblems, type Rule } from './rule-check.ts';
import { useSession } from './session.tsx';

export { parseRule, ruleProblems, type Rule };

type LeafKind = 'dimension' | 'tag' | 'aggregate';

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
