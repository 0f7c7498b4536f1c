import { useState } from 'react';
import { gql } from './api.ts';
import { ChangeView } from './change-view.tsx';
import {
  ConsoleApproveMonitorDocument,
  ConsoleMonitorHistoryDocument,
  ConsoleMonitorsDocument,
  ConsoleRejectMonitorDocument,
  ConsoleRunMonitorsDocument,
  ConsoleSubmitMonitorDocument,
  type ConsoleMonitorsQuery,
  type FilterInput,
} from './generated/strata-console.ts';
import { useFormats } from './locale.ts';
import { MonitorForm } from './monitor-form.tsx';
import { diffSincePublished } from './review-diff.ts';
import { Diff, HistoryTable } from './review.tsx';
import { metricFormat, useSession } from './session.tsx';
import { ActionButton, ErrorNote, Loading, MetricValue, Section, StatusBadge, useLoad } from './ui.tsx';

type Monitor = ConsoleMonitorsQuery['monitors'][number];

function conditionText(condition: unknown, tr: (zh: string, en: string) => string): string {
  const c = (condition ?? {}) as { kind?: string; below?: number; above?: number; periods?: number; tolerance?: number };
  if (c.kind === 'SEASONAL') return `${tr('季节基线', 'seasonal baseline')}: ${c.periods} ${tr('期', 'periods')}, ±${Math.round((c.tolerance ?? 0) * 100)}%`;
  return (
    [c.below !== undefined ? `< ${c.below}` : null, c.above !== undefined ? `> ${c.above}` : null].filter(Boolean).join(` ${tr('或', 'or')} `) ||
    JSON.stringify(condition)
  );
}

/**
 * A monitor under review or sent back: what changed against its published version, its
 * history, and the actions the caller may take (approve or reject another's version; resubmit).
 */
function MonitorReview({ monitor, onChanged }: { monitor: Monitor; onChanged: () => void }) {
  const { tr } = useFormats();
  const { may } = useSession();
  const [reason, setReason] = useState('');
  const history = useLoad(
    async () => (await gql(ConsoleMonitorHistoryDocument, { key: monitor.key })).monitorHistory,
    `${monitor.key}@${monitor.version}:${monitor.status}`,
  );
  const ref = { key: monitor.key, expectedVersion: monitor.version };
  return (
    <article className="definition" aria-label={`${tr('审核', 'Review')} ${monitor.key}`} data-testid={`monitor-review-${monitor.key}`}>
      <h4>
        {monitor.title} <StatusBadge status={monitor.status} />{' '}
        <span className="muted small">
          v{monitor.version} · {monitor.updatedBy}
        </span>
      </h4>
      <Loading when={history.loading} retrying={history.retrying} />
      <ErrorNote error={history.error} />
      {history.data ? <Diff changes={diffSincePublished(history.data)} what={{ zh: '监控', en: 'monitor' }} /> : null}
      <div className="row">
        {monitor.status === 'IN_REVIEW' && may('monitors.review') ? (
          <>
            <ActionButton
              label={tr('批准', 'Approve')}
              testId={`approve-monitor-${monitor.key}`}
              run={async () => {
                await gql(ConsoleApproveMonitorDocument, ref);
                onChanged();
              }}
            />
            <label>
              {tr('驳回原因', 'Reason to reject')}{' '}
              <input value={reason} onChange={(e) => setReason(e.target.value)} data-testid={`reject-reason-${monitor.key}`} />
            </label>
            <ActionButton
              label={tr('驳回', 'Reject')}
              testId={`reject-monitor-${monitor.key}`}
              disabled={reason.trim() === ''}
              run={async () => {
                await gql(ConsoleRejectMonitorDocument, { ...ref, reason: reason.trim() });
                onChanged();
              }}
            />
          </>
        ) : null}
        {monitor.status === 'DRAFT' && may('monitors.manage') ? (
          <ActionButton
            label={tr('提交审核', 'Submit for review')}
            testId={`submit-monitor-${monitor.key}`}
            run={async () => {
              await gql(ConsoleSubmitMonitorDocument, ref);
              onChanged();
            }}
          />
        ) : null}
      </div>
      {history.data ? <HistoryTable history={history.data} testId={`monitor-history-${monitor.key}`} /> : null}
    </article>
  );
}

/**
 * The monitors (defined as code and by operators) with their latest evaluations and firings,
 * each firing with the explanation of its change; operators draft new ones, which another
 * operator or an approver reviews before the scheduler evaluates them.
 */
export function Monitors() {
  const formats = useFormats();
  const { tr } = formats;
  const { may, catalog } = useSession();
  const [round, setRound] = useState(0);
  const drafts = may('monitors.manage') || may('monitors.review');
  const loaded = useLoad(async () => (await gql(ConsoleMonitorsDocument, { includeDrafts: drafts })).monitors, `monitors-${round}`);
  const [run, setRun] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const reviewing = loaded.data?.filter((m) => m.status === 'IN_REVIEW' || m.status === 'DRAFT') ?? [];
  const format = (monitor: Monitor) => metricFormat(catalog.metrics.find((m) => m.name === monitor.metric));
  return (
    <Section
      title={tr('监控与告警', 'Monitors and firings')}
      actions={
        may('monitors.manage') ? (
          <span className="row">
            <button type="button" onClick={() => setCreating(!creating)} data-testid="new-monitor" aria-expanded={creating}>
              {creating ? tr('关闭', 'Close') : `+ ${tr('新建监控', 'New monitor')}`}
            </button>
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
      {creating ? (
        <MonitorForm
          onSaved={async () => {
            setCreating(false);
            setRound((r) => r + 1);
          }}
        />
      ) : null}
      <Loading when={loaded.loading && !loaded.data} retrying={loaded.retrying} />
      <ErrorNote error={loaded.error} />
      {drafts && reviewing.length > 0 ? (
        <div className="monitor-reviews" data-testid="monitor-reviews">
          <h3>{tr('待审核与草稿', 'Under review and drafts')}</h3>
          {reviewing.map((m) => (
            <MonitorReview key={`${m.key}@${m.version}:${m.status}`} monitor={m} onChanged={() => setRound((r) => r + 1)} />
          ))}
        </div>
      ) : null}
      <div className="table-wrap">
        <table data-testid="monitors">
          <caption>{tr('每个监控的最近一次评估', 'Each monitor’s latest evaluation')}</caption>
          <thead>
            <tr>
              <th scope="col">{tr('监控', 'Monitor')}</th>
              <th scope="col">{tr('状态', 'Status')}</th>
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
                  <td>
                    <StatusBadge status={monitor.status} />
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
