import { useEffect, useMemo, useRef, useState } from 'react';
import { gql, messageOf } from '../api.ts';
import { Chart } from '../charts.tsx';
import {
  ConsoleApproveTagDocument,
  ConsoleCreateTagDocument,
  ConsoleRejectTagDocument,
  ConsoleSubmitTagDocument,
  ConsoleTagHistoryDocument,
  ConsoleTagCoverageDocument,
  ConsoleTagPreviewDocument,
  ConsoleUpdateTagDocument,
  type ConsoleTagCoverageQuery,
  type ConsoleTagPreviewQuery,
  type TagKind,
  type UpdateTagInput,
} from '../generated/strata-console.ts';
import { useFormats } from '../locale.ts';
import { RuleBuilder, ruleProblems, type Rule } from '../rules.tsx';
import { useSession, type CatalogTag } from '../session.tsx';
import { diffSincePublished } from '../review-diff.ts';
import { Diff, HistoryTable } from '../review.tsx';
import { ActionButton, ErrorNote, Json, Loading, Section, StatusBadge, useLoad } from '../ui.tsx';

type Preview = ConsoleTagPreviewQuery['tagPreview'];

function PreviewView({ preview }: { preview: Preview }) {
  const formats = useFormats();
  const { tr } = formats;
  const option = useMemo(
    () => ({
      tooltip: { trigger: 'axis' },
      grid: { left: 8, right: 8, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: 'category', data: preview.values.map((v) => v.value ?? '∅') },
      yAxis: { type: 'value' },
      series: [{ type: 'bar', data: preview.values.map((v) => v.customers) }],
    }),
    [preview],
  );
  return (
    <div className="preview" data-testid="tag-preview">
      <p>
        {tr('客户数', 'Customers')}: <strong data-testid="preview-customers">{formats.number(preview.customers)}</strong> · {tr('覆盖率', 'Coverage')}:{' '}
        <strong data-testid="preview-coverage">{formats.percent(preview.coverage, 2)}</strong> · {tr('快照', 'Snapshot')} {formats.date(preview.asOf)}
      </p>
      <Chart option={option} label={tr('取值分布', 'Value distribution')} height={160} />
      <table>
        <caption>{tr('取值分布', 'Value distribution')}</caption>
        <thead>
          <tr>
            <th scope="col">{tr('取值', 'Value')}</th>
            <th scope="col" className="num">
              {tr('客户数', 'Customers')}
            </th>
          </tr>
        </thead>
        <tbody>
          {preview.values.map((v) => (
            <tr key={v.value ?? '∅'}>
              <td>{v.value ?? '∅'}</td>
              <td className="num">{v.suppressed ? <span className="suppressed">{tr('已隐藏 (<k)', 'suppressed (<k)')}</span> : formats.number(v.customers)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** One tag: definition, coverage on demand, history; submit (drafts) or approve and reject (under review). */
function TagDetail({ tag, onChanged }: { tag: CatalogTag; onChanged: () => Promise<void> }) {
  const formats = useFormats();
  const { tr } = formats;
  const { may } = useSession();
  const history = useLoad(
    may('catalog.drafts') ? async () => (await gql(ConsoleTagHistoryDocument, { key: tag.key })).tagHistory : null,
    `${tag.key}@${tag.version}:${tag.status}`,
  );
  const [preview, setPreview] = useState<Preview | null>(null);
  const [reason, setReason] = useState('');
  const [editing, setEditing] = useState(false);
  return (
    <article className="definition" aria-label={tag.key} data-testid={`tag-detail-${tag.key}`}>
      <h3>
        {tag.key} <StatusBadge status={tag.status} /> <span className="muted small">v{tag.version}</span>
      </h3>
      <p>{tag.description}</p>
      <dl>
        <dt>{tr('类型', 'Kind')}</dt>
        <dd>{tag.kind}</dd>
        <dt>{tr('负责人', 'Owner')}</dt>
        <dd>{tag.owner}</dd>
        <dt>{tr('类别', 'Category')}</dt>
        <dd>{tag.category}</dd>
        <dt>{tr('敏感级别', 'Sensitivity')}</dt>
        <dd>{tag.sensitivity}</dd>
      </dl>
      {tag.status === 'IN_REVIEW' && history.data ? (
        <Section title={tr('审核：差异', 'Review: changes')}>
          <Diff changes={diffSincePublished(history.data)} />
        </Section>
      ) : null}
      <details open={tag.status === 'IN_REVIEW'}>
        <summary>{tr('定义 (JSON)', 'Definition (JSON)')}</summary>
        <Json value={tag.definition} />
      </details>
      {may('tags.preview') ? (
        <ActionButton
          label={tr('计算覆盖率', 'Compute coverage')}
          testId="tag-coverage"
          run={async () => setPreview((await gql(ConsoleTagPreviewDocument, { tag: tag.definition as UpdateTagInput, kind: tag.kind })).tagPreview)}
        />
      ) : null}
      {preview ? <PreviewView preview={preview} /> : null}
      {editing ? (
        <TagEditor
          existing={tag}
          onSaved={async () => {
            setEditing(false);
            await onChanged();
          }}
        />
      ) : null}
      <div className="row">
        {tag.status === 'DRAFT' && may('tags.draft') ? (
          <button type="button" onClick={() => setEditing(!editing)} data-testid="edit-tag" aria-expanded={editing}>
            {editing ? tr('取消编辑', 'Cancel editing') : tr('编辑草稿', 'Edit draft')}
          </button>
        ) : null}
        {tag.status === 'DRAFT' && may('tags.draft') && !editing ? (
          <ActionButton
            label={tr('提交审核', 'Submit for review')}
            testId="submit-tag"
            run={async () => {
              await gql(ConsoleSubmitTagDocument, { key: tag.key, expectedVersion: tag.version });
              await onChanged();
            }}
          />
        ) : null}
        {tag.status === 'IN_REVIEW' && may('tags.review') ? (
          <>
            <ActionButton
              label={tr('批准', 'Approve')}
              testId="approve-tag"
              run={async () => {
                await gql(ConsoleApproveTagDocument, { key: tag.key, expectedVersion: tag.version });
                await onChanged();
              }}
            />
            <label>
              {tr('驳回原因', 'Reason to reject')} <input value={reason} onChange={(e) => setReason(e.target.value)} />
            </label>
            <ActionButton
              label={tr('驳回', 'Reject')}
              testId="reject-tag"
              disabled={reason.trim() === ''}
              run={async () => {
                await gql(ConsoleRejectTagDocument, { key: tag.key, expectedVersion: tag.version, reason: reason.trim() });
                await onChanged();
              }}
            />
          </>
        ) : null}
      </div>
      <Loading when={history.loading} retrying={history.retrying} />
      <ErrorNote error={history.error} />
      {history.data ? <HistoryTable history={history.data} /> : null}
    </article>
  );
}

/** What the editor starts from: a saved draft's definition (the form `createTag` takes), or a blank boolean tag. */
function initialOf(existing: CatalogTag | undefined) {
  const definition = (existing?.definition ?? {}) as { rule?: Rule; cases?: { value: string; rule: Rule }[]; else?: string | null };
  return {
    key: existing?.key ?? '',
    description: existing?.description ?? '',
    category: existing?.category ?? 'behaviour',
    kind: (existing?.kind ?? 'BOOLEAN') as TagKind,
    rule: definition.rule ?? ({ and: [{ tag: '', op: 'EQ', values: [] }] } as Rule),
    cases: definition.cases ?? [{ value: '', rule: { tag: '', op: 'EQ', values: [] } as Rule }],
    otherwise: definition.else ?? 'other',
  };
}

/**
 * A new boolean or enum tag, or a saved draft edited: the rule builder (or one per case),
 * preview as typed, save as a draft (a new version of an existing draft, under its version).
 */
function TagEditor({ existing, onSaved }: { existing?: CatalogTag; onSaved: (key: string) => Promise<void> }) {
  const formats = useFormats();
  const { tr } = formats;
  const { catalog } = useSession();
  const initial = useMemo(() => initialOf(existing), [existing]);
  const [key, setKey] = useState(initial.key);
  const [description, setDescription] = useState(initial.description);
  const [category, setCategory] = useState(initial.category);
  const [kind, setKind] = useState<TagKind>(initial.kind);
  const [rule, setRule] = useState<Rule>(initial.rule);
  const [cases, setCases] = useState<{ value: string; rule: Rule }[]>(initial.cases);
  const [otherwise, setOtherwise] = useState(initial.otherwise);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const published = new Set(catalog.tags.filter((t) => t.status === 'PUBLISHED' && t.key !== existing?.key).map((t) => t.key));
  const problems =
    kind === 'BOOLEAN'
      ? ruleProblems(rule, published, 'rule', tr)
      : cases.flatMap((c, i) => [
          ...(c.value ? [] : [`cases[${i}]: ${tr('缺少取值', 'no value')}`]),
          ...ruleProblems(c.rule, published, `cases[${i}].rule`, tr),
        ]);
  const keyProblem = key && !/^[a-z][a-z0-9_]{1,62}$/.test(key) ? tr('键为 snake_case，2–63 个字符', 'the key is snake_case, 2-63 characters') : null;
  const definition: UpdateTagInput = kind === 'BOOLEAN' ? { rule } : { cases, else: otherwise };
  // The preview follows the rule as it is typed, once it is valid (the server checks what the builder cannot).
  const previewKey = problems.length === 0 ? JSON.stringify({ kind, definition }) : '';
  const latest = useRef({ kind, rule, definition });
  latest.current = { kind, rule, definition };
  useEffect(() => {
    if (!previewKey) return;
    const { kind, rule, definition } = latest.current;
    let live = true;
    const timer = setTimeout(() => {
      gql(ConsoleTagPreviewDocument, kind === 'BOOLEAN' ? { rule: rule, kind } : { tag: definition, kind }).then(
        (answer) => live && (setPreview(answer.tagPreview), setProblem(null)),
        (error: unknown) => live && (setPreview(null), setProblem(messageOf(error))),
      );
    }, 400);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [previewKey]);
  return (
    <form
      className="new-tag"
      aria-label={existing ? `${tr('编辑草稿', 'Edit draft')} ${existing.key}` : tr('新建标签', 'New tag')}
      onSubmit={(event) => {
        event.preventDefault();
      }}
    >
      <div className="row">
        <label>
          {tr('键', 'Key')}{' '}
          <input
            value={key}
            onChange={(e) => setKey(e.target.value)}
            data-testid="new-tag-key"
            aria-invalid={keyProblem !== null}
            readOnly={existing !== undefined}
          />
        </label>
        <label>
          {tr('类型', 'Kind')}{' '}
          <select value={kind} onChange={(e) => setKind(e.target.value as TagKind)} disabled={existing !== undefined}>
            <option value="BOOLEAN">BOOLEAN</option>
            <option value="ENUM">ENUM</option>
          </select>
        </label>
        <label>
          {tr('类别', 'Category')} <input value={category} onChange={(e) => setCategory(e.target.value)} />
        </label>
      </div>
      {keyProblem ? <p className="error">{keyProblem}</p> : null}
      <label className="block">
        {tr('描述', 'Description')} <input value={description} onChange={(e) => setDescription(e.target.value)} data-testid="new-tag-description" />
      </label>
      {kind === 'BOOLEAN' ? (
        <RuleBuilder rule={rule} onChange={setRule} label={tr('标签规则', 'Tag rule')} />
      ) : (
        <>
          {cases.map((c, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: cases are ordered and have no identity but their place.
            <fieldset key={i}>
              <legend>
                {tr('分支', 'Case')} {i + 1}
              </legend>
              <label>
                {tr('取值', 'Value')} <input value={c.value} onChange={(e) => setCases(cases.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)))} />
              </label>
              <RuleBuilder
                rule={c.rule}
                onChange={(r) => setCases(cases.map((x, j) => (j === i ? { ...x, rule: r } : x)))}
                label={`${tr('分支规则', 'Case rule')} ${i + 1}`}
              />
            </fieldset>
          ))}
          <button type="button" onClick={() => setCases([...cases, { value: '', rule: { tag: '', op: 'EQ', values: [] } }])}>
            + {tr('分支', 'case')}
          </button>
          <label>
            {tr('其余取值', 'Else value')} <input value={otherwise} onChange={(e) => setOtherwise(e.target.value)} />
          </label>
        </>
      )}
      <ErrorNote error={problem} />
      {preview ? <PreviewView preview={preview} /> : null}
      <ActionButton
        label={existing ? tr('保存新版本草稿', 'Save the draft as a new version') : tr('保存草稿', 'Save draft')}
        testId="save-tag"
        disabled={!key || keyProblem !== null || problems.length > 0}
        run={async () => {
          const fields = { category, ...(description ? { description } : {}), ...(kind === 'BOOLEAN' ? { rule } : { cases, else: otherwise }) };
          if (existing) await gql(ConsoleUpdateTagDocument, { key, expectedVersion: existing.version, input: fields });
          else await gql(ConsoleCreateTagDocument, { input: { key, kind, ...fields } });
          await onSaved(key);
        }}
      />
    </form>
  );
}

type Coverage = ConsoleTagCoverageQuery['catalog']['tags'][number]['coverage'];

/** A tag's coverage in the published snapshot: customers with a value and their share, suppressed cells shown as suppressed. */
function CoverageCells({ coverage, loading, tagKey }: { coverage: Coverage | undefined; loading: boolean; tagKey: string }) {
  const formats = useFormats();
  const { tr } = formats;
  if (loading && coverage === undefined)
    return (
      <>
        <td className="num muted">…</td>
        <td className="num muted">…</td>
      </>
    );
  if (!coverage)
    return (
      <td colSpan={2} className="num muted small" data-testid={`coverage-${tagKey}`}>
        {tr('快照中尚无', 'not in the snapshot yet')}
      </td>
    );
  if (coverage.suppressed)
    return (
      <td colSpan={2} className="num" data-testid={`coverage-${tagKey}`} data-suppressed="true">
        <span className="suppressed">{tr('已隐藏 (<k)', 'suppressed (<k)')}</span>
      </td>
    );
  return (
    <>
      <td className="num" data-testid={`coverage-${tagKey}-customers`} data-value={coverage.customers ?? ''}>
        {formats.number(coverage.customers)}
      </td>
      <td
        className="num"
        data-testid={`coverage-${tagKey}`}
        data-value={coverage.share ?? ''}
        title={`${tr('快照', 'Snapshot')} ${formats.date(coverage.asOf)}`}
      >
        {formats.percent(coverage.share, 1)}
      </td>
    </>
  );
}

export default function Stewards() {
  const formats = useFormats();
  const { tr } = formats;
  const { catalog, may, refreshCatalog } = useSession();
  const [selected, setSelected] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [filter, setFilter] = useState('');
  const tags = catalog.tags.filter((t) => !filter || `${t.key} ${t.owner} ${t.status} ${t.category}`.toLowerCase().includes(filter.toLowerCase()));
  const queue = catalog.tags.filter((t) => t.status === 'IN_REVIEW');
  const tag = catalog.tags.find((t) => t.key === selected);
  const coverage = useLoad(
    may('tags.preview') ? async () => new Map((await gql(ConsoleTagCoverageDocument, {})).catalog.tags.map((t) => [t.key, t.coverage])) : null,
    `coverage-${catalog.tags.map((t) => `${t.key}@${t.version}:${t.status}`).join(',')}`,
  );
  return (
    <div className="stewards">
      {may('tags.review') || may('catalog.drafts') ? (
        <Section title={`${tr('审核队列', 'Review queue')} (${queue.length})`} id="review-queue">
          {queue.length === 0 ? <p className="muted">{tr('没有待审核的标签', 'Nothing under review')}</p> : null}
          <ul data-testid="review-queue">
            {queue.map((t) => (
              <li key={t.key}>
                <button type="button" className="link" onClick={() => setSelected(t.key)}>
                  {t.key}
                </button>{' '}
                <span className="muted small">
                  v{t.version} · {t.owner}
                </span>
              </li>
            ))}
          </ul>
        </Section>
      ) : null}
      <Section
        title={tr('标签', 'Tags')}
        actions={
          may('tags.draft') ? (
            <button type="button" onClick={() => setCreating(!creating)} data-testid="new-tag">
              {creating ? tr('关闭', 'Close') : `+ ${tr('新建标签', 'New tag')}`}
            </button>
          ) : null
        }
      >
        {creating ? (
          <TagEditor
            onSaved={async (key) => {
              await refreshCatalog();
              setCreating(false);
              setSelected(key);
            }}
          />
        ) : null}
        <label className="sr-only" htmlFor="tag-filter">
          {tr('筛选标签', 'Filter tags')}
        </label>
        <input
          id="tag-filter"
          type="search"
          placeholder={tr('按键、负责人、状态筛选', 'Filter by key, owner, status')}
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
        />
        <div className="table-wrap">
          <table data-testid="tag-list">
            <caption>
              {tags.length} {tr('个标签', 'tags')}
            </caption>
            <thead>
              <tr>
                <th scope="col">{tr('键', 'Key')}</th>
                <th scope="col">{tr('类型', 'Kind')}</th>
                <th scope="col">{tr('状态', 'Status')}</th>
                <th scope="col">{tr('版本', 'Version')}</th>
                {may('tags.preview') ? (
                  <>
                    <th scope="col" className="num">
                      {tr('覆盖客户', 'Customers with a value')}
                    </th>
                    <th scope="col" className="num">
                      {tr('覆盖率', 'Coverage')}
                    </th>
                  </>
                ) : null}
                <th scope="col">{tr('负责人', 'Owner')}</th>
                <th scope="col">{tr('类别', 'Category')}</th>
              </tr>
            </thead>
            <tbody>
              {tags.map((t) => (
                <tr key={t.key} aria-selected={t.key === selected}>
                  <td>
                    <button type="button" className="link" onClick={() => setSelected(t.key)}>
                      {t.key}
                    </button>
                  </td>
                  <td>{t.kind}</td>
                  <td>
                    <StatusBadge status={t.status} />
                  </td>
                  <td>{t.version}</td>
                  {may('tags.preview') ? <CoverageCells coverage={coverage.data?.get(t.key)} loading={coverage.loading} tagKey={t.key} /> : null}
                  <td>{t.owner}</td>
                  <td>{t.category}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Section>
      {tag ? (
        <Section title={tr('标签详情', 'Tag')}>
          <TagDetail key={`${tag.key}@${tag.version}:${tag.status}`} tag={tag} onChanged={refreshCatalog} />
        </Section>
      ) : null}
    </div>
  );
}
