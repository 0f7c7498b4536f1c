import { builder } from './builder.ts';
import { STRATA_VERSION } from '../store/version.ts';
import { checkDatabase } from '../store/readiness.ts';

interface HealthShape {
  ok: boolean;
  engine: string;
}

const Health = builder.objectRef<HealthShape>('Health').implement({
  description: 'Liveness of the API and its database.',
  fields: (t) => ({
    ok: t.exposeBoolean('ok', { description: 'True when the database answered.' }),
    engine: t.exposeString('engine', { description: '`pglite` (embedded) or `postgres`.' }),
  }),
});

builder.queryFields((t) => ({
  version: t.string({ description: 'The running Strata version.', resolve: () => STRATA_VERSION }),
  health: t.field({
    type: Health,
    description: 'Whether the API can reach its database.',
    resolve: async (_root, _args, { database }) => ({
      ok: (await checkDatabase(database)).reachable,
      engine: database.engine,
    }),
  }),
}));
