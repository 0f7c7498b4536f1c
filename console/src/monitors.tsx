import { useState } from 'react';
import { gql } from './api.ts';
import { ChangeView } from './change-view.tsx';
import { ConsoleMonitorsDocument, ConsoleRunMonitorsDocument, type ConsoleMonitorsQuery, type FilterInput } from './generated/strata-console.ts';
import { useFormats } from './locale.ts';
import { metricFormat, useSession } from './session.tsx';
import { ActionButton, ErrorNote, Loading, MetricValue, Section, useLoad } from './ui.tsx';

type Monitor = ConsoleMonitorsQuery['monitors'][number];

function conditionText(condition: unknown, tr: (zh: string, en: string) => string): string {
  const c = (condition ?? {}) as { kind?: string; below?: number; above?: number; periods?: number; tolerance?: number };
  if (c.kind === 'SEASONAL') return `${tr('季节基线', 'seasonal baseline')}: ${c.periods} ${tr('期', 'periods')}, ±${Math.round((c.tolerance ?? 0) * 100)}%`;
  return (
    [c.below !== undefined ? `< ${c.below}` : null, c.above !== undefined ? `> ${c.above}` : null].filter(Boolean).join(` ${tr('或', 'or')} `) ||
    JSON.stringify(condition)
  );
}

/** The monitors (defined as code and by operators) with their latest evaluations and firings, each firing with the explanation of its change. */
export function Monitors() {
  const formats = useFormats();
  const { tr } = formats;
  const { may, catalog } = useSession();
  const [round, setRound] = useState(0);
  const loaded = useLoad(async () => (await gql(ConsoleMonitorsDocument, {})).monitors, `monitors-${round}`);
  const [run, setRun] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const format = (monitor: Monitor) => metricFormat(catalog.metrics.find((m) => m.name === monitor.metric));
  return (
    <Section
      title={tr('监控与告警', 'Monitors and firings')}
      actions={
        may('monitors.manage') ? (
          <span className="row">
            <ActionButton
              label={tr('立即评估', 'Evaluate now')}
              testId="run-monitors"
              run={async () => {
                const { runMonitors } = await gql(ConsoleRunMonitorsDocument, {});
                setRun(
                  runMonitors.ran
                    ? `${tr('已评估', 'Evaluated')} ${runMonitors.evaluated}, ${tr('告警', 'fired')} ${runMonitors.fired}, ${tr('已投递', 'delivered')} ${runMonitors.delivered}`
                    : tr('另一个实例正在评估', 'Another instance holds the scheduler'),
                );
                setRound((r) => r + 1);
              }}
            />
            {run ? (
              <span className="small muted" data-testid="run-monitors-result">
                {run}
              </span>
            ) : null}
          </span>
        ) : null
      }
    >
      <Loading when={loaded.loading && !loaded.data} />
      <ErrorNote error={loaded.error} />
      <div className="table-wrap">
        <table data-testid="monitors">
          <caption>{tr('每个监控的最近一次评估', 'Each monitor’s latest evaluation')}</caption>
          <thead>
            <tr>
              <th scope="col">{tr('监控', 'Monitor')}</th>
              <th scope="col">{tr('指标', 'Metric')}</th>
              <th scope="col">{tr('频率', 'Schedule')}</th>
              <th scope="col">{tr('条件', 'Condition')}</th>
              <th scope="col">{tr('最近一期', 'Latest period')}</th>
              <th scope="col" className="num">
                {tr('取值', 'Value')}
              </th>
              <th scope="col" className="num">
                {tr('预期', 'Expected')}
              </th>
              <th scope="col">{tr('告警', 'Fired')}</th>
            </tr>
          </thead>
          <tbody>
            {loaded.data?.map((monitor) => {
              const latest = monitor.evaluations[0];
              return (
                <tr key={monitor.key} data-monitor={monitor.key}>
                  <td title={monitor.description ?? ''}>
                    {monitor.title} <span className="muted small">{monitor.source === 'CODE' ? tr('代码', 'code') : tr('运营', 'operator')}</span>
                  </td>
                  <td>{monitor.metric}</td>
                  <td>{monitor.schedule}</td>
                  <td>{conditionText(monitor.condition, tr)}</td>
                  <td>{latest ? `${formats.date(latest.period.from)} – ${formats.date(latest.period.to)}` : tr('尚未评估', 'not evaluated yet')}</td>
                  <td className="num">
                    {latest ? (
                      <MetricValue
                        metric={monitor.metric}
                        value={latest.value}
                        query={{ metrics: [monitor.metric], timeRange: latest.period, ...(monitor.slice ? { where: monitor.slice } : {}) }}
                      />
                    ) : (
                      '—'
                    )}
                  </td>
                  <td className="num">{latest ? formats.value(latest.expected, format(monitor)) : '—'}</td>
                  <td>{monitor.firings.length > 0 ? `${monitor.firings.length} ${tr('次', '×')}` : tr('无', 'none')}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <ul className="firings" data-testid="firings">
        {loaded.data?.flatMap((monitor) =>
          monitor.firings.map((firing) => {
            const id = `${monitor.key}@${firing.period.from}`;
            return (
              <li key={id} data-firing={id}>
                <strong>{monitor.title}</strong> {formats.date(firing.period.from)} – {formats.date(firing.period.to)}:{' '}
                {formats.value(firing.value, format(monitor))} ({tr('预期', 'expected')} {formats.value(firing.expected, format(monitor))}){' '}
                {firing.reason ? <span className="small">{firing.reason}</span> : null}
                {firing.delivery ? (
                  <span className="small muted">
                    {' '}
                    · webhook {firing.delivery.status} ({firing.delivery.attempts}){firing.delivery.lastError ? `: ${firing.delivery.lastError}` : ''}
                  </span>
                ) : null}{' '}
                {firing.explanation ? (
                  <button
                    type="button"
                    className="link"
                    aria-expanded={open === id}
                    onClick={() => setOpen(open === id ? null : id)}
                    data-testid={`explain-${id}`}
                  >
                    {open === id ? tr('收起解释', 'Hide the explanation') : tr('查看解释', 'Why it moved')}
                  </button>
                ) : (
                  <span className="small muted">{tr('（无解释）', '(no explanation)')}</span>
                )}
                {open === id && firing.explanation ? (
                  <ChangeView
                    explanation={firing.explanation}
                    input={{
                      metric: monitor.metric,
                      current: firing.explanation.currentRange,
                      dimensions: monitor.explainBy,
                      ...(monitor.slice ? { where: monitor.slice as FilterInput } : {}),
                    }}
                  />
                ) : null}
              </li>
            );
          }),
        )}
      </ul>
      {loaded.data?.every((m) => m.firings.length === 0) ? <p className="muted">{tr('没有告警', 'No firings')}</p> : null}
    </Section>
  );
}
