import { useEffect, useMemo, useState } from 'react';
import { gql } from '../api.ts';
import { Chart, type ChartKind, metricOption } from '../charts.tsx';
import {
  ConsoleExplainChangeDocument,
  ConsoleMetricsDocument,
  type ConsoleExplainChangeQuery,
  type ConsoleMetricsQuery,
  type ExplainMetricChangeInput,
  type FilterInput,
  type Grain,
  type MetricQueryInput,
} from '../generated/strata-console.ts';
import { useFormats } from '../locale.ts';
import { jsonParam, useRoute } from '../route.ts';
import { RuleBuilder, type Rule } from '../rules.tsx';
import { metricFormat, useSession, type CatalogMetric } from '../session.tsx';
import { ActionButton, ErrorNote, Json, Section, StatusBadge } from '../ui.tsx';
import { resultCsv } from '../csv.ts';
import { lastTwoPeriods } from '../change-periods.ts';
import { ChangeView } from '../change-view.tsx';
import { DefinitionPanel } from '../definition-view.tsx';

const GRAINS: readonly Grain[] = ['DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR'];
type Result = ConsoleMetricsQuery['metrics'];

function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function MetricCard({ metric }: { metric: CatalogMetric }) {
  const { tr } = useFormats();
  return (
    <article className="definition" data-testid={`definition-${metric.name}`} aria-label={metric.name}>
      <h3>
        {metric.name} <StatusBadge status={metric.status} />
      </h3>
      <p>{metric.description}</p>
      <dl>
        <dt>{tr('类型', 'Type')}</dt>
        <dd>{metric.type}</dd>
        <dt>{tr('负责人', 'Owner')}</dt>
        <dd>{metric.owner}</dd>
        <dt>{tr('时间维度', 'Time dimension')}</dt>
        <dd>{metric.timeDimension ?? '—'}</dd>
        <dt>{tr('血缘：模型', 'Lineage: models')}</dt>
        <dd>{metric.lineage.models.join(', ')}</dd>
        <dt>{tr('血缘：度量', 'Lineage: measures')}</dt>
        <dd>{metric.lineage.measures.join(', ')}</dd>
        {metric.lineage.tables ? (
          <>
            <dt>{tr('血缘：表', 'Lineage: tables')}</dt>
            <dd>{metric.lineage.tables.join(', ')}</dd>
          </>
        ) : null}
      </dl>
      <details>
        <summary>
          {tr('可切分维度', 'Sliced by')} ({metric.dimensions.length})
        </summary>
        <p className="small">{metric.dimensions.join(', ')}</p>
      </details>
    </article>
  );
}

interface Draft {
  metrics: string[];
  groupBy: { dimension: string; grain?: Grain }[];
  where: Rule | null;
  from: string;
  to: string;
}

function draftOf(query: MetricQueryInput | undefined, metric: string | null): Draft {
  const groupBy = (query?.groupBy ?? []).map((g) => ({ dimension: g.dimension, ...(g.grain ? { grain: g.grain } : {}) }));
  return {
    metrics: query?.metrics ?? (metric ? [metric] : []),
    groupBy: query ? groupBy : [{ dimension: 'metric_time', grain: 'MONTH' }],
    where: (query?.where as Rule | undefined) ?? null,
    from: query?.timeRange?.from ?? '',
    to: query?.timeRange?.to ?? '',
  };
}

function queryOf(draft: Draft): MetricQueryInput {
  const timeRange = draft.from || draft.to ? { ...(draft.from ? { from: draft.from } : {}), ...(draft.to ? { to: draft.to } : {}) } : undefined;
  const time = draft.groupBy.find((g) => g.dimension === 'metric_time');
  return {
    metrics: draft.metrics,
    groupBy: draft.groupBy,
    ...(draft.where ? { where: draft.where as FilterInput } : {}),
    ...(timeRange ? { timeRange } : {}),
    ...(time ? { orderBy: [{ field: 'metric_time', direction: 'ASC' as const }] } : {}),
    limit: 5000,
  };
}

/**
 * The question "why did it move?" for a time series answer: its first metric, the last two
 * periods with rows, the answer's own filter, and up to three dimensions to explain by (the
 * other group-bys first, then the metric's categorical dimensions of public or internal class).
 */
