import type { ConsoleExplainChangeQuery, ExplainMetricChangeInput } from './generated/strata-console.ts';
import { useFormats } from './locale.ts';
import { metricFormat, useSession } from './session.tsx';
import { MetricValue } from './ui.tsx';

type Explanation = ConsoleExplainChangeQuery['explainMetricChange'];

const valueText = (value: unknown) => (value === null || value === undefined ? '∅' : String(value));

/**
 * Why a metric moved: base, current and change (each opening the metric over its period),
 * the ranked candidate causes, the largest contributions, and mix and rate effects of a
 * ratio; suppressed values shown as suppressed.
 */
export function ChangeView({ explanation, input, compact = false }: { explanation: Explanation; input: ExplainMetricChangeInput; compact?: boolean }) {
  const formats = useFormats();
  const { tr } = formats;
  const { catalog } = useSession();
  const format = metricFormat(catalog.metrics.find((m) => m.name === explanation.metric));
  const over = (range: { from: string; to: string }) => ({ metrics: [explanation.metric], timeRange: range, ...(input.where ? { where: input.where } : {}) });
  const contributions = [...explanation.contributions]
    .filter((c) => !c.suppressed)
    .sort((a, b) => Math.abs(b.change ?? 0) - Math.abs(a.change ?? 0))
    .slice(0, compact ? 5 : 12);
  const suppressed = explanation.contributions.filter((c) => c.suppressed).length;
  return (
    <div className="change" data-testid="change-view">
      <p>
        {formats.date(explanation.baseRange.from)}–{formats.date(explanation.baseRange.to)}:{' '}
        <MetricValue metric={explanation.metric} value={explanation.base} query={over(explanation.baseRange)} testId="change-base" /> →{' '}
        {formats.date(explanation.currentRange.from)}–{formats.date(explanation.currentRange.to)}:{' '}
        <MetricValue metric={explanation.metric} value={explanation.current} query={over(explanation.currentRange)} testId="change-current" /> (
        <strong data-testid="change-change" data-value={explanation.change ?? ''}>
          {explanation.change !== null && explanation.change > 0 ? '+' : ''}
          {formats.value(explanation.change, format)}
        </strong>
        ) <span className="muted small">{explanation.method}</span>
      </p>
      {explanation.explanations.length > 0 ? (
        <ol className="explanations" aria-label={tr('候选原因', 'Candidate causes')}>
          {explanation.explanations.slice(0, compact ? 2 : 5).map((e) => (
            <li key={e.members.map((m) => `${m.dimension}=${valueText(m.value)}`).join('&')}>
              {e.members.map((m) => `${m.dimension} = ${valueText(m.value)}`).join(' · ')}{' '}
              <span className="small">
                ({tr('解释力', 'explanatory power')} {formats.percent(e.explanatoryPower)}, {tr('意外度', 'surprise')} {formats.number(e.surprise, 3)})
              </span>
            </li>
          ))}
        </ol>
      ) : (
        <p className="muted small">{tr('没有达到阈值的候选原因', 'No candidate cause reaches the thresholds')}</p>
      )}
      <div className="table-wrap">
        <table data-testid="change-contributions">
          <caption>
            {tr('贡献最大的取值', 'Largest contributions')}
            {suppressed > 0 ? ` · ${suppressed} ${tr('个取值因小样本隐藏', 'values suppressed under the privacy threshold')}` : ''}
          </caption>
          <thead>
            <tr>
              <th scope="col">{tr('维度', 'Dimension')}</th>
              <th scope="col">{tr('取值', 'Value')}</th>
              <th scope="col" className="num">
                {tr('基期', 'Base')}
              </th>
              <th scope="col" className="num">
                {tr('本期', 'Current')}
              </th>
              <th scope="col" className="num">
                {tr('变化', 'Change')}
              </th>
              <th scope="col" className="num">
                {tr('占总变化', 'Share')}
              </th>
            </tr>
          </thead>
          <tbody>
            {contributions.map((c) => (
              <tr key={`${c.dimension}=${valueText(c.value)}`}>
                <td>{c.dimension}</td>
                <td>{valueText(c.value)}</td>
                <td className="num">{formats.value(c.base, format)}</td>
                <td className="num">{formats.value(c.current, format)}</td>
                <td className="num">{formats.value(c.change, format)}</td>
                <td className="num">{formats.percent(c.share)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {!compact && explanation.mixRate.length > 0 ? (
        <table>
          <caption>{tr('结构效应与比率效应', 'Mix and rate effects')}</caption>
          <thead>
            <tr>
              <th scope="col">{tr('维度', 'Dimension')}</th>
              <th scope="col">{tr('取值', 'Value')}</th>
              <th scope="col" className="num">
                {tr('结构效应', 'Mix')}
              </th>
              <th scope="col" className="num">
                {tr('比率效应', 'Rate')}
              </th>
            </tr>
          </thead>
          <tbody>
            {explanation.mixRate.map((m) => (
              <tr key={`${m.dimension}=${valueText(m.value)}`}>
                <td>{m.dimension}</td>
                <td>{valueText(m.value)}</td>
                {m.suppressed ? (
                  <td colSpan={2} className="suppressed">
                    {tr('已隐藏 (<k)', 'suppressed (<k)')}
                  </td>
                ) : (
                  <>
                    <td className="num">{formats.value(m.mixEffect, format)}</td>
                    <td className="num">{formats.value(m.rateEffect, format)}</td>
                  </>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}
