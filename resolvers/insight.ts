import { builder } from './builder.ts';
import { RuleInput, type RuleInputShape } from './rule-input.ts';
import { parseRule } from '../modeling/conditions/parse-rule.ts';
import type { AudienceRefInput } from '../services/customer-groups.ts';
import type { FeatureBins } from '../services/insight-features.ts';
import { attributionTree, MAX_TREE_DEPTH, type TreeNode } from '../services/attribution-tree.ts';
import { createLookalikeAudience, MIN_SEED_CUSTOMERS, type LookalikeResult } from '../services/lookalike.ts';
import type { FeatureWeight, LookalikeQuality } from '../services/lookalike-model.ts';
import { draftStrategyFromInsight } from '../services/insight-strategy.ts';
import { AudienceRef } from './audiences.ts';
import type { StoredAudience } from '../services/audiences.ts';
import { curating, DecisionChangeRef } from './decision-definitions.ts';
import type { StoredDecision } from '../services/decision-registry.ts';
import type { DecisionKind } from '../decisioning/definitions.ts';
import { audienceComparison, type AudienceComparison, type ComparisonFeature, type ComparisonValue } from '../services/audience-comparison.ts';

interface AudienceRefShape {
  audience?: string | null;
  rule?: RuleInputShape | null;
  all?: boolean | null;
}

export const AudienceRefInputType = builder.inputRef<AudienceRefShape>('AudienceRef').implement({
  description: 'A group of customers: exactly one of a published audience, a rule, or all: true (every customer).',
  fields: (t) => ({
    audience: t.string({ description: 'A published audience key: its members in the current snapshot.' }),
    rule: t.field({ type: RuleInput, description: 'The customers a rule selects in the current snapshot.' }),
    all: t.boolean({ description: 'Every customer (in the caller scope).' }),
  }),
});

export const FeatureBinsInput = builder.inputType('FeatureBinsInput', {
  description:
    'Declared bins of a numeric feature: edges e1 < e2 < ... cut `< e1`, `[e1, e2)`, ..., `>= en`. Without them a numeric feature is cut at its deciles.',
  fields: (t) => ({ feature: t.string({ required: true }), edges: t.floatList({ required: true }) }),
});

/** An AudienceRef argument as the services take it (the rule parsed into the condition AST). */
export function audienceRef(input: AudienceRefShape, path: string): AudienceRefInput {
  return { audience: input.audience ?? null, rule: input.rule ? parseRule(input.rule, `${path}.rule`) : null, all: input.all ?? null };
}

export const featureBins = (bins: readonly { feature: string; edges: readonly number[] }[] | null | undefined): FeatureBins[] =>
  (bins ?? []).map((b) => ({ feature: b.feature, edges: b.edges }));

const ComparisonFeatureRef = builder.objectRef<ComparisonFeature>('ComparisonFeature').implement({
  description: "One feature's association with the target: Cramér's V and the chi-square test of its values x (target, reference minus target) table.",
  fields: (t) => ({
    feature: t.exposeString('feature'),
    cramersV: t.float({ nullable: true, resolve: (f) => f.cramersV }),
    chiSquare: t.float({ nullable: true, resolve: (f) => f.chiSquare }),
    degreesOfFreedom: t.int({ nullable: true, resolve: (f) => f.degreesOfFreedom }),
    pValue: t.float({ nullable: true, resolve: (f) => f.pValue }),
    qValue: t.float({ nullable: true, description: 'Benjamini-Hochberg over the features of the answer.', resolve: (f) => f.qValue }),
  }),
});

