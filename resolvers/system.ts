import { builder } from './builder.ts';
import { STRATA_VERSION } from '../store/version.ts';
import { checkDatabase } from '../store/readiness.ts';
import type { ReplicaLag } from '../store/replica.ts';

interface HealthShape {
  ok: boolean;
  engine: string;
  replica: ReplicaLag | null;
}

const ReplicaHealth = builder.objectRef<ReplicaLag>('ReplicaHealth').implement({
  description: 'The read replica (STRATA_READ_DATABASE_URL): its lag behind the primary as last measured (every 5 s), and whether reads go to it.',
  fields: (t) => ({
    reachable: t.exposeBoolean('reachable', { description: 'Whether the replica and the primary answered the last measurement.' }),
    serving: t.exposeBoolean('serving', {
      description:
        'Whether metric queries, previews, insight and profile reads go to the replica now (reachable, a standby, lag within STRATA_READ_MAX_LAG_SECONDS).',
    }),
    lagSeconds: t.float({
      nullable: true,
      description: 'Age of the last replayed commit while WAL is left to replay; 0 when caught up; null when unknown.',
      resolve: (r) => r.lagSeconds,
    }),
    lagBytes: t.float({ nullable: true, description: 'WAL bytes written on the primary and not yet replayed; null when unknown.', resolve: (r) => r.lagBytes }),
    measuredAt: t.exposeString('measuredAt', { description: 'ISO 8601.' }),
  }),
});

const Health = builder.objectRef<HealthShape>('Health').implement({
  description: 'Liveness of the API and its database.',
  fields: (t) => ({
    ok: t.exposeBoolean('ok', { description: 'True when the database answered.' }),
    engine: t.exposeString('engine', { description: '`pglite` (embedded) or `postgres`.' }),
    replica: t.field({ type: ReplicaHealth, nullable: true, description: 'The read replica; null when none is configured.', resolve: (h) => h.replica }),
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
      replica: database.replica?.current() ?? null,
    }),
  }),
}));