function changeInput(query: MetricQueryInput, answer: Result, catalog: ReturnType<typeof useSession>['catalog']): ExplainMetricChangeInput | null {
  const time = query.groupBy?.find((g) => g.dimension === 'metric_time');
  const column = answer.columns.find((c) => c.name.startsWith('metric_time'));
  const metric = catalog.metrics.find((m) => m.name === query.metrics[0]);
  if (!time || !column || !metric) return null;
  const periods = lastTwoPeriods(
    answer.rows.map((r) => String(r[column.name])),
    time.grain ?? 'DAY',
    query.timeRange?.to,
  );
  if (!periods) return null;
  const categorical = metric.dimensions.filter((name) => {
    const [model, dimension] = name.split('.');
    const found = catalog.models.find((m) => m.name === model)?.dimensions.find((d) => d.name === dimension);
    return (
      found !== undefined && found.type === 'string' && (found.sensitivity === 'public' || found.sensitivity === 'internal') && !/(_id|_name)$/.test(found.name)
    );
  });
  const grouped = (query.groupBy ?? []).map((g) => g.dimension).filter((d) => d !== 'metric_time');
  const dimensions = [...new Set([...grouped, ...categorical])].slice(0, 3);
  if (dimensions.length === 0) return null;
  return { metric: metric.name, base: periods.base, current: periods.current, dimensions, ...(query.where ? { where: query.where } : {}) };
}

