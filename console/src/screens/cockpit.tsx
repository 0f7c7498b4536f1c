import { useMemo, useState } from 'react';
import { gql } from '../api.ts';
import { Chart, type ChartKind, metricOption } from '../charts.tsx';
import { ConsoleGoalsDocument, ConsoleMetricsDocument, type MetricQueryInput } from '../generated/strata-console.ts';
import { useFormats } from '../locale.ts';
import { hrefOf } from '../route.ts';
import { metricFormat, useSession } from '../session.tsx';
import { ErrorNote, Loading, MetricValue, useLoad } from '../ui.tsx';
import type { CockpitFilters } from '../cockpit-filters.ts';

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
    <article className="tile" data-testid={testId} aria-label={title}>
      <header className="tile-head">
        <h3>{title}</h3>
        <a className="small" href={hrefOf('explorer', { q: query })}>
          {formats.tr('在指标探索中打开', 'Open in explorer')}
        </a>
      </header>
      <Loading when={loaded.loading} />
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
export function GoalsTile({ testId }: { testId: string }) {
  const formats = useFormats();
  const { tr } = formats;
  const loaded = useLoad(async () => (await gql(ConsoleGoalsDocument, {})).goals, 'goals');
  return (
    <article className="tile wide" data-testid={testId} aria-label={tr('目标管理', 'Goal tracking')}>
      <header className="tile-head">
        <h3>{tr('目标管理', 'Goal tracking')}</h3>
      </header>
      <Loading when={loaded.loading} />
      <ErrorNote error={loaded.error} />
      {loaded.data?.length === 0 ? <p className="muted">{tr('尚无目标', 'No goals yet')}</p> : null}
      <ul className="goals">
        {loaded.data?.map((goal) => {
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
                <span>{formats.value(goal.target, metricFormat(undefined))}</span>
                <progress max={1} value={Math.min(goal.progress ?? 0, 1)} aria-label={`${goal.key} ${tr('进度', 'progress')}`} />
                <span data-testid={`goal-${goal.key}-progress`}>{formats.percent(goal.progress)}</span>
              </div>
            </li>
          );
        })}
      </ul>
    </article>
  );
}

export default function Cockpit() {
  const { catalog, may } = useSession();
  const formats = useFormats();
  const { tr } = formats;
  const [filters, setFilters] = useState<CockpitFilters>({ from: '', to: '', segment: null });
  const tags = catalog.tags.filter((t) => t.status === 'PUBLISHED' && t.values.length > 0);
  const segmentTag = tags.find((t) => t.key === filters.segment?.tag);
  return (
    <div className="cockpit">
      <form className="toolbar" aria-label={tr('筛选', 'Filters')} onSubmit={(e) => e.preventDefault()}>
        <label>
          {tr('起', 'From')} <input type="date" value={filters.from} onChange={(e) => setFilters({ ...filters, from: e.target.value })} />
        </label>
        <label>
          {tr('止', 'To')} <input type="date" value={filters.to} onChange={(e) => setFilters({ ...filters, to: e.target.value })} />
        </label>
        <label>
          {tr('人群分群（标签）', 'Segment (tag)')}{' '}
          <select
            value={filters.segment?.tag ?? ''}
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
      </form>
      <CockpitTiles filters={filters} mayGoals={may('goals.read')} mayMetrics={may('metrics.query')} />
    </div>
  );
}

function CockpitTiles({ filters, mayGoals, mayMetrics }: { filters: CockpitFilters; mayGoals: boolean; mayMetrics: boolean }) {
  const { tr } = useFormats();
  return (
    <div className="tiles">
      {mayGoals ? <GoalsTile testId="tile-goals" /> : null}
      {mayMetrics ? <p className="muted">{tr('看板定义加载中', 'Dashboards as code')}</p> : null}
      {filters.from ? null : null}
    </div>
  );
}
