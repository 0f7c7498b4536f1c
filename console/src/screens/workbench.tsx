import { useState } from 'react';
import { gql } from '../api.ts';
import {
  ConsoleApproveDefinitionDocument,
  ConsoleDecisionHistoryDocument,
  ConsoleDecisionsDocument,
  ConsoleExperimentResultsDocument,
  ConsoleRejectDefinitionDocument,
  ConsoleSaveExperimentDocument,
  ConsoleSaveStrategyDocument,
  ConsoleSubmitDefinitionDocument,
  type ConsoleDecisionsQuery,
  type ConsoleExperimentResultsQuery,
  type DecisionKind,
} from '../generated/strata-console.ts';
import { useFormats } from '../locale.ts';
import { hrefOf, useRoute } from '../route.ts';
import { useSession } from '../session.tsx';
import { ActionButton, ErrorNote, Json, Loading, MetricValue, Section, StatusBadge, useLoad } from '../ui.tsx';
import { Monitors } from '../monitors.tsx';
import { GoalsTile } from './cockpit.tsx';

type Decisions = ConsoleDecisionsQuery;
type Results = ConsoleExperimentResultsQuery['experimentResults'];
type ContentRow = Decisions['contents'][number];

/** A content's payload as the app would show it (title, subtitle, link), beside its JSON. */
function PayloadPreview({ content }: { content: ContentRow }) {
  const payload = (content.payload ?? {}) as Record<string, unknown>;
  const text = (name: string) => (typeof payload[name] === 'string' ? (payload[name] as string) : null);
  return (
    <div className="payload">
      <div className="payload-card">
        <strong>{text('title') ?? content.key}</strong>
        {text('subtitle') ? <span>{text('subtitle')}</span> : null}
        {text('link') ? <code className="small">{text('link')}</code> : null}
      </div>
      <details>
        <summary>JSON</summary>
        <Json value={content.payload} />
      </details>
    </div>
  );
}

