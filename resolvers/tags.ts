import { builder } from './builder.ts';
import { historyEntryType } from './history-entry.ts';
import { StatusEnum } from './enums.ts';
import { AggregateInput, RuleInput, type AggregateInputShape, type RuleInputShape } from './rule-input.ts';
import { CatalogRef } from './catalog.ts';
import * as curation from '../services/tag-curation.ts';
import { previewTag, type PreviewValue } from '../services/tag-preview.ts';
import { tagCoverageReader, type CoverageReader, type TagCoverage } from '../services/tag-coverage.ts';
import { isAllowed } from '../services/authorization.ts';
import { tagSensitivity } from '../modeling/tags/rule-members.ts';
import { tagValueType, tagValues, type TagDefinition } from '../modeling/tags/tag-definition.ts';
import type { TagSpec } from '../modeling/tags/define-tag.ts';
import { ruleToInput } from '../modeling/conditions/rule-to-input.ts';
import type { TagSource } from '../modeling/tags/tag-definition.ts';
import type { RequestContext } from './context.ts';
import type { StoredDefinition } from '../store/definition-store.ts';
import type { StoredTagBody } from '../services/tag-registry.ts';

function sourceToInput(source: TagSource): Record<string, unknown> {
  switch (source.kind) {
    case 'rule':
      return { rule: ruleToInput(source.rule) };
    case 'cases':
      return { cases: source.cases.map((c) => ({ value: c.value, rule: ruleToInput(c.rule) })), else: source.otherwise };
    case 'aggregate':
      return { aggregate: source.aggregate };
    case 'top':
      return { top: { aggregate: source.aggregate, by: source.by } };
  }
}

const TagKindEnum = builder.enumType('TagKind', { values: ['BOOLEAN', 'ENUM', 'NUMERIC'] as const });

const TagCoverageRef = builder.objectRef<TagCoverage>('TagCoverage').implement({
  description: 'Customers with a value in the published profile snapshot, as its materialization run recorded them (an aggregate, small cells suppressed).',
  fields: (t) => ({
    asOf: t.exposeString('asOf', { description: 'The snapshot’s as-of date.' }),
    customers: t.int({ nullable: true, description: 'Customers with a value; null when suppressed.', resolve: (c) => c.customers }),
    share: t.float({ nullable: true, description: 'Their share of the snapshot’s customers; null when suppressed.', resolve: (c) => c.share }),
    suppressed: t.exposeBoolean('suppressed', {
      description: 'Hidden: fewer customers than the privacy threshold have a value, or have none (the share would reveal them).',
    }),
  }),
});

/** The coverage reader of a request: the published run read once, however many tags ask. */
const coverageReaders = new WeakMap<RequestContext, Promise<CoverageReader | null>>();
function coverageReader(ctx: RequestContext): Promise<CoverageReader | null> {
  let reader = coverageReaders.get(ctx);
  if (!reader) {
    reader = (async () => {
      const { principal, viewer } = await ctx.session();
      return isAllowed(principal, 'tags.preview') ? tagCoverageReader(ctx.database.db, viewer) : null;
    })();
    coverageReaders.set(ctx, reader);
  }
  return reader;
}

const TagRef = builder.objectRef<TagDefinition>('Tag').implement({
  description: 'A per-customer label with a governed meaning.',
  fields: (t) => ({
    key: t.exposeString('key'),
    kind: t.field({ type: TagKindEnum, resolve: (tag) => tag.kind }),
    description: t.exposeString('description'),
    category: t.exposeString('category'),
    status: t.field({ type: StatusEnum, resolve: (tag) => tag.status }),
    version: t.exposeInt('version'),
    owner: t.exposeString('owner'),
    origin: t.string({ description: '`code` (defined with the domain) or `api` (steward-defined).', resolve: (tag) => tag.origin }),
    valueType: t.string({ description: 'boolean, string or number.', resolve: (tag) => tagValueType(tag) }),
    values: t.stringList({ description: 'The values an enum or boolean tag can take.', resolve: (tag) => tagValues(tag) }),
    definition: t.field({
      type: 'JSON',
      description: 'How the value is computed, in the form createTag takes: rule, cases and else, aggregate, or top.',
      resolve: (tag) => sourceToInput(tag.source),
    }),
    coverage: t.field({
      type: TagCoverageRef,
      nullable: true,
      description:
        'Its coverage in the published snapshot (tags.preview roles: steward, approver, analyst, admin; null for other roles, for keys with a row scope, for a tag the snapshot does not hold yet, and before the first materialization).',
      resolve: async (tag, _a, ctx) => {
        const reader = await coverageReader(ctx);
        return reader && tag.status !== 'DRAFT' && tag.status !== 'IN_REVIEW' ? reader(tag.key) : null;
      },
    }),
    sensitivity: t.string({
      description: 'public, internal, personal or restricted: as declared, and never less strict than what the tag reads.',
      resolve: async (tag, _a, ctx) => tagSensitivity(tag, ctx.tags.subject, (await ctx.tags.registry()).live),
    }),
  }),
});

