import { gql } from './api.ts';
import { ConsoleFunnelsDocument } from './generated/strata-console.ts';
import { useFormats } from './locale.ts';
import { hrefOf, jsonParam } from './route.ts';
import { useSession } from './session.tsx';
import { ErrorNote, Json, Loading, Section, StatusBadge, useLoad } from './ui.tsx';

/** The operations whose numbers link here, besides `metrics` (whose numbers open the explorer with their query). */
export type DefinedOperation = 'funnel' | 'audienceComparison' | 'attributionTree';

/**
 * The link from a number to its governed definition and its plan: the definition it counts
 * (a funnel, a tag or a customer dimension) and the exact input of the operation that
 * produced it, shown by the explorer.
 */
export function definitionHref(definition: string, operation: DefinedOperation, plan: object): string {
  return hrefOf('explorer', { definition, op: operation, plan });
}

/** The definition a comparison or tree feature names: `customer.tag.<key>` is a tag, anything else a dimension. */
export function featureDefinition(feature: string): string {
  return feature.startsWith('customer.tag.') ? `tag:${feature.slice('customer.tag.'.length)}` : `dimension:${feature}`;
}

function FunnelCard({ name }: { name: string }) {
  const { tr } = useFormats();
  const loaded = useLoad(async () => (await gql(ConsoleFunnelsDocument, {})).funnels, 'funnels');
  const funnel = loaded.data?.find((f) => f.key === name);
  return (
    <>
      <Loading when={loaded.loading} retrying={loaded.retrying} />
      <ErrorNote error={loaded.error} />
      {loaded.data && !funnel ? (
        <p className="muted">{tr('临时步骤（未命名漏斗）：见下方计划。', 'Ad hoc steps (no named funnel): see the plan below.')}</p>
      ) : null}
      {funnel ? (
        <article className="definition" data-testid={`definition-funnel-${funnel.key}`} aria-label={funnel.key}>
          <h3>
            {funnel.title} <span className="muted small">{funnel.key}</span> <StatusBadge status={funnel.status} />
          </h3>
          <p>{funnel.description}</p>
          <dl>
            <dt>{tr('负责人', 'Owner')}</dt>
            <dd>{funnel.owner}</dd>
            <dt>{tr('转化窗口', 'Conversion window')}</dt>
            <dd>
              {funnel.windowHours} {tr('小时', 'hours')}
            </dd>
            <dt>{tr('步骤', 'Steps')}</dt>
            <dd>
              <ol>
                {funnel.steps.map((s, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: steps are ordered; an event may repeat.
                  <li key={i}>
                    {s.label ?? s.event} <code>{s.event}</code> {s.where ? <code>{JSON.stringify(s.where)}</code> : null}
                  </li>
                ))}
              </ol>
            </dd>
          </dl>
        </article>
      ) : null}
    </>
  );
}

function TagCard({ name }: { name: string }) {
  const { tr } = useFormats();
  const { catalog } = useSession();
  const tag = catalog.tags.find((t) => t.key === name);
  if (!tag) return <p className="muted">{tr('目录中没有该标签', 'No such tag in the catalog')}</p>;
  return (
    <article className="definition" data-testid={`definition-tag-${tag.key}`} aria-label={tag.key}>
      <h3>
        {tag.key} <StatusBadge status={tag.status} /> <span className="muted small">v{tag.version}</span>
      </h3>
      <p>{tag.description}</p>
      <dl>
        <dt>{tr('类型', 'Kind')}</dt>
        <dd>{tag.kind}</dd>
        <dt>{tr('负责人', 'Owner')}</dt>
        <dd>{tag.owner}</dd>
        <dt>{tr('敏感级别', 'Sensitivity')}</dt>
        <dd>{tag.sensitivity}</dd>
      </dl>
      <Json value={tag.definition} label={tr('标签定义', 'Tag definition')} />
    </article>
  );
}

function DimensionCard({ name }: { name: string }) {
  const { tr } = useFormats();
  const { catalog } = useSession();
  const [model = '', dimension = ''] = name.split('.', 2);
  const found = catalog.models.find((m) => m.name === model);
  const d = found?.dimensions.find((x) => x.name === dimension);
  if (!found || !d) return <p className="muted">{tr('目录中没有该维度', 'No such dimension in the catalog')}</p>;
  return (
    <article className="definition" data-testid={`definition-dimension-${name}`} aria-label={name}>
      <h3>{name}</h3>
      <p>{d.description}</p>
      <dl>
        <dt>{tr('模型', 'Model')}</dt>
        <dd>
          {found.name} — {found.description}
        </dd>
        <dt>{tr('负责人', 'Owner')}</dt>
        <dd>{found.owner}</dd>
        <dt>{tr('类型', 'Type')}</dt>
        <dd>{d.type}</dd>
        <dt>{tr('敏感级别', 'Sensitivity')}</dt>
        <dd>{d.sensitivity}</dd>
      </dl>
    </article>
  );
}

/** The definition a linked number counts, and the plan (the operation and its exact input) that produced it. */
export function DefinitionPanel({ params }: { params: URLSearchParams }) {
  const { tr } = useFormats();
  const reference = params.get('definition') ?? '';
  const colon = reference.indexOf(':');
  const kind = reference.slice(0, colon);
  const name = reference.slice(colon + 1);
  const operation = params.get('op') ?? '';
  const plan = jsonParam<object>(params, 'plan');
  return (
    <Section title={tr('数字的定义与计划', 'The definition and plan behind a number')} id="definition">
      {kind === 'funnel' ? <FunnelCard name={name} /> : null}
      {kind === 'tag' ? <TagCard name={name} /> : null}
      {kind === 'dimension' ? <DimensionCard name={name} /> : null}
      {plan ? (
        <div data-testid="definition-plan">
          <h3>
            {tr('计划', 'Plan')}: <code>{operation}</code>
          </h3>
          <p className="small muted">
            {tr('该数字由以下 GraphQL 操作与输入计算，可原样重放。', 'The number came from this GraphQL operation with this input; replay it unchanged.')}
          </p>
          <Json value={plan} label={tr('计划', 'Plan')} />
        </div>
      ) : null}
    </Section>
  );
}