/** Experiment results: every number shown, the SRM warning above them (never instead of them). */
export function ResultsView({ results, decisions }: { results: Results; decisions: Decisions }) {
  const formats = useFormats();
  const { tr } = formats;
  const { catalog } = useSession();
  const isRate = results.goal.kind === 'EVENT';
  const show = (value: number | null | undefined) => (isRate ? formats.percent(value, 2) : formats.number(value, 4));
  const strategy = decisions.strategies.find((s) => s.experiment === results.key);
  const goalLink =
    results.goal.kind === 'METRIC' && catalog.metrics.some((m) => m.name === results.goal.name) ? hrefOf('explorer', { metric: results.goal.name }) : null;
  return (
    <div className="results" data-testid="experiment-results">
      <p>
        {tr('目标', 'Goal')}:{' '}
        {goalLink ? (
          <a href={goalLink} title={tr('治理定义与计划', 'Governed definition and plan')}>
            {results.goal.name}
          </a>
        ) : (
          <span title={tr('事件：见目录中的事件定义', 'An event of the catalog')}>{results.goal.name}</span>
        )}{' '}
        ({results.goal.kind}, {results.goal.windowDays} {tr('天窗口', 'day window')}, {results.goal.test})
      </p>
      {results.srm?.flagged ? (
        <p className="warning" role="alert" data-testid="srm-warning">
          {tr('样本比例不匹配 (SRM)', 'Sample ratio mismatch (SRM)')}: χ² {formats.number(results.srm.chiSquare, 2)}, p {formats.pValue(results.srm.pValue)}.{' '}
          {tr(
            '分流可能有问题：结果仍全部显示如下，解读前请检查分配。',
            'The split may be broken: every number is still shown below; check the assignment before reading them.',
          )}
        </p>
      ) : results.srm ? (
        <p className="muted small" data-testid="srm-ok">
          SRM: χ² {formats.number(results.srm.chiSquare, 2)}, p {formats.pValue(results.srm.pValue)}
        </p>
      ) : (
        <p className="muted small">{tr('SRM：暂无（无曝光或计数低于阈值）', 'SRM: not available (no exposures, or counts under the threshold)')}</p>
      )}
      <div className="table-wrap">
        <table data-testid="variant-results">
          <caption>{tr('各变体结果（对照为第一个变体；95% 置信区间）', 'Per variant (the first is the control; 95 % intervals)')}</caption>
          <thead>
            <tr>
              <th scope="col">{tr('变体', 'Variant')}</th>
              <th scope="col" className="num">
                {tr('曝光', 'Exposures')}
              </th>
              <th scope="col" className="num">
                {tr('转化', 'Conversions')}
              </th>
              <th scope="col" className="num">
                {isRate ? tr('转化率', 'Rate') : tr('人均值', 'Mean')}
              </th>
              <th scope="col" className="num">
                {tr('绝对提升', 'Absolute lift')}
              </th>
              <th scope="col" className="num">
                {tr('相对提升', 'Relative lift')}
              </th>
              <th scope="col" className="num">
                95% CI
              </th>
              <th scope="col" className="num">
                p
              </th>
            </tr>
          </thead>
          <tbody>
            {results.variants.map((v) => (
              <tr key={v.key} data-variant={v.key}>
                <td>
                  {v.key}
                  {v.suppressed ? <span className="suppressed small"> {tr('(部分隐藏 <k)', '(partly suppressed <k)')}</span> : null}
                </td>
                <td className="num" data-field="exposures" data-value={v.exposures ?? ''}>
                  {formats.number(v.exposures)}
                </td>
                <td className="num" data-field="conversions" data-value={v.conversions ?? ''}>
                  {formats.number(v.conversions)}
                </td>
                <td className="num" data-field="rate" data-value={v.rate ?? ''}>
                  {show(v.rate)}
                </td>
                <td className="num">{show(v.absoluteLift)}</td>
                <td className="num" data-field="relativeLift" data-value={v.relativeLift ?? ''}>
                  {formats.percent(v.relativeLift, 2)}
                </td>
                <td className="num">{v.ciLow === null || v.ciLow === undefined ? '—' : `[${show(v.ciLow)}, ${show(v.ciHigh)}]`}</td>
                <td className="num" data-field="pValue" data-value={v.pValue ?? ''}>
                  {formats.pValue(v.pValue)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {results.cuped.length > 0 ? (
        <table data-testid="cuped">
          <caption>{tr('CUPED 调整后', 'CUPED-adjusted')}</caption>
          <thead>
            <tr>
              <th scope="col">{tr('变体', 'Variant')}</th>
              <th scope="col" className="num">
                θ
              </th>
              <th scope="col" className="num">
                {tr('方差缩减', 'Variance reduction')}
              </th>
              <th scope="col" className="num">
                {tr('相对提升', 'Relative lift')}
              </th>
              <th scope="col" className="num">
                95% CI
              </th>
              <th scope="col" className="num">
                p
              </th>
            </tr>
          </thead>
          <tbody>
            {results.cuped.map((c) => (
              <tr key={c.key}>
                <td>{c.key}</td>
                <td className="num">{formats.number(c.theta, 4)}</td>
                <td className="num">{formats.percent(c.varianceReduction)}</td>
                <td className="num">{formats.percent(c.relativeLift, 2)}</td>
                <td className="num">{c.ciLow === null || c.ciLow === undefined ? '—' : `[${show(c.ciLow)}, ${show(c.ciHigh)}]`}</td>
                <td className="num">{formats.pValue(c.pValue)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {results.guardrails.map((g) => (
        <table key={g.metric}>
          <caption>
            {tr('护栏指标', 'Guardrail')}: <a href={hrefOf('explorer', { metric: g.metric })}>{g.metric}</a> ({g.test})
          </caption>
          <thead>
            <tr>
              <th scope="col">{tr('变体', 'Variant')}</th>
              <th scope="col" className="num">
                {tr('均值', 'Mean')}
              </th>
              <th scope="col" className="num">
                {tr('相对提升', 'Relative lift')}
              </th>
              <th scope="col" className="num">
                p
              </th>
            </tr>
          </thead>
          <tbody>
            {g.variants.map((v) => (
              <tr key={v.key}>
                <td>{v.key}</td>
                <td className="num">
                  {v.suppressed ? <span className="suppressed">{tr('已隐藏', 'suppressed')}</span> : <MetricValue metric={g.metric} value={v.mean} />}
                </td>
                <td className="num">{formats.percent(v.relativeLift, 2)}</td>
                <td className="num">{formats.pValue(v.pValue)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
      {results.multipleExposures ? (
        <p className="muted small">
          {tr('曝光于多个变体而被排除的客户', 'Customers exposed to more than one variant, left out')}: {formats.number(results.multipleExposures)}
        </p>
      ) : null}
      {strategy ? (
        <p>
          <a
            className="button"
            data-testid="next-audience"
            href={hrefOf('audiences', strategy.audience ? { audience: strategy.audience } : strategy.rule ? { rule: strategy.rule } : {})}
          >
            {tr('下一个人群 →（从本实验的目标人群出发）', 'Next audience → (from this experiment’s target)')}
          </a>
        </p>
      ) : null}
    </div>
  );
}

interface Reviewable {
  readonly kind: DecisionKind;
  readonly key: string;
  readonly version: number;
  readonly status: string;
}

function reviewables(decisions: Decisions): Reviewable[] {
  return [
    ...decisions.placements.map((p) => ({ kind: 'PLACEMENT' as const, key: p.key, version: p.version, status: p.status })),
    ...decisions.contents.map((c) => ({ kind: 'CONTENT' as const, key: c.key, version: c.version, status: c.status })),
    ...decisions.experiments.map((e) => ({ kind: 'EXPERIMENT' as const, key: e.key, version: e.version, status: e.definitionStatus })),
    ...decisions.strategies.map((s) => ({ kind: 'STRATEGY' as const, key: s.key, version: s.version, status: s.status })),
  ];
}

function DefinitionActions({ item, reload }: { item: Reviewable; reload: () => void }) {
  const { tr } = useFormats();
  const { may } = useSession();
  const [reason, setReason] = useState('');
  const [history, setHistory] = useState<unknown[] | null>(null);
  return (
    <span className="row">
      {item.status === 'DRAFT' && may('decisions.manage') ? (
        <ActionButton
          label={tr('提交审核', 'Submit')}
          testId={`submit-${item.kind}-${item.key}`}
          run={async () => {
            await gql(ConsoleSubmitDefinitionDocument, { kind: item.kind, key: item.key, expectedVersion: item.version });
            reload();
          }}
        />
      ) : null}
      {item.status === 'IN_REVIEW' && may('decisions.review') ? (
        <>
          <ActionButton
            label={tr('批准', 'Approve')}
            testId={`approve-${item.kind}-${item.key}`}
            run={async () => {
              await gql(ConsoleApproveDefinitionDocument, { kind: item.kind, key: item.key, expectedVersion: item.version });
              reload();
            }}
          />
          <label>
            <span className="sr-only">{tr('驳回原因', 'Reason to reject')}</span>
            <input placeholder={tr('驳回原因', 'reason')} value={reason} onChange={(e) => setReason(e.target.value)} />
          </label>
          <ActionButton
            label={tr('驳回', 'Reject')}
            disabled={!reason.trim()}
            run={async () => {
              await gql(ConsoleRejectDefinitionDocument, { kind: item.kind, key: item.key, expectedVersion: item.version, reason: reason.trim() });
              reload();
            }}
          />
        </>
      ) : null}
      <ActionButton
        label={tr('历史', 'History')}
        run={async () => setHistory((await gql(ConsoleDecisionHistoryDocument, { kind: item.kind, key: item.key })).decisionHistory)}
      />
      {history ? <Json value={history} /> : null}
    </span>
  );
}

function StrategyForm({ decisions, reload, audience }: { decisions: Decisions; reload: () => void; audience: string }) {
  const { tr } = useFormats();
  const placements = decisions.placements;
  const [form, setForm] = useState({
    key: '',
    description: '',
    audience,
    placement: placements[0]?.key ?? '',
    mode: 'content' as 'content' | 'experiment',
    content: '',
    experiment: '',
    priority: 50,
    trafficShare: 1,
    from: '',
    to: '',
  });
  const contents = decisions.contents.filter((c) => c.placement === form.placement);
  const experiments = decisions.experiments.filter((e) => e.placement === form.placement);
  return (
    <form className="grid-form" aria-label={tr('新建策略', 'New strategy')} onSubmit={(e) => e.preventDefault()}>
      <label>
        {tr('策略键', 'Strategy key')} <input value={form.key} onChange={(e) => setForm({ ...form, key: e.target.value })} data-testid="strategy-key" />
      </label>
      <label>
        {tr('描述', 'Description')} <input value={form.description} onChange={(e) => setForm({ ...form, description: e.target.value })} />
      </label>
      <label>
        {tr('人群', 'Audience')}{' '}
        <input value={form.audience} onChange={(e) => setForm({ ...form, audience: e.target.value })} data-testid="strategy-audience" />
      </label>
      <label>
        {tr('展位', 'Placement')}{' '}
        <select
          value={form.placement}
          onChange={(e) => setForm({ ...form, placement: e.target.value, content: '', experiment: '' })}
          data-testid="strategy-placement"
        >
          {placements.map((p) => (
            <option key={p.key} value={p.key}>
              {p.key}
            </option>
          ))}
        </select>
      </label>
      <label>
        {tr('展示', 'Shows')}{' '}
        <select value={form.mode} onChange={(e) => setForm({ ...form, mode: e.target.value as 'content' | 'experiment' })} data-testid="strategy-mode">
          <option value="content">{tr('内容', 'a content')}</option>
          <option value="experiment">{tr('实验', 'an experiment')}</option>
        </select>
      </label>
      {form.mode === 'content' ? (
        <label>
          {tr('内容', 'Content')}{' '}
          <select value={form.content} onChange={(e) => setForm({ ...form, content: e.target.value })} data-testid="strategy-content">
            <option value="">—</option>
            {contents.map((c) => (
              <option key={c.key} value={c.key}>
                {c.key}
              </option>
            ))}
          </select>
        </label>
      ) : (
        <label>
          {tr('实验', 'Experiment')}{' '}
          <select value={form.experiment} onChange={(e) => setForm({ ...form, experiment: e.target.value })} data-testid="strategy-experiment">
            <option value="">—</option>
            {experiments.map((x) => (
              <option key={x.key} value={x.key}>
                {x.key}
              </option>
            ))}
          </select>
        </label>
      )}
      <label>
        {tr('优先级', 'Priority')} <input type="number" value={form.priority} onChange={(e) => setForm({ ...form, priority: Number(e.target.value) })} />
      </label>
      <label>
        {tr('流量占比', 'Traffic share')}{' '}
        <input
          type="number"
          step="0.05"
          min="0.05"
          max="1"
          value={form.trafficShare}
          onChange={(e) => setForm({ ...form, trafficShare: Number(e.target.value) })}
        />
      </label>
      <label>
        {tr('开始', 'From')} <input type="date" value={form.from} onChange={(e) => setForm({ ...form, from: e.target.value })} />
      </label>
      <label>
        {tr('结束', 'To')} <input type="date" value={form.to} onChange={(e) => setForm({ ...form, to: e.target.value })} />
      </label>
      <ActionButton
        label={tr('保存策略草稿', 'Save strategy draft')}
        testId="save-strategy"
        disabled={!form.key || !form.placement}
        run={async () => {
          await gql(ConsoleSaveStrategyDocument, {
            input: {
              key: form.key,
              description: form.description || form.key,
              placement: form.placement,
              ...(form.audience ? { audience: form.audience } : {}),
              ...(form.mode === 'content' ? { contents: form.content ? [form.content] : [] } : { experiment: form.experiment, contents: [] }),
              priority: form.priority,
              trafficShare: form.trafficShare,
              ...(form.from ? { scheduleFrom: form.from } : {}),
              ...(form.to ? { scheduleTo: form.to } : {}),
            },
          });
          reload();
        }}
      />
    </form>
  );
}

function ExperimentForm({ decisions, reload }: { decisions: Decisions; reload: () => void }) {
  const { tr } = useFormats();
  const [form, setForm] = useState({ key: '', description: '', placement: decisions.placements[0]?.key ?? '', goalEvent: 'purchase_success', windowDays: 7 });
  const [variants, setVariants] = useState([
    { key: 'control', content: '', weight: 0.5 },
    { key: 'treatment', content: '', weight: 0.5 },
  ]);
  const contents = decisions.contents.filter((c) => c.placement === form.placement);
  return (
    <form className="grid-form" aria-label={tr('新建实验', 'New experiment')} onSubmit={(e) => e.preventDefault()}>
      <label>
        {tr('实验键', 'Experiment key')} <input value={form.key} onChange={(e) => setForm({ ...form, key: e.target.value })} data-testid="experiment-key" />
      </label>
      <label>
        {tr('描述', 'Description')} <input value={form.description} onChange={(e) => setForm({ ...form, description: e.target.value })} />
      </label>
      <label>
        {tr('展位', 'Placement')}{' '}
        <select value={form.placement} onChange={(e) => setForm({ ...form, placement: e.target.value })} data-testid="experiment-placement">
          {decisions.placements.map((p) => (
            <option key={p.key} value={p.key}>
              {p.key}
            </option>
          ))}
        </select>
      </label>
      <label>
        {tr('目标事件', 'Goal event')} <input value={form.goalEvent} onChange={(e) => setForm({ ...form, goalEvent: e.target.value })} />
      </label>
      <label>
        {tr('窗口天数', 'Window days')}{' '}
        <input type="number" min={1} value={form.windowDays} onChange={(e) => setForm({ ...form, windowDays: Number(e.target.value) })} />
      </label>
      {variants.map((v, i) => (
        <fieldset key={v.key}>
          <legend>
            {tr('变体', 'Variant')} {v.key}
          </legend>
          <label>
            {tr('内容', 'Content')}{' '}
            <select
              value={v.content}
              onChange={(e) => setVariants(variants.map((x, j) => (j === i ? { ...x, content: e.target.value } : x)))}
              data-testid={`variant-${i}-content`}
            >
              <option value="">—</option>
              {contents.map((c) => (
                <option key={c.key} value={c.key}>
                  {c.key}
                </option>
              ))}
            </select>
          </label>
          <label>
            {tr('权重', 'Weight')}{' '}
            <input
              type="number"
              step="0.05"
              value={v.weight}
              onChange={(e) => setVariants(variants.map((x, j) => (j === i ? { ...x, weight: Number(e.target.value) } : x)))}
            />
          </label>
        </fieldset>
      ))}
      <ActionButton
        label={tr('保存实验草稿', 'Save experiment draft')}
        testId="save-experiment"
        disabled={!form.key || variants.some((v) => !v.content)}
        run={async () => {
          await gql(ConsoleSaveExperimentDocument, {
            input: {
              key: form.key,
              description: form.description || form.key,
              placement: form.placement,
              variants,
              goal: { event: form.goalEvent, windowDays: form.windowDays },
            },
          });
          reload();
        }}
      />
    </form>
  );
}

export default function Workbench() {
  const formats = useFormats();
  const { tr } = formats;
  const { may } = useSession();
  const { params } = useRoute();
  const [round, setRound] = useState(0);
  const decisions = useLoad(may('decisions.read') ? () => gql(ConsoleDecisionsDocument, {}) : null, `decisions-${round}`);
  const reload = () => setRound((r) => r + 1);
  const [experiment, setExperiment] = useState<string | null>(params.get('experiment'));
  const results = useLoad(
    experiment && may('experiments.results') ? async () => (await gql(ConsoleExperimentResultsDocument, { key: experiment })).experimentResults : null,
    `results-${experiment}-${round}`,
  );
  const data = decisions.data;
  const queue = data ? reviewables(data).filter((r) => r.status === 'IN_REVIEW' || r.status === 'DRAFT') : [];
  const contentByKey = new Map(data?.contents.map((c) => [c.key, c]));

  return (
    <div className="workbench">
      <Loading when={decisions.loading && !data} retrying={decisions.retrying} />
      <ErrorNote error={decisions.error} />
      {data ? (
        <>
          <Section title={`${tr('待办：草稿与待审', 'To do: drafts and reviews')} (${queue.length})`}>
            {queue.length === 0 ? <p className="muted">{tr('没有草稿或待审定义', 'No drafts or definitions under review')}</p> : null}
            <ul data-testid="definition-queue">
              {queue.map((item) => (
                <li key={`${item.kind}-${item.key}`} data-testid={`queue-${item.kind}-${item.key}`}>
                  <strong>{item.kind}</strong> {item.key} <StatusBadge status={item.status} /> <span className="muted small">v{item.version}</span>{' '}
                  <DefinitionActions item={item} reload={reload} />
                </li>
              ))}
            </ul>
          </Section>
          {may('decisions.manage') ? (
            <Section title={tr('新建：实验与策略', 'New: experiment and strategy')}>
              <h3>{tr('实验', 'Experiment')}</h3>
              <ExperimentForm decisions={data} reload={reload} />
              <h3>{tr('策略（人群 × 展位 × 内容或实验）', 'Strategy (audience × placement × content or experiment)')}</h3>
              <StrategyForm decisions={data} reload={reload} audience={params.get('audience') ?? ''} />
            </Section>
          ) : null}
          <Section title={tr('策略', 'Strategies')}>
            <div className="table-wrap">
              <table data-testid="strategies">
                <caption>{tr('按展位与优先级', 'By placement and priority')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{tr('键', 'Key')}</th>
                    <th scope="col">{tr('展位', 'Placement')}</th>
                    <th scope="col" className="num">
                      {tr('优先级', 'Priority')}
                    </th>
                    <th scope="col">{tr('人群', 'Audience')}</th>
                    <th scope="col">{tr('展示', 'Shows')}</th>
                    <th scope="col" className="num">
                      {tr('流量', 'Traffic')}
                    </th>
                    <th scope="col">{tr('排期', 'Schedule')}</th>
                    <th scope="col">{tr('状态', 'Status')}</th>
                  </tr>
                </thead>
                <tbody>
                  {[...data.strategies]
                    .sort((a, b) => a.placement.localeCompare(b.placement) || b.priority - a.priority)
                    .map((s) => (
                      <tr key={s.key}>
                        <td title={s.description}>{s.key}</td>
                        <td>{s.placement}</td>
                        <td className="num">{s.priority}</td>
                        <td>
                          {s.audience ? (
                            <a href={hrefOf('audiences', { audience: s.audience })}>{s.audience}</a>
                          ) : s.rule ? (
                            <a href={hrefOf('audiences', { rule: s.rule })} title={JSON.stringify(s.rule)}>
                              {tr('规则', 'rule')}
                            </a>
                          ) : (
                            tr('全部', 'everyone')
                          )}
                        </td>
                        <td>
                          {s.experiment ? (
                            <button type="button" className="link" onClick={() => setExperiment(s.experiment)}>
                              {tr('实验', 'experiment')} {s.experiment}
                            </button>
                          ) : (
                            s.contents.join(', ')
                          )}
                        </td>
                        <td className="num">{formats.percent(s.trafficShare, 0)}</td>
                        <td>{s.schedule.from || s.schedule.to ? `${formats.date(s.schedule.from)} – ${formats.date(s.schedule.to)}` : tr('长期', 'always')}</td>
                        <td>
                          <StatusBadge status={s.status} /> {s.live ? '●' : ''}
                        </td>
                      </tr>
                    ))}
                </tbody>
              </table>
            </div>
          </Section>
          <Section title={tr('实验', 'Experiments')}>
            <ul className="experiments">
              {data.experiments.map((x) => (
                <li key={x.key}>
                  <button type="button" className="link" onClick={() => setExperiment(x.key)} data-testid={`open-results-${x.key}`}>
                    {x.key}
                  </button>{' '}
                  <StatusBadge status={x.status} /> <span className="muted small">{x.placement}</span> ·{' '}
                  {x.variants.map((v) => `${v.key} ${formats.percent(v.weight, 0)} → ${v.content?.key ?? '—'}`).join(' | ')} · {tr('目标', 'goal')}{' '}
                  {x.goal.metric ?? x.goal.event} / {x.goal.windowDays}d
                </li>
              ))}
            </ul>
            {experiment ? (
              <Section title={`${tr('实验结果', 'Results')}: ${experiment}`} id="results">
                <Loading when={results.loading} retrying={results.retrying} />
                <ErrorNote error={results.error} />
                {results.data ? <ResultsView results={results.data} decisions={data} /> : null}
              </Section>
            ) : null}
          </Section>
          <Section title={tr('展位与埋点规范', 'Placements and their tracking spec')}>
            <div className="table-wrap">
              <table data-testid="placements">
                <caption>{tr('展位', 'Placements')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{tr('键', 'Key')}</th>
                    <th scope="col">{tr('渠道 / 页面', 'Channel / page')}</th>
                    <th scope="col">{tr('曝光事件', 'Impression event')}</th>
                    <th scope="col">{tr('点击事件', 'Click event')}</th>
                    <th scope="col">{tr('兜底内容', 'Fallback')}</th>
                    <th scope="col">{tr('疲劳度规则', 'Fatigue rules')}</th>
                    <th scope="col">{tr('状态', 'Status')}</th>
                  </tr>
                </thead>
                <tbody>
                  {data.placements.map((p) => (
                    <tr key={p.key}>
                      <td title={p.description}>{p.key}</td>
                      <td>
                        {p.channel} / {p.page}
                      </td>
                      <td>
                        <code>{p.tracking.impressionEvent}</code>
                      </td>
                      <td>
                        <code>{p.tracking.clickEvent}</code>
                      </td>
                      <td>{p.fallback?.key ?? '—'}</td>
                      <td>
                        {p.fatigue
                          .map((f) => `${f.scope}: ≤ ${f.maxImpressions} / ${f.windowDays ? `${f.windowDays} ${tr('天', 'days')}` : (f.period ?? '')}`)
                          .join('; ') || '—'}
                      </td>
                      <td>
                        <StatusBadge status={p.status} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <details>
              <summary>{tr('内容 JSON Schema', 'Content JSON Schemas')}</summary>
              {data.placements.map((p) => (
                <div key={p.key}>
                  <h4>{p.key}</h4>
                  <Json value={p.contentSchema} />
                </div>
              ))}
            </details>
          </Section>
          <Section title={tr('兜底内容', 'Fallbacks')}>
            <ul className="cards" data-testid="fallbacks">
              {data.placements.map((p) => {
                const fallback = p.fallback ? contentByKey.get(p.fallback.key) : undefined;
                return (
                  <li key={p.key}>
                    <strong>{p.key}</strong> → {fallback ? <PayloadPreview content={fallback} /> : (p.fallback?.key ?? '—')}
                  </li>
                );
              })}
            </ul>
          </Section>
          <Section title={tr('内容', 'Contents')}>
            <ul className="cards" data-testid="contents">
              {data.contents.map((c) => (
                <li key={c.key}>
                  <div>
                    <strong>{c.key}</strong> <StatusBadge status={c.status} /> <span className="muted small">{c.placement}</span>
                  </div>
                  <PayloadPreview content={c} />
                </li>
              ))}
            </ul>
          </Section>
        </>
      ) : null}
      {may('goals.read') ? <GoalsTile testId="workbench-goals" /> : null}
      {may('monitors.read') ? <Monitors /> : null}
    </div>
  );
}
