import { useState } from 'react';
import { gql } from './api.ts';
import { ConsoleSaveMonitorDocument, ConsoleSubmitMonitorDocument, type MonitorInput, type MonitorSchedule } from './generated/strata-console.ts';
import { useFormats } from './locale.ts';
import { useSession } from './session.tsx';
import { ActionButton } from './ui.tsx';

const SCHEDULES: readonly MonitorSchedule[] = ['DAILY', 'WEEKLY', 'MONTHLY'];

/** A number typed in a field, or undefined when empty or not a number. */
function numberOf(text: string): number | undefined {
  if (text.trim() === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * A new monitor through `saveMonitor`: a metric, a schedule, a threshold (below / above) or a
 * seasonal baseline (periods, tolerance), the dimensions its firings are explained by. Saved
 * as a draft and submitted for review in one step: another operator or an approver publishes
 * it, and only then does the scheduler evaluate it. The server checks what the form cannot.
 */
export function MonitorForm({ onSaved }: { onSaved: (key: string) => Promise<void> }) {
  const { tr } = useFormats();
  const { catalog } = useSession();
  const metrics = catalog.metrics.filter((m) => m.status !== 'DRAFT');
  const [key, setKey] = useState('');
  const [title, setTitle] = useState('');
  const [metric, setMetric] = useState(metrics[0]?.name ?? '');
  const [schedule, setSchedule] = useState<MonitorSchedule>('MONTHLY');
  const [kind, setKind] = useState<'THRESHOLD' | 'SEASONAL'>('THRESHOLD');
  const [below, setBelow] = useState('');
  const [above, setAbove] = useState('');
  const [periods, setPeriods] = useState('4');
  const [tolerance, setTolerance] = useState('20');
  const [explainBy, setExplainBy] = useState<string[]>([]);
  const dimensions = catalog.metrics.find((m) => m.name === metric)?.dimensions ?? [];
  const problems = [
    ...(key && !/^[a-z][a-z0-9_]{1,62}$/.test(key) ? [tr('键为 snake_case，2–63 个字符', 'the key is snake_case, 2-63 characters')] : []),
    ...(kind === 'THRESHOLD' && numberOf(below) === undefined && numberOf(above) === undefined
      ? [tr('阈值至少填写下限或上限之一', 'a threshold needs a floor, a ceiling or both')]
      : []),
    ...(kind === 'SEASONAL' && !(Number.isInteger(numberOf(periods)) && (numberOf(periods) ?? 0) >= 1 && (numberOf(periods) ?? 0) <= 12)
      ? [tr('基线期数为 1 到 12', 'the baseline averages 1 to 12 periods')]
      : []),
    ...(kind === 'SEASONAL' && !((numberOf(tolerance) ?? 0) > 0) ? [tr('容差须大于 0%', 'the tolerance is above 0 %')] : []),
  ];
  const input = (): MonitorInput => ({
    key,
    title,
    metric,
    schedule,
    condition:
      kind === 'THRESHOLD'
        ? { kind, ...(numberOf(below) !== undefined ? { below: numberOf(below) } : {}), ...(numberOf(above) !== undefined ? { above: numberOf(above) } : {}) }
        : { kind, periods: numberOf(periods), tolerance: (numberOf(tolerance) ?? 0) / 100 },
    explainBy: explainBy.filter((d) => dimensions.includes(d)),
  });
  return (
    <form className="monitor-form" aria-label={tr('新建监控', 'New monitor')} onSubmit={(e) => e.preventDefault()} data-testid="monitor-form">
      <div className="row">
        <label>
          {tr('键', 'Key')} <input value={key} onChange={(e) => setKey(e.target.value)} data-testid="monitor-key" />
        </label>
        <label>
          {tr('标题', 'Title')} <input value={title} onChange={(e) => setTitle(e.target.value)} data-testid="monitor-title" />
        </label>
        <label>
          {tr('指标', 'Metric')}{' '}
          <select value={metric} onChange={(e) => setMetric(e.target.value)} data-testid="monitor-metric">
            {metrics.map((m) => (
              <option key={m.name} value={m.name}>
                {m.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {tr('频率', 'Schedule')}{' '}
          <select value={schedule} onChange={(e) => setSchedule(e.target.value as MonitorSchedule)} data-testid="monitor-schedule">
            {SCHEDULES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      </div>
      <fieldset>
        <legend>{tr('条件', 'Condition')}</legend>
        <label>
          <input type="radio" name="monitor-kind" checked={kind === 'THRESHOLD'} onChange={() => setKind('THRESHOLD')} data-testid="monitor-threshold" />{' '}
          {tr('阈值', 'Threshold')}
        </label>{' '}
        <label>
          <input type="radio" name="monitor-kind" checked={kind === 'SEASONAL'} onChange={() => setKind('SEASONAL')} data-testid="monitor-seasonal" />{' '}
          {tr('季节基线（同期均值）', 'Seasonal baseline (same period, mean of past cycles)')}
        </label>
        {kind === 'THRESHOLD' ? (
          <div className="row">
            <label>
              {tr('低于则告警', 'Fire below')}{' '}
              <input inputMode="decimal" value={below} onChange={(e) => setBelow(e.target.value)} data-testid="monitor-below" />
            </label>
            <label>
              {tr('高于则告警', 'Fire above')}{' '}
              <input inputMode="decimal" value={above} onChange={(e) => setAbove(e.target.value)} data-testid="monitor-above" />
            </label>
          </div>
        ) : (
          <div className="row">
            <label>
              {tr('基线期数', 'Baseline periods')}{' '}
              <input inputMode="numeric" value={periods} onChange={(e) => setPeriods(e.target.value)} data-testid="monitor-periods" />
            </label>
            <label>
              {tr('容差 (%)', 'Tolerance (%)')}{' '}
              <input inputMode="decimal" value={tolerance} onChange={(e) => setTolerance(e.target.value)} data-testid="monitor-tolerance" />
            </label>
          </div>
        )}
      </fieldset>
      <label className="block">
        {tr('告警按以下维度解释', 'Explain firings by')}{' '}
        <select
          multiple
          value={explainBy}
          onChange={(e) => setExplainBy([...e.target.selectedOptions].map((o) => o.value))}
          size={Math.min(6, Math.max(2, dimensions.length))}
          data-testid="monitor-explain-by"
        >
          {dimensions.map((d) => (
            <option key={d} value={d}>
              {d}
            </option>
          ))}
        </select>
      </label>
      {problems.length > 0 ? (
        <ul className="error" data-testid="monitor-problems">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      ) : null}
      <ActionButton
        label={tr('保存并提交审核', 'Save and submit for review')}
        testId="save-monitor"
        disabled={!key || !title || !metric || problems.length > 0}
        run={async () => {
          const { saveMonitor } = await gql(ConsoleSaveMonitorDocument, { input: input() });
          await gql(ConsoleSubmitMonitorDocument, { key: saveMonitor.key, expectedVersion: saveMonitor.version });
          await onSaved(saveMonitor.key);
        }}
      />
    </form>
  );
}