builder.objectField(CatalogRef, 'tags', (t) =>
  t.field({
    type: [TagRef],
    description: 'Every tag that is not archived; drafts and tags under review only for stewards, approvers and admins.',
    resolve: async (_c, _a, ctx) => {
      const { principal } = await ctx.session();
      const all = [...(await ctx.tags.registry()).current.values()].filter((tag) => tag.status !== 'ARCHIVED');
      return isAllowed(principal, 'catalog.drafts') ? all : all.filter((tag) => tag.status === 'PUBLISHED' || tag.status === 'DEPRECATED');
    },
  }),
);

const TagChangeRef = builder.objectRef<StoredDefinition<StoredTagBody>>('TagChange').implement({
  description: 'A steward-defined tag after a change.',
  fields: (t) => ({
    key: t.exposeString('key'),
    version: t.exposeInt('version'),
    status: t.field({ type: StatusEnum, resolve: (d) => d.status as TagDefinition['status'] }),
    updatedBy: t.exposeString('updatedBy'),
  }),
});

const HistoryRef = historyEntryType('TagHistoryEntry');

const TagCaseInput = builder.inputType('TagCaseInput', {
  fields: (t) => ({ value: t.string({ required: true }), rule: t.field({ type: RuleInput, required: true }) }),
});

const TopInput = builder.inputType('TopValueInput', {
  description: 'An enum tag whose value is the `by` dimension value with the largest aggregate (ties: alphabetically first).',
  fields: (t) => ({ aggregate: t.field({ type: AggregateInput, required: true }), by: t.string({ required: true }) }),
});

const tagFields = (t: PothosSchemaTypes.InputFieldBuilder<PothosSchemaTypes.ExtendDefaultTypes<{}>, 'InputObject'>) => ({
  description: t.string({ description: 'What the tag means, at most 2,000 characters.' }),
  category: t.string({ description: 'A short one-line label, at most 64 characters, e.g. `behaviour`.' }),
  owner: t.string({ description: "A team slug or user name (1-63 letters, digits, `_`, `.`, `@`, `-`), e.g. `wealth-data`; left out, the acting key's name." }),
  rule: t.field({ type: RuleInput, description: 'BOOLEAN tags.' }),
  cases: t.field({ type: [TagCaseInput], description: 'ENUM tags: the first case whose rule is true gives the value.' }),
  else: t.string({ description: 'ENUM tags: the value when no case matches (null when absent).' }),
  aggregate: t.field({ type: AggregateInput, description: 'NUMERIC tags.' }),
  top: t.field({ type: TopInput, description: 'ENUM tags: the top value of a dimension.' }),
  sensitivity: t.string({
    description:
      "public, internal (default), personal or restricted; never less strict than what the rule reads. Profiles mask a tag above the caller's clearance.",
  }),
});

const CreateTagInput = builder.inputType('CreateTagInput', {
  fields: (t) => ({ key: t.string({ required: true }), kind: t.field({ type: TagKindEnum, required: true }), ...tagFields(t as never) }),
});
const UpdateTagInput = builder.inputType('UpdateTagInput', { fields: (t) => tagFields(t as never) });

interface TagFieldsShape {
  description?: string | null;
  category?: string | null;
  owner?: string | null;
  rule?: RuleInputShape | null;
  cases?: { value: string; rule: RuleInputShape }[] | null;
  else?: string | null;
  aggregate?: AggregateInputShape | null;
  top?: { aggregate: AggregateInputShape; by: string } | null;
  sensitivity?: string | null;
}

/** Only the fields the caller sent (GraphQL gives absent fields as null or undefined). */
function specFields(input: TagFieldsShape): Partial<TagSpec> {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== null && v !== undefined)) as Partial<TagSpec>;
}

const curationContext = async (ctx: RequestContext) => {
  const { actor, principal } = await ctx.session();
  return { db: ctx.database.db, subject: ctx.tags.subject, codeTags: ctx.tags.codeTags, actor, principal };
};

/** Runs a curation change (authorized by the policy catalogue) and drops this process's cached registry. */
async function curate<T>(ctx: RequestContext, work: (context: Awaited<ReturnType<typeof curationContext>>) => Promise<T>): Promise<T> {
  const result = await work(await curationContext(ctx));
  ctx.tags.invalidate();
  return result;
}