export default function Explorer() {
  const { catalog, may } = useSession();
  const formats = useFormats();
  const { tr } = formats;
  const { params } = useRoute();
  const initialQuery = jsonParam<MetricQueryInput>(params, 'q');
  const [selected, setSelected] = useState<string | null>(params.get('metric') ?? initialQuery?.metrics[0] ?? catalog.metrics[0]?.name ?? null);
  const [search, setSearch] = useState('');
  const [draft, setDraft] = useState<Draft>(() => draftOf(initialQuery, params.get('metric')));
  const [result, setResult] = useState<{ query: MetricQueryInput; answer: Result } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [chartKind, setChartKind] = useState<ChartKind>('line');
  const [explained, setExplained] = useState<{ input: ExplainMetricChangeInput; answer: ConsoleExplainChangeQuery['explainMetricChange'] } | null>(null);

  const metric = catalog.metrics.find((m) => m.name === selected);
  const shown = catalog.metrics.filter((m) => !search || `${m.name} ${m.description} ${m.owner}`.toLowerCase().includes(search.toLowerCase()));
  const sliceable = useMemo(() => {
    const chosen = catalog.metrics.filter((m) => draft.metrics.includes(m.name));
    if (chosen.length === 0) return [];
    return chosen.map((m) => m.dimensions).reduce((common, dims) => common.filter((d) => dims.includes(d)));
  }, [catalog.metrics, draft.metrics]);
  const canQuery = may('metrics.query');

  const run = async (query: MetricQueryInput) => {
    setBusy(true);
    setError(null);
    try {
      const { metrics } = await gql(ConsoleMetricsDocument, { query });
      setResult({ query, answer: metrics });
      setExplained(null);
      setChartKind(query.groupBy?.some((g) => g.dimension === 'metric_time') ? 'line' : 'bar');
    } catch (failure) {
      setResult(null);
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  };
  // A link from a tile or a number opens with its query run (again when the link changes).
  const linked = params.get('q');
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs once per linked query.
  useEffect(() => {
    const query = jsonParam<MetricQueryInput>(params, 'q');
    if (!query || !canQuery) return;
    setDraft(draftOf(query, null));
    void run(queryOf(draftOf(query, null)));
  }, [linked]);

  const formatOf = (name: string) => metricFormat(catalog.metrics.find((m) => m.name === name));
  const metrics = catalog.metrics;
  const option = useMemo(
    () =>
      result ? metricOption(chartKind, result.answer.columns, result.answer.rows, formats, (name) => metricFormat(metrics.find((m) => m.name === name))) : null,
    [result, chartKind, formats, metrics],
  );
  const suppressed = new Set(result?.answer.suppressedRows ?? []);
  const explainInput = result ? changeInput(result.query, result.answer, catalog) : null;

  return (
    <div className="explorer">
      {params.get('definition') ? <DefinitionPanel params={params} /> : null}
      <Section title={tr('指标目录', 'Catalog')}>
        <label className="sr-only" htmlFor="metric-search">
          {tr('搜索指标', 'Search metrics')}
        </label>
        <input
          id="metric-search"
          type="search"
          placeholder={tr('搜索指标、描述、负责人', 'Search name, description, owner')}
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
        <ul className="metric-list">
          {shown.map((m) => (
            <li key={m.name}>
              <button
                type="button"
                className={m.name === selected ? 'link selected' : 'link'}
                aria-pressed={m.name === selected}
                onClick={() => setSelected(m.name)}
              >
                {m.name}
              </button>
              <span className="muted small"> {m.owner}</span>
            </li>
          ))}
        </ul>
        {metric ? <MetricCard metric={metric} /> : null}
        {metric && canQuery && !draft.metrics.includes(metric.name) ? (
          <button type="button" onClick={() => setDraft({ ...draft, metrics: [...draft.metrics, metric.name] })}>
            {tr('加入查询', 'Add to query')}
          </button>
        ) : null}
      </Section>
      {canQuery ? (
        <Section title={tr('查询', 'Query')}>
          <form
            className="query-builder"
            onSubmit={(event) => {
              event.preventDefault();
              void run(queryOf(draft));
            }}
          >
            <fieldset>
              <legend>{tr('指标', 'Metrics')}</legend>
              {draft.metrics.map((name) => (
                <span key={name} className="chip">
                  {name}
                  <button
                    type="button"
                    className="link"
                    aria-label={`${tr('移除', 'Remove')} ${name}`}
                    onClick={() => setDraft({ ...draft, metrics: draft.metrics.filter((m) => m !== name) })}
                  >
                    ×
                  </button>
                </span>
              ))}
              <label className="sr-only" htmlFor="add-metric">
                {tr('添加指标', 'Add metric')}
              </label>
              <select id="add-metric" value="" onChange={(e) => e.target.value && setDraft({ ...draft, metrics: [...draft.metrics, e.target.value] })}>
                <option value="">+ {tr('指标', 'metric')}</option>
                {catalog.metrics
                  .filter((m) => !draft.metrics.includes(m.name))
                  .map((m) => (
                    <option key={m.name} value={m.name}>
                      {m.name}
                    </option>
                  ))}
              </select>
            </fieldset>
            <fieldset>
              <legend>{tr('分组', 'Group by')}</legend>
              {draft.groupBy.map((g, i) => (
                <span key={g.dimension} className="chip">
                  {g.dimension}
                  {g.dimension === 'metric_time' || g.grain ? (
                    <select
                      aria-label={`${tr('粒度', 'Grain')} ${g.dimension}`}
                      value={g.grain ?? 'MONTH'}
                      onChange={(e) => setDraft({ ...draft, groupBy: draft.groupBy.map((x, j) => (j === i ? { ...x, grain: e.target.value as Grain } : x)) })}
                    >
                      {GRAINS.map((grain) => (
                        <option key={grain} value={grain}>
                          {grain}
                        </option>
                      ))}
                    </select>
                  ) : null}
                  <button
                    type="button"
                    className="link"
                    aria-label={`${tr('移除', 'Remove')} ${g.dimension}`}
                    onClick={() => setDraft({ ...draft, groupBy: draft.groupBy.filter((_, j) => j !== i) })}
                  >
                    ×
                  </button>
                </span>
              ))}
              <label className="sr-only" htmlFor="add-group">
                {tr('添加分组', 'Add group-by')}
              </label>
              <select
                id="add-group"
                value=""
                onChange={(e) =>
                  e.target.value &&
                  setDraft({
                    ...draft,
                    groupBy: [
                      ...draft.groupBy,
                      e.target.value === 'metric_time' ? { dimension: 'metric_time', grain: 'MONTH' } : { dimension: e.target.value },
                    ],
                  })
                }
              >
                <option value="">+ {tr('维度', 'dimension')}</option>
                {['metric_time', ...sliceable.filter((d) => d !== 'metric_time')]
                  .filter((d) => !draft.groupBy.some((g) => g.dimension === d))
                  .map((d) => (
                    <option key={d} value={d}>
                      {d}
                    </option>
                  ))}
              </select>
            </fieldset>
            <fieldset>
              <legend>{tr('时间范围 [起, 止)', 'Time range [from, to)')}</legend>
              <label>
                {tr('起', 'From')} <input type="date" value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
              </label>
              <label>
                {tr('止', 'To')} <input type="date" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
              </label>
            </fieldset>
            <fieldset>
              <legend>{tr('筛选', 'Filter')}</legend>
              {draft.where ? (
                <>
                  <RuleBuilder
                    rule={draft.where}
                    onChange={(where) => setDraft({ ...draft, where })}
                    dimensionsOnly
                    dimensionScope="all"
                    label={tr('筛选条件', 'Filter')}
                  />
                  <button type="button" onClick={() => setDraft({ ...draft, where: null })}>
                    {tr('清除筛选', 'Clear filter')}
                  </button>
                </>
              ) : (
                <button type="button" onClick={() => setDraft({ ...draft, where: { dimension: sliceable[0] ?? '', op: 'EQ', values: [] } })}>
                  + {tr('筛选', 'filter')}
                </button>
              )}
            </fieldset>
            <button type="submit" disabled={busy || draft.metrics.length === 0} data-testid="run-query">
              {busy ? tr('查询中…', 'Running…') : tr('运行', 'Run')}
            </button>
          </form>
          <ErrorNote error={error} />
        </Section>
      ) : (
        <p className="muted">{tr('您的角色只能浏览目录。', 'Your role may browse the catalog only.')}</p>
      )}
      {result ? (
        <Section
          title={tr('结果', 'Result')}
          actions={
            <div className="row">
              <label>
                <span className="sr-only">{tr('图表类型', 'Chart type')}</span>
                <select value={chartKind} onChange={(e) => setChartKind(e.target.value as ChartKind)}>
                  <option value="line">{tr('折线', 'line')}</option>
                  <option value="bar">{tr('柱状', 'bar')}</option>
                  <option value="stacked_bar">{tr('堆叠柱状', 'stacked bar')}</option>
                  <option value="pie">{tr('饼图', 'pie')}</option>
                </select>
              </label>
              <button type="button" data-testid="download-csv" onClick={() => download('strata-metrics.csv', resultCsv(result.answer))}>
                {tr('下载 CSV', 'Download CSV')}
              </button>
            </div>
          }
        >
          {option ? <Chart option={option} label={`${tr('图表', 'Chart')}: ${result.query.metrics.join(', ')}`} /> : null}
          <div className="table-wrap">
            <table data-testid="result-table">
              <caption>
                {result.answer.rows.length} {tr('行', 'rows')}
                {suppressed.size > 0 ? ` · ${suppressed.size} ${tr('行因小样本隐藏', 'rows hidden under the privacy threshold')}` : ''}
              </caption>
              <thead>
                <tr>
                  {result.answer.columns.map((c) => (
                    <th key={c.name} scope="col" className={c.kind === 'METRIC' ? 'num' : undefined}>
                      {c.name}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {result.answer.rows.map((row, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: result rows are positional.
                  <tr key={i}>
                    {result.answer.columns.map((c) => {
                      const value = row[c.name];
                      if (c.kind !== 'METRIC')
                        return <td key={c.name}>{c.type === 'date' && typeof value === 'string' ? formats.date(value) : String(value ?? '∅')}</td>;
                      return (
                        <td key={c.name} className="num" data-column={c.name} data-value={value ?? ''}>
                          {suppressed.has(i) && value === null ? (
                            <span className="suppressed">{tr('已隐藏 (<k)', 'suppressed (<k)')}</span>
                          ) : (
                            formats.value(typeof value === 'number' ? value : null, formatOf(c.name))
                          )}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="row">
            <ActionButton
              label={tr('解释最近两期的变化', 'Explain the change between the last two periods')}
              testId="explain-change"
              disabled={!explainInput}
              run={async () => {
                if (!explainInput) return;
                setExplained({ input: explainInput, answer: (await gql(ConsoleExplainChangeDocument, { input: explainInput })).explainMetricChange });
              }}
            />
            {explainInput ? (
              <span className="small muted">
                {explainInput.metric}: {formats.date(explainInput.base?.from)} → {formats.date(explainInput.current.from)} ·{' '}
                {explainInput.dimensions.join(', ')}
              </span>
            ) : (
              <span className="small muted">{tr('按 metric_time 分组并至少有两期时可用', 'Needs metric_time among the group-bys and two periods')}</span>
            )}
          </div>
          {explained ? <ChangeView explanation={explained.answer} input={explained.input} /> : null}
          <details>
            <summary>{tr('计算计划', 'Plan')}</summary>
            <Json value={result.answer.plan} label={tr('计算计划', 'Plan')} />
          </details>
          {result.answer.sql ? (
            <details>
              <summary>SQL</summary>
              <Json value={result.answer.sql} label="SQL" />
            </details>
          ) : may('metrics.sql') ? (
            <p className="muted small">{tr('服务器未返回 SQL（STRATA_DEV=1 时提供）。', 'The server returned no SQL (it does with STRATA_DEV=1).')}</p>
          ) : null}
          <details>
            <summary>{tr('查询 (GraphQL 输入)', 'Query (GraphQL input)')}</summary>
            <Json value={result.query} />
          </details>
        </Section>
      ) : null}
    </div>
  );
}
