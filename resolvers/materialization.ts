import { builder } from './builder.ts';
import { materializeProfiles, type MaterializationRun } from '../services/profile-materialization.ts';
import { publishedAudiences } from '../services/audiences.ts';
import { StrataError } from '../modeling/errors.ts';
import { dateProblem } from '../modeling/catalog/calendar.ts';
import { quoteInput } from '../modeling/quote-input.ts';

const RunRef = builder.objectRef<MaterializationRun>('MaterializationRun').implement({
  description: 'One materialization of every published tag and audience, as of a date.',
  fields: (t) => ({
    runId: t.exposeInt('runId'),
    asOf: t.exposeString('asOf'),
    customers: t.exposeInt('customers'),
    seconds: t.exposeFloat('seconds'),
    coverage: t.field({ type: 'JSON', description: 'Per tag: { covered, values: { value: customers } }.', resolve: (r) => r.coverage }),
  }),
});

builder.mutationField('materializeTags', (t) =>
  t.field({
    type: RunRef,
    description: 'Recomputes every customer profile as of a date (default: the latest date with data) and swaps the snapshot atomically.',
    args: { asOf: t.arg.string({ description: 'YYYY-MM-DD' }) },
    resolve: async (_r, { asOf }, ctx) => {
      const problem = asOf && dateProblem(asOf);
      if (asOf && problem) throw new StrataError('BAD_USER_INPUT', `asOf: ${quoteInput(asOf)} is not a date: ${problem}`, { path: 'asOf' });
      const registry = await ctx.tags.registry();
      return materializeProfiles({
        database: ctx.database, subject: ctx.tags.subject, tags: [...registry.live.values()],
        audiences: publishedAudiences, actor: (await ctx.session()).actor, lane: ctx.analytics, ...(asOf ? { asOf } : {}),
      });
    },
  }),
);
