import { useEffect, useRef, useState } from 'react';
import { gql, messageOf } from '../api.ts';
import {
  ConsoleAttributionTreeDocument,
  ConsoleAudienceDocument,
  ConsoleAudienceMembersDocument,
  ConsoleComparisonDocument,
  ConsoleCreateAudienceDocument,
  ConsoleCreateLookalikeDocument,
  ConsoleTagPreviewDocument,
  type AudienceRef,
  type ConsoleAttributionTreeQuery,
  type ConsoleAudienceQuery,
  type ConsoleComparisonQuery,
  type ConsoleCreateLookalikeMutation,
} from '../generated/strata-console.ts';
import { definitionHref, featureDefinition } from '../definition-view.tsx';
import { useFormats } from '../locale.ts';
import { hrefOf, jsonParam, useRoute } from '../route.ts';
import { RuleBuilder, parseRule, ruleProblems, type Rule } from '../rules.tsx';
import { useSession } from '../session.tsx';
import { ActionButton, ErrorNote, Json, Section } from '../ui.tsx';

type Audience = ConsoleAudienceQuery['audience'];
type Comparison = ConsoleComparisonQuery['audienceComparison'];
type TreeNode = ConsoleAttributionTreeQuery['attributionTree']['nodes'][number];
type Lookalike = ConsoleCreateLookalikeMutation['createLookalikeAudience'];

/** The features insight can use: customer dimensions and published tags. */
function useFeatures(): string[] {
  const { catalog } = useSession();
  const customer = catalog.models.find((m) => m.name === 'customer');
  return [
    ...(customer?.dimensions.filter((d) => d.sensitivity === 'public' || d.sensitivity === 'internal').map((d) => `customer.${d.name}`) ?? []),
    ...catalog.tags.filter((t) => t.status === 'PUBLISHED' && t.kind !== 'NUMERIC').map((t) => `customer.tag.${t.key}`),
  ];
}

function FeaturePicker({ chosen, onChange, label }: { chosen: string[]; onChange: (features: string[]) => void; label: string }) {
  const features = useFeatures();
  return (
    <fieldset className="features">
      <legend>{label}</legend>
      {features.map((f) => (
        <label key={f} className="inline">
          <input type="checkbox" checked={chosen.includes(f)} onChange={(e) => onChange(e.target.checked ? [...chosen, f] : chosen.filter((x) => x !== f))} />{' '}
          {f}
        </label>
      ))}
    </fieldset>
  );
}