const ComparisonValueRef = builder.objectRef<ComparisonValue>('ComparisonValue').implement({
  description: 'One value of a feature (a bin for numbers, null for no value) in the target and in the reference.',
  fields: (t) => ({
    feature: t.exposeString('feature'),
    value: t.string({ nullable: true, resolve: (v) => v.value }),
    targetCustomers: t.int({ nullable: true, resolve: (v) => v.targetCustomers }),
    targetShare: t.float({ nullable: true, resolve: (v) => v.targetShare }),
    referenceCustomers: t.int({ nullable: true, resolve: (v) => v.referenceCustomers }),
    referenceShare: t.float({ nullable: true, resolve: (v) => v.referenceShare }),
    tgi: t.float({ nullable: true, description: '100 x targetShare / referenceShare.', resolve: (v) => v.tgi }),
    lift: t.float({ nullable: true, description: 'targetShare / the share in the reference minus the target.', resolve: (v) => v.lift }),
    pValue: t.float({ nullable: true, description: 'Two-sided chi-square, no continuity correction, on the 2 x 2 table.', resolve: (v) => v.pValue }),
    qValue: t.float({ nullable: true, description: 'Benjamini-Hochberg over every value row of the answer.', resolve: (v) => v.qValue }),
    suppressed: t.exposeBoolean('suppressed'),
  }),
});

const AudienceComparisonRef = builder.objectRef<AudienceComparison>('AudienceComparison').implement({
  description: 'A target compared with the reference minus the target over features.',
  fields: (t) => ({
    asOf: t.exposeString('asOf'),
    targetCustomers: t.int({ nullable: true, resolve: (c) => c.targetCustomers }),
    restCustomers: t.int({ nullable: true, description: 'Customers of the reference outside the target.', resolve: (c) => c.restCustomers }),
    features: t.field({ type: [ComparisonFeatureRef], description: 'Ranked, strongest first.', resolve: (c) => [...c.features] }),
    values: t.field({ type: [ComparisonValueRef], description: 'By feature rank, then TGI.', resolve: (c) => [...c.values] }),
  }),
});

builder.queryFields((t) => ({
  audienceComparison: t.field({
    type: AudienceComparisonRef,
    description:
      "What distinguishes a target from the reference minus the target, over tags and customer dimensions: per value counts, shares, TGI, lift, chi-square p and BH q; per feature Cramér's V, ranked. Cells under the privacy threshold are suppressed for callers without personal clearance.",
    args: {
      target: t.arg({ type: AudienceRefInputType, required: true }),
      reference: t.arg({ type: AudienceRefInputType, required: true }),
      features: t.arg.stringList({ required: true }),
      bins: t.arg({ type: [FeatureBinsInput] }),
    },
    resolve: async (_r, args, ctx) =>
      audienceComparison(ctx.tags, (await ctx.session()).viewer, {
        target: audienceRef(args.target, 'target'),
        reference: audienceRef(args.reference, 'reference'),
        features: args.features,
        bins: featureBins(args.bins),
      }),
  }),
}));

const AttributionTreeInput = builder.inputType('AttributionTreeInput', {
  fields: (t) => ({
    population: t.field({ type: AudienceRefInputType, required: true, description: 'The customers the tree explains.' }),
    goal: t.field({ type: RuleInput, required: true, description: 'A customer converted when this rule holds (e.g. a succeeded purchase within 30 days).' }),
    features: t.stringList({ required: true }),
    maxDepth: t.int({ defaultValue: 3, description: `1 to ${MAX_TREE_DEPTH}.` }),
    minNodeCustomers: t.int({
      defaultValue: 100,
      description: 'Fewest customers a node may have (each side of a split); never under the privacy threshold for callers without personal clearance.',
    }),
    bins: t.field({ type: [FeatureBinsInput] }),
  }),
});

