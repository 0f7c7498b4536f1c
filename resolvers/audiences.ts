import { builder } from './builder.ts';
import { RuleInput, type RuleInputShape } from './rule-input.ts';
import { audienceMembers, audienceRuleOrNull, audienceSize, createAudience, getAudience, type StoredAudience } from '../services/audiences.ts';
import { audienceInsight, type InsightRow } from '../services/audience-insight.ts';
import { parseRule } from '../modeling/conditions/parse-rule.ts';
import { ruleToInput } from '../modeling/conditions/rule-to-input.ts';
import { StrataError } from '../modeling/errors.ts';

const MemberRef = builder.objectRef<{ id: string }>('AudienceMember').implement({ fields: (t) => ({ id: t.exposeString('id') }) });
const EdgeRef = builder.objectRef<{ node: { id: string }; cursor: string }>('AudienceMemberEdge').implement({
  fields: (t) => ({ node: t.field({ type: MemberRef, resolve: (e) => e.node }), cursor: t.exposeString('cursor') }),
});
const PageInfoRef = builder.objectRef<{ hasNextPage: boolean; endCursor: string | null }>('PageInfo').implement({
  fields: (t) => ({ hasNextPage: t.exposeBoolean('hasNextPage'), endCursor: t.string({ nullable: true, resolve: (p) => p.endCursor }) }),
});
const ConnectionRef = builder
  .objectRef<{ edges: { node: { id: string }; cursor: string }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } }>('AudienceMemberConnection')
  .implement({
    fields: (t) => ({ edges: t.field({ type: [EdgeRef], resolve: (c) => c.edges }), pageInfo: t.field({ type: PageInfoRef, resolve: (c) => c.pageInfo }) }),
  });

/** Largest page of audience members, and most members one request may read across its pages. */
export const MAX_MEMBERS_PAGE = 1000;

const encodeCursor = (id: string) => Buffer.from(`customer:${id}`).toString('base64url');
function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith('customer:')) throw new StrataError('BAD_USER_INPUT', 'after: not a cursor returned by this connection');
  return text.slice('customer:'.length);
}

export const AudienceRef = builder.objectRef<StoredAudience>('Audience').implement({
  description: 'Customers selected by a rule over tags, dimensions and aggregates.',
  fields: (t) => ({
    key: t.exposeString('key'),
    description: t.string({ resolve: (a) => a.body.description }),
    status: t.exposeString('status'),
    version: t.exposeInt('version'),
    rule: t.field({
      type: 'JSON',
      nullable: true,
      description: 'The rule as written, in the form of RuleInput; null for a lookalike audience, whose members come from its model.',
      resolve: (a) => {
        const rule = audienceRuleOrNull(a);
        return rule === null ? null : ruleToInput(rule);
      },
    }),
    size: t.int({
      nullable: true,
      description:
        "Customers in the audience (in the caller's scope) in the current snapshot; null when fewer than the privacy threshold and the caller lacks personal clearance.",
      resolve: async (a, _args, ctx) => audienceSize(ctx.tags, a.key, (await ctx.session()).viewer),
    }),
    members: t.field({
      type: ConnectionRef,
      args: { first: t.arg.int({ defaultValue: 100 }), after: t.arg.string() },
      resolve: async (a, { first, after }, ctx) => {
        const size = first ?? 100;
        if (size < 1 || size > MAX_MEMBERS_PAGE) throw new StrataError('BAD_USER_INPUT', `first: between 1 and ${MAX_MEMBERS_PAGE}`);
        const { viewer, actor } = await ctx.session();
        const page = await audienceMembers(ctx.tags, a.key, size, after ? decodeCursor(after) : null, viewer);
        ctx.personalData.record(actor, 'audience.members', page.ids);
        const edges = page.ids.map((id) => ({ node: { id }, cursor: encodeCursor(id) }));
        return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
      },
    }),
  }),
});

const CreateAudienceInput = builder.inputType('CreateAudienceInput', {
  fields: (t) => ({
    key: t.string({ required: true, description: 'snake_case, 2-63 characters, starting with a letter.' }),
    description: t.string({ description: 'At most 2,000 characters.' }),
    rule: t.field({ type: RuleInput, required: true }),
  }),
});

const ReferenceEnum = builder.enumType('InsightReference', { values: ['ALL_CUSTOMERS', 'AUDIENCE'] as const });

const InsightRef = builder.objectRef<InsightRow>('AudienceInsight').implement({
  description: 'One tag value: its share in the audience and in the reference, and the TGI (100 = same as the reference).',
  fields: (t) => ({
    tag: t.exposeString('tag'),
    value: t.string({ nullable: true, resolve: (r) => r.value }),
    audienceCustomers: t.exposeInt('audienceCustomers'),
    audienceShare: t.exposeFloat('audienceShare'),
    referenceShare: t.exposeFloat('referenceShare'),
    tgi: t.float({ nullable: true, resolve: (r) => r.tgi }),
  }),
});

builder.mutationField('createAudience', (t) =>
  t.field({
    type: AudienceRef,
    args: { input: t.arg({ type: CreateAudienceInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      return createAudience(ctx.tags, (await ctx.session()).viewer, {
        key: input.key,
        description: input.description ?? null,
        rule: parseRule(input.rule as RuleInputShape),
      });
    },
  }),
);

builder.queryFields((t) => ({
  audience: t.field({
    type: AudienceRef,
    args: { key: t.arg.string({ required: true }) },
    resolve: (_r, { key }, ctx) => getAudience(ctx.tags, key),
  }),
  audienceInsight: t.field({
    type: [InsightRef],
    description:
      'Per tag value, audience share against a reference (all customers or another audience) and TGI, ranked. For callers without personal clearance, cells under the privacy threshold (STRATA_PRIVACY_K, 10) are left out, with the cells that would reveal them.',
    args: {
      audience: t.arg.string({ required: true }),
      reference: t.arg({ type: ReferenceEnum, defaultValue: 'ALL_CUSTOMERS' }),
      referenceAudience: t.arg.string({ description: 'The reference audience when `reference` is AUDIENCE.' }),
      tags: t.arg.stringList({ required: true }),
    },
    resolve: async (_r, args, ctx) => {
      if (args.reference === 'AUDIENCE' && !args.referenceAudience)
        throw new StrataError('BAD_USER_INPUT', 'referenceAudience: required when reference is AUDIENCE');
      const { viewer } = await ctx.session();
      return audienceInsight(ctx.tags, args.audience, args.reference === 'AUDIENCE' ? (args.referenceAudience ?? null) : null, args.tags, viewer);
    },
  }),
}));