builder.mutationFields((t) => ({
  createTag: t.field({
    type: TagChangeRef,
    args: { input: t.arg({ type: CreateTagInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      curate(ctx, (c) => curation.createTag(c, { ...specFields(input), key: input.key, kind: input.kind, description: input.description ?? '' } as TagSpec)),
  }),
  updateTag: t.field({
    type: TagChangeRef,
    args: { key: t.arg.string({ required: true }), expectedVersion: t.arg.int({ required: true }), input: t.arg({ type: UpdateTagInput, required: true }) },
    resolve: (_r, { key, expectedVersion, input }, ctx) => curate(ctx, (c) => curation.updateTag(c, key, expectedVersion, specFields(input))),
  }),
  submitTag: t.field({
    type: TagChangeRef,
    args: { key: t.arg.string({ required: true }), expectedVersion: t.arg.int({ required: true }) },
    resolve: (_r, { key, expectedVersion }, ctx) => curate(ctx, (c) => curation.submitTag(c, key, expectedVersion)),
  }),
  approveTag: t.field({
    type: TagChangeRef,
    args: { key: t.arg.string({ required: true }), expectedVersion: t.arg.int({ required: true }) },
    resolve: (_r, { key, expectedVersion }, ctx) => curate(ctx, (c) => curation.approveTag(c, key, expectedVersion)),
  }),
  rejectTag: t.field({
    type: TagChangeRef,
    args: {
      key: t.arg.string({ required: true }),
      expectedVersion: t.arg.int({ required: true }),
      reason: t.arg.string({ required: true, description: 'At most 1,000 characters.' }),
    },
    resolve: (_r, { key, expectedVersion, reason }, ctx) => curate(ctx, (c) => curation.rejectTag(c, key, expectedVersion, reason)),
  }),
  deprecateTag: t.field({
    type: TagChangeRef,
    args: { key: t.arg.string({ required: true }), reason: t.arg.string({ required: true, description: 'At most 1,000 characters.' }) },
    resolve: (_r, { key, reason }, ctx) => curate(ctx, (c) => curation.deprecateTag(c, key, reason)),
  }),
  archiveTag: t.field({
    type: TagChangeRef,
    args: { key: t.arg.string({ required: true }), reason: t.arg.string({ required: true, description: 'At most 1,000 characters.' }) },
    resolve: (_r, { key, reason }, ctx) => curate(ctx, (c) => curation.archiveTag(c, key, reason)),
  }),
}));

const PreviewValueRef = builder.objectRef<PreviewValue>('TagPreviewValue').implement({
  fields: (t) => ({
    value: t.string({ nullable: true, resolve: (v) => v.value }),
    customers: t.int({ nullable: true, description: 'Null when suppressed.', resolve: (v) => v.customers }),
    suppressed: t.exposeBoolean('suppressed', { description: 'Hidden: fewer customers than the privacy threshold, or a value that would reveal one that is.' }),
  }),
});

const PreviewRef = builder.objectRef<Awaited<ReturnType<typeof previewTag>> & { showSql: boolean }>('TagPreview').implement({
  fields: (t) => ({
    asOf: t.exposeString('asOf'),
    customers: t.int({
      nullable: true,
      description: 'Customers with a value (matching, for a boolean rule); null when suppressed.',
      resolve: (p) => p.customers,
    }),
    coverage: t.float({
      nullable: true,
      description: "Share of all customers (in the caller's scope) with a value; null when suppressed.",
      resolve: (p) => p.coverage,
    }),
    values: t.field({ type: [PreviewValueRef], resolve: (p) => [...p.values] }),
    sql: t.string({ nullable: true, resolve: (p) => (p.showSql ? p.sql : null) }),
  }),
});

builder.queryFields((t) => ({
  tagPreview: t.field({
    type: PreviewRef,
    description: 'A boolean rule (`rule`) or a whole tag (`tag`) evaluated on the data before saving.',
    args: { rule: t.arg({ type: RuleInput }), tag: t.arg({ type: UpdateTagInput }), kind: t.arg({ type: TagKindEnum }) },
    resolve: async (_r, args, ctx) => {
      const spec = args.rule
        ? { kind: 'BOOLEAN' as const, description: 'preview', rule: args.rule }
        : { ...specFields(args.tag ?? {}), kind: args.kind ?? 'BOOLEAN', description: 'preview' };
      const { viewer, canSeeSql } = await ctx.session();
      return { ...(await previewTag(ctx.tags, spec, viewer)), showSql: canSeeSql };
    },
  }),
  tagHistory: t.field({
    type: [HistoryRef],
    args: { key: t.arg.string({ required: true }) },
    resolve: (_r, { key }, ctx) => curation.tagHistory(ctx.database.db, key),
  }),
}));