const TreeNodeRef = builder.objectRef<TreeNode>('AttributionNode').implement({
  description: 'A node of an attribution tree: the customers on a path of splits, their conversions and the split that made the node.',
  fields: (t) => ({
    id: t.exposeString('id'),
    parentId: t.string({ nullable: true, resolve: (n) => n.parentId }),
    depth: t.exposeInt('depth'),
    rule: t.field({
      type: 'JSON',
      nullable: true,
      description: 'The path as a RuleInput (with the population): createAudience with it selects exactly these customers. Null for the root of all customers.',
      resolve: (n) => n.rule,
    }),
    feature: t.string({ nullable: true, description: 'The feature of the split that made the node.', resolve: (n) => n.feature }),
    value: t.string({ nullable: true, description: 'The value (or bin) of that split; null for no value.', resolve: (n) => n.value }),
    inGroup: t.boolean({ nullable: true, description: 'Whether the node has the value (true) or is everyone else (false).', resolve: (n) => n.inGroup }),
    customers: t.int({ nullable: true, resolve: (n) => n.customers }),
    conversions: t.int({ nullable: true, resolve: (n) => n.conversions }),
    rate: t.float({ nullable: true, resolve: (n) => n.rate }),
    lift: t.float({ nullable: true, description: "rate / the root's rate.", resolve: (n) => n.lift }),
    pValue: t.float({ nullable: true, description: 'Bonferroni-adjusted chi-square p-value of the split that made the node.', resolve: (n) => n.pValue }),
  }),
});

const AttributionTreeRef = builder.objectRef<{ asOf: string; nodes: TreeNode[] }>('AttributionTree').implement({
  fields: (t) => ({
    asOf: t.exposeString('asOf'),
    nodes: t.field({ type: [TreeNodeRef], description: 'Parents before children.', resolve: (tree) => tree.nodes }),
  }),
});

builder.queryFields((t) => ({
  attributionTree: t.field({
    type: AttributionTreeRef,
    description:
      'A CHAID-style tree of the features that explain a goal: binary value-against-rest splits, the most significant chi-square (Bonferroni-adjusted, alpha 0.05) at each node, down to maxDepth or minNodeCustomers.',
    args: { input: t.arg({ type: AttributionTreeInput, required: true }) },
    resolve: async (_r, { input }, ctx) =>
      attributionTree(ctx.tags, (await ctx.session()).viewer, {
        population: audienceRef(input.population, 'population'),
        goal: parseRule(input.goal, 'goal'),
        features: input.features,
        maxDepth: input.maxDepth ?? 3,
        minNodeCustomers: input.minNodeCustomers ?? 100,
        bins: featureBins(input.bins),
      }),
  }),
}));

const CreateLookalikeInput = builder.inputType('CreateLookalikeAudienceInput', {
  fields: (t) => ({
    key: t.string({ required: true, description: 'The new audience key: snake_case, 2-63 characters, starting with a letter.' }),
    seed: t.string({ required: true, description: `A published rule audience of at least ${MIN_SEED_CUSTOMERS} customers.` }),
    size: t.int({ required: true, description: 'Customers outside the seed to select, the most similar first.' }),
    randomSeed: t.int({
      defaultValue: 1,
      description: 'Seeds the training sample and the held-out part: the same seed audience and randomSeed give the same model.',
    }),
    features: t.stringList({ description: 'Features to learn from; default every customer dimension and published tag the caller is cleared for.' }),
    description: t.string(),
  }),
});

const LookalikeQualityRef = builder.objectRef<LookalikeQuality>('LookalikeQuality').implement({
  description: 'How well the model ranks held-out seed customers above held-out other customers.',
  fields: (t) => ({
    auc: t.float({ nullable: true, resolve: (q) => q.auc }),
    precisionAtK: t.float({
      nullable: true,
      description: 'Share of seed customers among the k best-scored held-out customers, k = held-out seed customers.',
      resolve: (q) => q.precisionAtK,
    }),
    liftTopDecile: t.float({
      nullable: true,
      description: 'Seed share in the best-scored tenth of the held-out customers over the seed share among all of them.',
      resolve: (q) => q.liftTopDecile,
    }),
    holdoutCustomers: t.exposeInt('holdoutCustomers', { description: 'Held-out seed customers.' }),
  }),
});

const FeatureWeightRef = builder.objectRef<FeatureWeight>('FeatureWeight').implement({
  fields: (t) => ({ feature: t.exposeString('feature'), value: t.string({ nullable: true, resolve: (w) => w.value }), weight: t.exposeFloat('weight') }),
});

