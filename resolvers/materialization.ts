import { builder } from './builder.ts';
import { materializeProfiles, type MaterializationRun } from '../services/profile-materialization.ts';
import { publishedAudiences } from '../services/audiences.ts';
import { StrataError } from '../modeling/errors.ts';
import { castProblem } from '../modeling/catalog/values.ts';

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
      if (asOf && castProblem('time', asOf)) throw new StrataError('BAD_USER_INPUT', 'asOf: expected a date, YYYY-MM-DD');
      const registry = await ctx.tags.registry();
      return materializeProfiles({
        database: ctx.database, subject: ctx.tags.subject, tags: [...registry.live.values()],
        audiences: publishedAudiences, actor: (await ctx.session()).actor, ...(asOf ? { asOf } : {}),
      });
    },
  }),
);
