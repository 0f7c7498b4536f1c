import { builder } from './builder.ts';
import { materializeProfiles } from '../services/profile-materialization.ts';
import { publishHeldRun, type MaterializationRun } from '../services/materialization-runs.ts';
import { publishedAudiences } from '../services/audiences.ts';
import { refreshLookalikes } from '../services/lookalike-model.ts';

const StatusRef = builder.enumType('MaterializationStatus', {
  description:
    'PUBLISHED: the run is (or was) the snapshot readers see. HELD: its tag values moved too far from the published snapshot; an approver publishes it. SUPERSEDED: held, then overtaken by a newer run. RUNNING, FAILED.',
  values: ['RUNNING', 'PUBLISHED', 'HELD', 'SUPERSEDED', 'FAILED'] as const,
});

const RunRef = builder.objectRef<MaterializationRun>('MaterializationRun').implement({
  description: 'One materialization of every published tag and audience, as of a date.',
  fields: (t) => ({
    runId: t.exposeInt('runId'),
    asOf: t.exposeString('asOf'),
    status: t.field({ type: StatusRef, resolve: (r) => r.status.toUpperCase() as 'PUBLISHED' }),
    published: t.boolean({ description: 'Whether the run was published (its rows are, or were, what readers see).', resolve: (r) => r.status === 'published' }),
    customers: t.exposeInt('customers'),
    seconds: t.exposeFloat('seconds'),
    coverage: t.field({ type: 'JSON', description: 'Per tag: { covered, values: { value: customers } }.', resolve: (r) => r.coverage }),
    drift: t.field({
      type: 'JSON',
      description:
        'Per tag: the share of customers its value distribution moved from the snapshot published when the run was computed (total-variation distance, null counted as a value); {} for the first run.',
      resolve: (r) => r.drift,
    }),
    message: t.string({
      nullable: true,
      description: 'Why the run was held (which tags moved by how much), or that its publication was forced.',
      resolve: (r) => r.message,
    }),
    publishedBy: t.string({ nullable: true, resolve: (r) => r.publishedBy }),
    publishedAt: t.string({ nullable: true, description: 'ISO 8601.', resolve: (r) => r.publishedAt?.toISOString() ?? null }),
  }),
});

builder.mutationField('materializeTags', (t) =>
  t.field({
    type: RunRef,
    description:
      'Recomputes every customer profile as of a date (default: the last date every source the tags read has data; a date outside the data range is refused) ' +
      'and swaps the snapshot atomically, unless a tag distribution moved more than the configured share of customers: then the run is HELD for an approver.',
    args: { asOf: t.arg.string({ description: 'YYYY-MM-DD' }) },
    resolve: async (_r, { asOf }, ctx) => {
      const registry = await ctx.tags.registry();
      return materializeProfiles({
        database: ctx.database,
        subject: ctx.tags.subject,
        tags: [...registry.live.values()],
        audiences: publishedAudiences,
        refreshModelAudiences: async (trx, run) => refreshLookalikes(trx, ctx.tags.subject, (await ctx.tags.registry()).live, run),
        actor: (await ctx.session()).actor,
        maxDrift: ctx.materializeMaxDrift,
        statementTimeoutMs: ctx.materializeStatementTimeoutMs,
        lane: ctx.analytics,
        ...(asOf != null ? { asOf } : {}),
      });
    },
  }),
);

builder.mutationField('publishMaterialization', (t) =>
  t.field({
    type: RunRef,
    description: 'Publishes a HELD materialization run, if it is still the newest run: the snapshot pointer flips to it atomically.',
    args: { runId: t.arg.int({ required: true }) },
    resolve: async (_r, { runId }, ctx) => publishHeldRun(ctx.database.db, runId, (await ctx.session()).actor),
  }),
);