const LookalikeRef = builder.objectRef<LookalikeResult>('LookalikeAudience').implement({
  description: 'A published audience of the customers most similar to a seed audience, with the quality of its model.',
  fields: (t) => ({
    key: t.exposeString('key'),
    size: t.int({ nullable: true, description: 'Members in the current snapshot; null when a small cell for the caller.', resolve: (l) => l.size }),
    seed: t.string({ resolve: (l) => l.model.seed }),
    randomSeed: t.int({ resolve: (l) => l.model.randomSeed }),
    trainingCustomers: t.int({ resolve: (l) => l.model.trainingCustomers }),
    quality: t.field({ type: LookalikeQualityRef, resolve: (l) => l.model.quality }),
    topFeatures: t.field({
      type: [FeatureWeightRef],
      description: 'The ten one-hot features that weigh most (by absolute log-odds weight).',
      resolve: (l) => [...l.model.weights].sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight) || a.feature.localeCompare(b.feature)).slice(0, 10),
    }),
  }),
});

builder.mutationField('createLookalikeAudience', (t) =>
  t.field({
    type: LookalikeRef,
    description:
      'Learns which customers resemble a seed audience (L2 logistic regression over one-hot tags and dimensions, trained on a deterministic sample, a fifth held out) and saves the most similar `size` customers outside the seed as a published audience, refreshed with each materialization.',
    args: { input: t.arg({ type: CreateLookalikeInput, required: true }) },
    resolve: async (_r, { input }, ctx) =>
      createLookalikeAudience(ctx.tags, (await ctx.session()).viewer, {
        key: input.key,
        seed: input.seed,
        size: input.size,
        randomSeed: input.randomSeed ?? 1,
        features: input.features ?? null,
        description: input.description ?? null,
      }),
  }),
);

const DraftStrategyInput = builder.inputType('DraftStrategyFromInsightInput', {
  description: 'The customers insight found, as an existing audience or as a rule saved first as a new audience, and what to show them where.',
  fields: (t) => ({
    audience: t.string({ description: 'An existing audience: a lookalike, or the target of a comparison.' }),
    rule: t.field({ type: RuleInput, description: "A tree node's rule (or a comparison's target rule); needs audienceKey." }),
    audienceKey: t.string({ description: 'The key of the audience the rule is saved as.' }),
    placement: t.string({ required: true }),
    content: t.string({ required: true, description: 'A content of that placement.' }),
    key: t.string({ description: 'The strategy key; default `<audience>_on_<placement>`.' }),
    priority: t.int(),
  }),
});

const InsightStrategyRef = builder.objectRef<{ audience: StoredAudience; strategy: StoredDecision<DecisionKind> }>('InsightStrategyDraft').implement({
  description: 'The audience a strategy draft targets and the draft itself (DRAFT: submit and approve it to serve).',
  fields: (t) => ({
    audience: t.field({ type: AudienceRef, resolve: (d) => d.audience }),
    strategy: t.field({ type: DecisionChangeRef, resolve: (d) => d.strategy }),
  }),
});

builder.mutationField('draftStrategyFromInsight', (t) =>
  t.field({
    type: InsightStrategyRef,
    description:
      '策略生成: drafts a strategy (audience x placement x content) from insight: a tree node or comparison target given as a rule (saved as a published audience first) or an existing audience such as a lookalike. The draft is reviewed like any strategy.',
    args: { input: t.arg({ type: DraftStrategyInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const { viewer } = await ctx.session();
      return curating(ctx, (decisions) =>
        draftStrategyFromInsight(ctx.tags, viewer, decisions, {
          audience: input.audience ?? null,
          rule: input.rule ? parseRule(input.rule, 'rule') : null,
          audienceKey: input.audienceKey ?? null,
          placement: input.placement,
          content: input.content,
          key: input.key ?? null,
          priority: input.priority ?? null,
        }),
      );
    },
  }),
);
