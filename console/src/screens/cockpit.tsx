import { useMemo, useState } from 'react';
import { gql } from '../api.ts';
import { Chart, type ChartKind, metricOption } from '../charts.tsx';
import { ChangeView } from '../change-view.tsx';
import {
  ConsoleDashboardDocument,
  ConsoleDashboardsDocument,
  ConsoleExplainChangeDocument,
  ConsoleFunnelDocument,
  ConsoleGoalsDocument,
  ConsoleMetricsDocument,
  type ConsoleDashboardsQuery,
  type ExplainMetricChangeInput,
  type FilterInput,
  type FunnelInput,
  type MetricQueryInput,
} from '../generated/strata-console.ts';
import { definitionHref } from '../definition-view.tsx';
import { useFormats } from '../locale.ts';
import { hrefOf, useRoute } from '../route.ts';
import { metricFormat, useSession } from '../session.tsx';
import { ErrorNote, Loading, MetricValue, useLoad } from '../ui.tsx';
import { type CockpitFilters, withFilters } from '../cockpit-filters.ts';

function Freshness({ rows, loadedAt }: { rows: readonly Record<string, unknown>[]; loadedAt: Date }) {
  const formats = useFormats();
  const times = rows.map((r) => Object.entries(r).find(([k]) => k.startsWith('metric_time'))?.[1]).filter((v): v is string => typeof v === 'string');
  const latest = times.sort().at(-1);
  return (
    <p className="freshness small muted">
      {latest ? `${formats.tr('数据至', 'Data through')} ${formats.date(latest)} · ` : ''}
      {formats.tr('读取于', 'Read at')} {formats.dateTime(loadedAt.toISOString())}
    </p>
  );
}

/** A metric tile: one `metrics` request; a number, a chart or a table; opens the explorer with its query. */
export function MetricTile({ title, query, visualization, testId }: { title: string; query: MetricQueryInput; visualization: string; testId: string }) {
  const formats = useFormats();
  const metrics = useSession().catalog.metrics;
  const key = JSON.stringify(query);
  const loaded = useLoad(async () => ({ answer: (await gql(ConsoleMetricsDocument, { query })).metrics, at: new Date() }), key);
  const kind: ChartKind = (['line', 'bar', 'stacked_bar', 'pie', 'funnel'] as const).find((k) => k === visualization) ?? 'bar';
  const option = useMemo(
    () =>
      loaded.data && visualization !== 'number' && visualization !== 'table'
        ? metricOption(kind, loaded.data.answer.columns, loaded.data.answer.rows, formats, (name) => metricFormat(metrics.find((m) => m.name === name)))
        : null,
    [loaded.data, kind, visualization, formats, metrics],
  );
  const metric = query.metrics[0] ?? '';
  return (
    <article className={visualization === 'table' ? 'tile wide' : 'tile'} data-testid={testId} aria-label={title}>
      <header className="tile-head">
        <h3>{title}</h3>
        <a className="small" href={hrefOf('explorer', { q: query })}>
          {formats.tr('在指标探索中打开', 'Open in explorer')}
        </a>
      </header>
      <Loading when={loaded.loading} retrying={loaded.retrying} />
      <ErrorNote error={loaded.error} />
      {loaded.data ? (
        <>
          {visualization === 'number' ? (
            <p className="big">
              <MetricValue metric={metric} value={loaded.data.answer.rows[0]?.[metric] as number | null | undefined} query={query} testId={`${testId}-value`} />
            </p>
          ) : option ? (
            <Chart option={option} label={`${title}: ${query.metrics.join(', ')}`} height={220} />
          ) : null}
          {visualization !== 'number' ? (
            <details>
              <summary>{formats.tr('数据表', 'Table')}</summary>
              <TileTable columns={loaded.data.answer.columns} rows={loaded.data.answer.rows} query={query} />
            </details>
          ) : null}
          <Freshness rows={loaded.data.answer.rows} loadedAt={loaded.data.at} />
        </>
      ) : null}
    </article>
  );
}