/** The size of a rule's audience as it is typed: a tag preview where the role may, else the comparison's target count. */
function LiveSize({ rule }: { rule: Rule }) {
  const formats = useFormats();
  const { tr } = formats;
  const { may, catalog } = useSession();
  const published = new Set(catalog.tags.filter((t) => t.status === 'PUBLISHED').map((t) => t.key));
  const valid = ruleProblems(rule, published).length === 0;
  const key = valid ? JSON.stringify(rule) : '';
  const [size, setSize] = useState<{ customers: number | null | undefined; error: string | null } | null>(null);
  const latest = useRef({ rule, mayPreview: may('tags.preview') });
  latest.current = { rule, mayPreview: may('tags.preview') };
  useEffect(() => {
    const { rule, mayPreview } = latest.current;
    if (!key) return setSize(null);
    let live = true;
    const timer = setTimeout(() => {
      const ask = mayPreview
        ? gql(ConsoleTagPreviewDocument, { rule, kind: 'BOOLEAN' }).then((a) => a.tagPreview.customers)
        : gql(ConsoleComparisonDocument, { target: { rule }, reference: { all: true }, features: ['customer.channel'] }).then(
            (a) => a.audienceComparison.targetCustomers,
          );
      ask.then(
        (customers) => live && setSize({ customers, error: null }),
        (error: unknown) => live && setSize({ customers: undefined, error: messageOf(error) }),
      );
    }, 400);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [key]);
  if (!size) return null;
  return (
    <p aria-live="polite">
      {tr('实时人数', 'Live size')}:{' '}
      <strong data-testid="live-size">{size.customers === null ? tr('少于隐私阈值', 'under the privacy threshold') : formats.number(size.customers)}</strong>
      <ErrorNote error={size.error} />
    </p>
  );
}

function AudienceView({ audience }: { audience: Audience }) {
  const formats = useFormats();
  const { tr } = formats;
  const { may } = useSession();
  const [members, setMembers] = useState<{ ids: string[]; next: string | null } | null>(null);
  return (
    <article className="definition" data-testid={`audience-${audience.key}`} aria-label={audience.key}>
      <h3>
        {audience.key} <span className="muted small">v{audience.version}</span>
      </h3>
      <p>{audience.description}</p>
      <p>
        {tr('人数', 'Size')}:{' '}
        <strong data-testid="audience-size" data-value={audience.size ?? ''}>
          {audience.size === null ? tr('少于隐私阈值', 'under the privacy threshold') : formats.number(audience.size)}
        </strong>
      </p>
      <details>
        <summary>{tr('规则', 'Rule')}</summary>
        <Json value={audience.rule ?? tr('相似人群：成员来自模型', 'a lookalike: its members come from its model')} />
      </details>
      <div className="row">
        {may('decisions.manage') ? (
          <a className="button" href={hrefOf('workbench', { audience: audience.key })} data-testid="audience-to-strategy">
            {tr('用此人群建策略 →', 'Make a strategy for it →')}
          </a>
        ) : null}
        {may('audiences.members') ? (
          <ActionButton
            label={members ? tr('下一页成员', 'Next members') : tr('查看成员', 'Show members')}
            testId="show-members"
            disabled={members !== null && members.next === null}
            run={async () => {
              const page = await gql(ConsoleAudienceMembersDocument, { key: audience.key, first: 50, after: members?.next ?? null });
              const edges = page.audience.members;
              setMembers({
                ids: [...(members?.ids ?? []), ...edges.edges.map((e) => e.node.id)],
                next: edges.pageInfo.hasNextPage ? (edges.pageInfo.endCursor ?? null) : null,
              });
            }}
          />
        ) : null}
      </div>
      {members ? (
        <ul className="members" data-testid="members" aria-label={tr('成员', 'Members')}>
          {members.ids.map((id) => (
            <li key={id}>{id}</li>
          ))}
        </ul>
      ) : null}
    </article>
  );
}

function ComparisonView({ comparison, plan }: { comparison: Comparison; plan: object }) {
  const formats = useFormats();
  const { tr } = formats;
  /** Each number links to its feature's governed definition (a tag or a dimension) and the comparison's input. */
  const link = (feature: string, text: string, testId?: string) => (
    <a className="number" href={definitionHref(featureDefinition(feature), 'audienceComparison', plan)} data-testid={testId}>
      {text}
    </a>
  );
  return (
    <div data-testid="comparison">
      <p>
        {tr('目标人数', 'Target')}: {formats.number(comparison.targetCustomers)} · {tr('参照（不含目标）', 'Reference minus target')}:{' '}
        {formats.number(comparison.restCustomers)} · {tr('快照', 'Snapshot')} {formats.date(comparison.asOf)}
      </p>
      <table>
        <caption>{tr('特征（按关联强度排序）', 'Features, strongest first')}</caption>
        <thead>
          <tr>
            <th scope="col">{tr('特征', 'Feature')}</th>
            <th scope="col" className="num">
              Cramér's V
            </th>
            <th scope="col" className="num">
              p
            </th>
            <th scope="col" className="num">
              q
            </th>
          </tr>
        </thead>
        <tbody>
          {comparison.features.map((f) => (
            <tr key={f.feature}>
              <td>{f.feature}</td>
              <td className="num">{link(f.feature, formats.number(f.cramersV, 3))}</td>
              <td className="num">{link(f.feature, formats.pValue(f.pValue))}</td>
              <td className="num">{link(f.feature, formats.pValue(f.qValue))}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="table-wrap">
        <table data-testid="comparison-values">
          <caption>{tr('取值（小样本单元格显示为已隐藏）', 'Values (small cells shown as suppressed)')}</caption>
          <thead>
            <tr>
              <th scope="col">{tr('特征', 'Feature')}</th>
              <th scope="col">{tr('取值', 'Value')}</th>
              <th scope="col" className="num">
                {tr('目标人数', 'Target')}
              </th>
              <th scope="col" className="num">
                {tr('目标占比', 'Target share')}
              </th>
              <th scope="col" className="num">
                {tr('参照人数', 'Reference')}
              </th>
              <th scope="col" className="num">
                {tr('参照占比', 'Reference share')}
              </th>
              <th scope="col" className="num">
                TGI
              </th>
              <th scope="col" className="num">
                p
              </th>
              <th scope="col" className="num">
                q
              </th>
            </tr>
          </thead>
          <tbody>
            {comparison.values.map((v) => (
              <tr key={`${v.feature}=${v.value}`} className={v.suppressed ? 'suppressed-row' : undefined}>
                <td>{v.feature}</td>
                <td>{v.value ?? '∅'}</td>
                {v.suppressed ? (
                  <td colSpan={7} className="suppressed">
                    {tr('已隐藏：少于隐私阈值 k', 'suppressed: fewer customers than the privacy threshold k')}
                  </td>
                ) : (
                  <>
                    <td className="num">{link(v.feature, formats.number(v.targetCustomers), `comparison-target-${v.feature}=${v.value ?? ''}`)}</td>
                    <td className="num">{link(v.feature, formats.percent(v.targetShare))}</td>
                    <td className="num">{link(v.feature, formats.number(v.referenceCustomers))}</td>
                    <td className="num">{link(v.feature, formats.percent(v.referenceShare))}</td>
                    <td className="num">{link(v.feature, formats.number(v.tgi, 0))}</td>
                    <td className="num">{link(v.feature, formats.pValue(v.pValue))}</td>
                    <td className="num" data-testid="q-value">
                      {link(v.feature, formats.pValue(v.qValue))}
                    </td>
                  </>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

/** The attribution tree drawn as a tree; each node opens as an audience (its rule in the builder). */
function Tree({ nodes, onOpen, plan }: { nodes: readonly TreeNode[]; onOpen: (node: TreeNode) => void; plan: object }) {
  const formats = useFormats();
  const { tr } = formats;
  const children = (id: string | null) => nodes.filter((n) => (n.parentId ?? null) === id);
  const draw = (node: TreeNode) => (
    <li key={node.id}>
      <div className="tree-node">
        <span className="tree-split">{node.feature ? `${node.feature} ${node.inGroup ? '=' : '≠'} ${node.value ?? '∅'}` : tr('全部', 'All')}</span>
        <a
          className="small number"
          href={definitionHref(node.feature ? featureDefinition(node.feature) : 'plan:', 'attributionTree', {
            ...plan,
            node: { id: node.id, rule: node.rule },
          })}
          data-testid={`tree-node-${node.id}`}
        >
          {' '}
          {formats.number(node.customers)} {tr('人', 'customers')} · {tr('转化率', 'rate')} {formats.percent(node.rate)} · lift {formats.number(node.lift, 2)}
          {node.pValue !== null && node.pValue !== undefined ? ` · p ${formats.pValue(node.pValue)}` : ''}
        </a>
        {node.rule ? (
          <button type="button" className="link" onClick={() => onOpen(node)} data-testid={`tree-open-${node.id}`}>
            {tr('作为人群打开', 'Open as audience')}
          </button>
        ) : null}
      </div>
      {children(node.id).length > 0 ? <ul>{children(node.id).map(draw)}</ul> : null}
    </li>
  );
  return (
    <figure className="tree-figure">
      <figcaption className="small muted">{tr('归因树：每个节点可作为人群打开', 'Attribution tree: each node opens as an audience')}</figcaption>
      <ul className="tree" data-testid="attribution-tree">
        {children(null).map(draw)}
      </ul>
    </figure>
  );
}

export default function Audiences() {
  const formats = useFormats();
  const { tr } = formats;
  const { may } = useSession();
  const { params } = useRoute();
  const [rule, setRule] = useState<Rule>(() => jsonParam<Rule>(params, 'rule') ?? { and: [{ tag: '', op: 'EQ', values: [] }] });
  const [key, setKey] = useState('');
  const [description, setDescription] = useState('');
  const [openKey, setOpenKey] = useState(params.get('audience') ?? '');
  const [audience, setAudience] = useState<Audience | null>(null);
  const [audienceError, setAudienceError] = useState<string | null>(null);
  const [features, setFeatures] = useState<string[]>(['customer.channel']);
  const [comparison, setComparison] = useState<{ answer: Comparison; plan: object } | null>(null);
  const [goalRule, setGoalRule] = useState<Rule>({ tag: '', op: 'EQ', values: ['true'] });
  const [treeFeatures, setTreeFeatures] = useState<string[]>(['customer.channel']);
  const [tree, setTree] = useState<{ nodes: readonly TreeNode[]; plan: object } | null>(null);
  const [lookalike, setLookalike] = useState<{ key: string; seed: string; size: number }>({ key: '', seed: params.get('audience') ?? '', size: 1000 });
  const [lookalikeResult, setLookalikeResult] = useState<Lookalike | null>(null);

  const open = async (name: string) => {
    setAudienceError(null);
    try {
      setAudience((await gql(ConsoleAudienceDocument, { key: name })).audience);
    } catch (error) {
      setAudience(null);
      setAudienceError(messageOf(error));
    }
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: opens the linked audience once.
  useEffect(() => {
    const linked = params.get('audience');
    if (linked) void open(linked);
  }, []);
  const target: AudienceRef = audience ? { audience: audience.key } : { rule };

  return (
    <div className="audiences">
      {may('audiences.manage') || may('tags.preview') || may('insight.read') ? (
        <Section title={tr('人群构建', 'Audience builder')}>
          <RuleBuilder rule={rule} onChange={setRule} label={tr('人群规则', 'Audience rule')} />
          <LiveSize rule={rule} />
          {may('audiences.manage') ? (
            <div className="row">
              <label>
                {tr('人群键', 'Audience key')} <input value={key} onChange={(e) => setKey(e.target.value)} data-testid="audience-key" />
              </label>
              <label>
                {tr('描述', 'Description')} <input value={description} onChange={(e) => setDescription(e.target.value)} />
              </label>
              <ActionButton
                label={tr('保存人群', 'Save audience')}
                testId="save-audience"
                disabled={!key}
                run={async () => {
                  const created = (await gql(ConsoleCreateAudienceDocument, { input: { key, rule, ...(description ? { description } : {}) } })).createAudience;
                  setAudience(created);
                  setOpenKey(created.key);
                }}
              />
            </div>
          ) : null}
        </Section>
      ) : null}
      <Section title={tr('打开人群', 'Open an audience')}>
        <form
          className="row"
          onSubmit={(event) => {
            event.preventDefault();
            if (openKey) void open(openKey);
          }}
        >
          <label>
            {tr('人群键', 'Audience key')} <input value={openKey} onChange={(e) => setOpenKey(e.target.value)} data-testid="open-audience-key" />
          </label>
          <button type="submit">{tr('打开', 'Open')}</button>
        </form>
        <ErrorNote error={audienceError} />
        {audience ? <AudienceView audience={audience} /> : null}
      </Section>
      {may('insight.read') ? (
        <>
          <Section title={tr('人群对比', 'Comparison against all customers')}>
            <p className="muted small">
              {tr('目标', 'Target')}: {audience ? audience.key : tr('构建器中的规则', 'the rule in the builder')}
            </p>
            <FeaturePicker chosen={features} onChange={setFeatures} label={tr('特征', 'Features')} />
            <ActionButton
              label={tr('对比', 'Compare')}
              testId="run-comparison"
              disabled={features.length === 0}
              run={async () => {
                const plan = { target, reference: { all: true }, features };
                setComparison({ answer: (await gql(ConsoleComparisonDocument, plan)).audienceComparison, plan });
              }}
            />
            {comparison ? <ComparisonView comparison={comparison.answer} plan={comparison.plan} /> : null}
          </Section>
          <Section title={tr('归因树', 'Attribution tree')}>
            <p className="muted small">
              {tr('人群', 'Population')}: {audience ? audience.key : tr('全部客户', 'all customers')}
            </p>
            <RuleBuilder rule={goalRule} onChange={setGoalRule} label={tr('转化目标', 'Goal')} />
            <FeaturePicker chosen={treeFeatures} onChange={setTreeFeatures} label={tr('特征', 'Features')} />
            <ActionButton
              label={tr('生成归因树', 'Grow the tree')}
              testId="run-tree"
              disabled={treeFeatures.length === 0}
              run={async () => {
                const input = {
                  population: audience ? { audience: audience.key } : { all: true },
                  goal: goalRule,
                  features: treeFeatures,
                  maxDepth: 3,
                  minNodeCustomers: 100,
                };
                setTree({ nodes: (await gql(ConsoleAttributionTreeDocument, { input })).attributionTree.nodes, plan: { input } });
              }}
            />
            {tree ? (
              <Tree
                nodes={tree.nodes}
                plan={tree.plan}
                onOpen={(node) => {
                  setRule(parseRule(JSON.stringify(node.rule)));
                  setAudience(null);
                  setKey(`tree_${node.id}`.replace(/[^a-z0-9_]/gi, '_').toLowerCase());
                  window.scrollTo({ top: 0 });
                }}
              />
            ) : null}
          </Section>
        </>
      ) : null}
      {may('audiences.manage') ? (
        <Section title={tr('相似人群', 'Lookalike audience')}>
          <div className="row">
            <label>
              {tr('种子人群', 'Seed audience')} <input value={lookalike.seed} onChange={(e) => setLookalike({ ...lookalike, seed: e.target.value })} />
            </label>
            <label>
              {tr('新人群键', 'New key')} <input value={lookalike.key} onChange={(e) => setLookalike({ ...lookalike, key: e.target.value })} />
            </label>
            <label>
              {tr('人数', 'Size')}{' '}
              <input type="number" min={1} value={lookalike.size} onChange={(e) => setLookalike({ ...lookalike, size: Number(e.target.value) })} />
            </label>
            <ActionButton
              label={tr('生成相似人群', 'Build lookalike')}
              testId="run-lookalike"
              disabled={!lookalike.key || !lookalike.seed}
              run={async () => setLookalikeResult((await gql(ConsoleCreateLookalikeDocument, { input: lookalike })).createLookalikeAudience)}
            />
          </div>
          {lookalikeResult ? (
            <div data-testid="lookalike">
              <dl>
                <dt>AUC</dt>
                <dd data-testid="lookalike-auc">{formats.number(lookalikeResult.quality.auc, 3)}</dd>
                <dt>precision@k</dt>
                <dd>{formats.percent(lookalikeResult.quality.precisionAtK)}</dd>
                <dt>{tr('前 10% 提升', 'Lift in the top decile')}</dt>
                <dd>{formats.number(lookalikeResult.quality.liftTopDecile, 2)}</dd>
                <dt>{tr('留出客户', 'Held-out customers')}</dt>
                <dd>{formats.number(lookalikeResult.quality.holdoutCustomers)}</dd>
                <dt>{tr('人数', 'Size')}</dt>
                <dd>{formats.number(lookalikeResult.size)}</dd>
              </dl>
              <table>
                <caption>{tr('权重最大的特征', 'Features that weigh most')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{tr('特征', 'Feature')}</th>
                    <th scope="col">{tr('取值', 'Value')}</th>
                    <th scope="col" className="num">
                      {tr('权重', 'Weight')}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {lookalikeResult.topFeatures.map((f) => (
                    <tr key={`${f.feature}=${f.value}`}>
                      <td>{f.feature}</td>
                      <td>{f.value ?? '∅'}</td>
                      <td className="num">{formats.number(f.weight, 3)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <button type="button" className="link" onClick={() => void open(lookalikeResult.key)}>
                {tr('打开此人群', 'Open this audience')}
              </button>
            </div>
          ) : null}
        </Section>
      ) : null}
    </div>
  );
}