function TileTable({
  columns,
  rows,
  query,
}: {
  columns: readonly { name: string; kind: string }[];
  rows: readonly Record<string, unknown>[];
  query: MetricQueryInput;
}) {
  const formats = useFormats();
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.name} scope="col">
                {c.name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: positional rows.
            <tr key={i}>
              {columns.map((c) => (
                <td key={c.name} className={c.kind === 'METRIC' ? 'num' : undefined}>
                  {c.kind === 'METRIC' ? (
                    <MetricValue metric={c.name} value={row[c.name] as number | null} query={query} />
                  ) : typeof row[c.name] === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(String(row[c.name])) ? (
                    formats.date(String(row[c.name]))
                  ) : (
                    String(row[c.name] ?? '∅')
                  )}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The goals (目标管理) with progress: one `goals` request; each actual opens its metric over the goal's period. */
/** Goals in tree order: each goal (by key) followed by the goals under it, depth first; a goal whose parent is not listed is a root. */
function treeOrder<G extends { key: string; parent?: string | null }>(goals: readonly G[]): G[] {
  const keys = new Set(goals.map((g) => g.key));
  const out: G[] = [];
  const visit = (parent: string | null) => {
    for (const goal of goals.filter((g) => (g.parent && keys.has(g.parent) ? g.parent : null) === parent && !out.includes(g))) {
      out.push(goal);
      visit(goal.key);
    }
  };
  visit(null);
  return [...out, ...goals.filter((g) => !out.includes(g))];
}

export function GoalsTile({ testId, keys }: { testId: string; keys?: readonly string[] | undefined }) {
  const formats = useFormats();
  const metrics = useSession().catalog.metrics;
  const { tr } = formats;
  const loaded = useLoad(async () => (await gql(ConsoleGoalsDocument, keys ? { keys: [...keys] } : {})).goals, `goals-${keys?.join(',') ?? ''}`);
  return (
    <article className="tile wide" data-testid={testId} aria-label={tr('目标管理', 'Goal tracking')}>
      <header className="tile-head">
        <h3>{tr('目标管理', 'Goal tracking')}</h3>
      </header>
      <Loading when={loaded.loading} retrying={loaded.retrying} />
      <ErrorNote error={loaded.error} />
      {loaded.data?.length === 0 ? <p className="muted">{tr('尚无目标', 'No goals yet')}</p> : null}
      <ul className="goals">
        {treeOrder(loaded.data ?? []).map((goal) => {
          const query: MetricQueryInput = { metrics: [goal.metric], timeRange: { from: goal.period.from, to: goal.period.to } };
          return (
            <li key={goal.key} data-testid={`goal-${goal.key}`}>
              <div className="goal-line">
                <strong>{goal.key}</strong>
                {goal.parent ? <span className="muted small"> ⊂ {goal.parent}</span> : null}
                <span className="muted small">
                  {' '}
                  {formats.date(goal.period.from)} – {formats.date(goal.period.to)}
                </span>
              </div>
              <div className="goal-figures">
                <MetricValue metric={goal.metric} value={goal.actual} query={query} testId={`goal-${goal.key}-actual`} /> /{' '}
                <span>{formats.value(goal.target, metricFormat(metrics.find((m) => m.name === goal.metric)))}</span>
                <progress max={1} value={Math.min(goal.progress ?? 0, 1)} aria-label={`${goal.key} ${tr('进度', 'progress')}`} />
                <span data-testid={`goal-${goal.key}-progress`}>{formats.percent(goal.progress)}</span>
              </div>
              {goal.description ? <div className="muted small">{goal.description}</div> : null}
              {goal.children.length > 0 ? (
                <table className="goal-children" data-testid={`goal-${goal.key}-children`}>
                  <caption className="sr-only">{`${goal.key}: ${tr('子目标贡献', 'contribution of child goals')}`}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{tr('子目标', 'Child goal')}</th>
                      <th scope="col" className="num">
                        {tr('实际', 'Actual')}
                      </th>
                      <th scope="col" className="num">
                        {tr('贡献', 'Contribution')}
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {goal.children.map((child) => {
                      const period = loaded.data?.find((g) => g.key === child.key)?.period;
                      return (
                        <tr key={child.key} data-testid={`goal-${goal.key}-child-${child.key}`}>
                          <td>{child.key}</td>
                          <td className="num">
                            <MetricValue
                              metric={child.metric}
                              value={child.actual}
                              query={period ? { metrics: [child.metric], timeRange: { from: period.from, to: period.to } } : { metrics: [child.metric] }}
                            />
                          </td>
                          <td className="num">
                            <span className="share-bar" style={{ width: `${Math.round(Math.min(Math.max(child.contribution ?? 0, 0), 1) * 60)}px` }} />{' '}
                            <span data-testid={`goal-${goal.key}-child-${child.key}-contribution`} data-value={child.contribution ?? ''}>
                              {formats.percent(child.contribution)}
                            </span>
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              ) : null}
            </li>
          );
        })}
      </ul>
    </article>
  );
}

type Dashboard = ConsoleDashboardsQuery['dashboards'][number];
type Tile = Dashboard['tiles'][number];

/** A tile's query with the cockpit's segment added to its filter (the server already resolved its dates). */
function segmented<T extends { where?: FilterInput | null }>(query: T, filters: CockpitFilters): T {
  return withFilters(query as unknown as MetricQueryInput, { from: '', to: '', segment: filters.segment }) as unknown as T;
}

/** A funnel tile: one `funnel` request; the steps as a funnel chart (first group) or a table per group. */
function FunnelTile({ title, input, visualization, testId }: { title: string; input: FunnelInput; visualization: string; testId: string }) {
  const formats = useFormats();
  const { tr } = formats;
  const loaded = useLoad(async () => ({ answer: (await gql(ConsoleFunnelDocument, { input })).funnel, at: new Date() }), JSON.stringify(input));
  const first = loaded.data?.answer.groups[0];
  // Every number of the tile links to the funnel's governed definition and the input that produced it.
  const definitionOf = definitionHref(`funnel:${input.funnel ?? ''}`, 'funnel', input);
  const option = useMemo(
    () =>
      first && visualization === 'funnel'
        ? {
            tooltip: { trigger: 'item' },
            series: [
              {
                type: 'funnel',
                sort: 'none',
                left: '10%',
                width: '80%',
                label: { show: true, position: 'inside' },
                data: first.steps.map((step) => ({ name: step.event, value: step.customers ?? 0 })),
              },
            ],
          }
        : null,
    [first, visualization],
  );
  const groupName = (dimensions: unknown) =>
    dimensions && typeof dimensions === 'object' && Object.keys(dimensions).length > 0
      ? Object.values(dimensions as Record<string, unknown>).join(' · ')
      : tr('全部', 'All');
  return (
    <article className={visualization === 'table' ? 'tile wide' : 'tile'} data-testid={testId} aria-label={title}>
      <header className="tile-head">
        <h3>{title}</h3>
        <a className="small" href={definitionOf} data-testid={`${testId}-definition`} title={tr('漏斗定义与计划', 'The funnel’s definition and plan')}>
          {input.funnel ?? tr('临时步骤', 'ad hoc steps')}
        </a>
      </header>
      <Loading when={loaded.loading} retrying={loaded.retrying} />
      <ErrorNote error={loaded.error} />
      {loaded.data ? (
        <>
          {option ? <Chart option={option} label={`${title}: ${first?.steps.map((s) => s.event).join(' → ')}`} height={220} /> : null}
          <details open={visualization === 'table'}>
            <summary>{tr('数据表', 'Table')}</summary>
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">{tr('分组', 'Group')}</th>
                    <th scope="col">{tr('步骤', 'Step')}</th>
                    <th scope="col" className="num">
                      {tr('客户数', 'Customers')}
                    </th>
                    <th scope="col" className="num">
                      {tr('较上一步', 'From previous')}
                    </th>
                    <th scope="col" className="num">
                      {tr('较第一步', 'From first')}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {loaded.data.answer.groups.flatMap((group) =>
                    group.steps.map((step) => (
                      <tr key={`${JSON.stringify(group.dimensions)}-${step.index}`}>
                        <td>{step.index === 0 || step.index === 1 ? groupName(group.dimensions) : ''}</td>
                        <td>{step.event}</td>
                        <td className="num" data-value={step.customers ?? ''}>
                          {step.customers === null ? (
                            <span className="suppressed">{tr('已隐藏 (<k)', 'suppressed (<k)')}</span>
                          ) : (
                            <a className="number" href={definitionOf} data-testid={`${testId}-step-${step.index}`}>
                              {formats.number(step.customers)}
                            </a>
                          )}
                        </td>
                        <td className="num">
                          <a className="number" href={definitionOf}>
                            {formats.percent(step.conversionFromPrevious)}
                          </a>
                        </td>
                        <td className="num">
                          <a className="number" href={definitionOf}>
                            {formats.percent(step.conversionFromFirst)}
                          </a>
                        </td>
                      </tr>
                    )),
                  )}
                </tbody>
              </table>
            </div>
          </details>
          <p className="freshness small muted">
            {formats.date(loaded.data.answer.timeRange.from)} – {formats.date(loaded.data.answer.timeRange.to)} · {tr('读取于', 'Read at')}{' '}
            {formats.dateTime(loaded.data.at.toISOString())}
          </p>
        </>
      ) : null}
    </article>
  );
}

/** A change tile: one `explainMetricChange` request; the change, its causes and contributions. */
function ChangeTile({ title, input, testId }: { title: string; input: ExplainMetricChangeInput; testId: string }) {
  const formats = useFormats();
  const loaded = useLoad(
    async () => ({ answer: (await gql(ConsoleExplainChangeDocument, { input })).explainMetricChange, at: new Date() }),
    JSON.stringify(input),
  );
  return (
    <article className="tile wide" data-testid={testId} aria-label={title}>
      <header className="tile-head">
        <h3>{title}</h3>
        <a className="small" href={hrefOf('explorer', { metric: input.metric })}>
          {formats.tr('指标定义', 'Definition')}
        </a>
      </header>
      <Loading when={loaded.loading} retrying={loaded.retrying} />
      <ErrorNote error={loaded.error} />
      {loaded.data ? (
        <>
          <ChangeView explanation={loaded.data.answer} input={input} compact />
          <p className="freshness small muted">
            {formats.tr('读取于', 'Read at')} {formats.dateTime(loaded.data.at.toISOString())}
          </p>
        </>
      ) : null}
    </article>
  );
}

function DashboardTileView({ tile, filters, index }: { tile: Tile; filters: CockpitFilters; index: number }) {
  const { locale, tr } = useFormats();
  const { may } = useSession();
  const title = locale === 'zh-CN' ? tile.title : tile.titleEn;
  const testId = `tile-${tile.key}`;
  // A tile the role may not read is named, not asked for.
  if (!may(tile.kind === 'GOAL' ? 'goals.read' : 'metrics.query'))
    return (
      <article className="tile" data-testid={testId} aria-label={title}>
        <h3>{title}</h3>
        <p className="muted small">{tr('您的角色无权读取此卡片', 'Your role may not read this tile')}</p>
      </article>
    );
  const query = (tile.query ?? {}) as Record<string, unknown>;
  if (tile.kind === 'METRIC')
    return (
      <MetricTile
        key={index}
        title={title}
        query={segmented(query as unknown as MetricQueryInput, filters)}
        visualization={tile.visualization}
        testId={testId}
      />
    );
  if (tile.kind === 'FUNNEL')
    return <FunnelTile title={title} input={segmented(query as unknown as FunnelInput, filters)} visualization={tile.visualization} testId={testId} />;
  if (tile.kind === 'CHANGE') return <ChangeTile title={title} input={segmented(query as unknown as ExplainMetricChangeInput, filters)} testId={testId} />;
  return <GoalsTile testId={testId} keys={Array.isArray(query.keys) ? (query.keys as string[]) : typeof query.goal === 'string' ? [query.goal] : undefined} />;
}

export default function Cockpit() {
  const { catalog, may } = useSession();
  const formats = useFormats();
  const { tr, locale } = formats;
  const { params } = useRoute();
  const [filters, setFilters] = useState<CockpitFilters>({ from: '', to: '', segment: null });
  const tags = catalog.tags.filter((t) => t.status === 'PUBLISHED' && t.values.length > 0);
  const segmentTag = tags.find((t) => t.key === filters.segment?.tag);
  const mayDashboards = may('dashboards.read');
  const dashboards = useLoad(mayDashboards ? async () => (await gql(ConsoleDashboardsDocument, {})).dashboards : null, 'dashboards');
  const selectedKey = params.get('dashboard') ?? dashboards.data?.[0]?.key ?? null;
  const ranged = filters.from && filters.to && selectedKey ? { key: selectedKey, from: filters.from, to: filters.to } : null;
  // A picked date range: the server resolves every tile's period to it (one request for the dashboard).
  const override = useLoad(
    ranged ? async () => (await gql(ConsoleDashboardDocument, { key: ranged.key, timeRange: { from: ranged.from, to: ranged.to } })).dashboard : null,
    JSON.stringify(ranged),
  );
  const dashboard = ranged ? override.data : dashboards.data?.find((d) => d.key === selectedKey);
  return (
    <div className="cockpit">
      {dashboards.data ? (
        <nav className="dashboard-picker" aria-label={tr('看板', 'Dashboards')}>
          {dashboards.data.map((d) => (
            <a
              key={d.key}
              className="button"
              href={hrefOf('cockpit', { dashboard: d.key })}
              aria-current={d.key === selectedKey ? 'page' : undefined}
              data-dashboard={d.key}
            >
              {locale === 'zh-CN' ? d.title : d.titleEn}
            </a>
          ))}
        </nav>
      ) : null}
      <form className="toolbar" aria-label={tr('筛选', 'Filters')} onSubmit={(e) => e.preventDefault()}>
        <label>
          {tr('起', 'From')}{' '}
          <input type="date" value={filters.from} onChange={(e) => setFilters({ ...filters, from: e.target.value })} data-testid="cockpit-from" />
        </label>
        <label>
          {tr('止', 'To')} <input type="date" value={filters.to} onChange={(e) => setFilters({ ...filters, to: e.target.value })} data-testid="cockpit-to" />
        </label>
        <label>
          {tr('人群分群（标签）', 'Segment (tag)')}{' '}
          <select
            value={filters.segment?.tag ?? ''}
            data-testid="cockpit-segment"
            onChange={(e) => {
              const tag = tags.find((t) => t.key === e.target.value);
              setFilters({ ...filters, segment: tag ? { tag: tag.key, value: tag.values[0] ?? '' } : null });
            }}
          >
            <option value="">{tr('全部客户', 'All customers')}</option>
            {tags.map((t) => (
              <option key={t.key} value={t.key}>
                {t.key}
              </option>
            ))}
          </select>
        </label>
        {segmentTag ? (
          <label>
            {tr('取值', 'Value')}{' '}
            <select value={filters.segment?.value ?? ''} onChange={(e) => setFilters({ ...filters, segment: { tag: segmentTag.key, value: e.target.value } })}>
              {segmentTag.values.map((v) => (
                <option key={v} value={v}>
                  {v}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        {filters.from && !filters.to ? <span className="small muted">{tr('选择结束日期后生效', 'Takes effect once an end date is picked')}</span> : null}
      </form>
      <Loading when={dashboards.loading || override.loading} retrying={dashboards.retrying ?? override.retrying} />
      <ErrorNote error={dashboards.error ?? override.error} />
      {dashboard ? (
        <>
          <p className="muted" data-testid="dashboard-description">
            {locale === 'zh-CN' ? (dashboard.descriptionZh ?? dashboard.description) : dashboard.description}
          </p>
          <div className="tiles" data-testid={`dashboard-${dashboard.key}`}>
            {dashboard.tiles.map((tile, i) => (
              <DashboardTileView key={`${dashboard.key}-${tile.key}`} tile={tile} filters={filters} index={i} />
            ))}
          </div>
        </>
      ) : !mayDashboards && may('goals.read') ? (
        <div className="tiles">
          <GoalsTile testId="tile-goals" />
        </div>
      ) : null}
    </div>
  );
}
