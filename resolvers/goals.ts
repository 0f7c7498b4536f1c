import { builder } from './builder.ts';
import type { RequestContext } from './context.ts';
import { childGoals, createGoal, goalActual, goalProgress, listGoals, updateGoal, type Goal } from '../services/goals.ts';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../store/schema.ts';

/**
 * The actual of each goal of a request, read once: a goal's metric over its period through
 * the semantic layer with the caller's access (scope, clearance, small cells), in the analytics lane.
 */
function actualOf(ctx: RequestContext, goal: Goal): Promise<number | null> {
  const cache = actuals.get(ctx) ?? new Map<string, Promise<number | null>>();
  actuals.set(ctx, cache);
  let found = cache.get(goal.key);
  if (!found) {
    found = ctx.session().then(({ semantic, access }) => ctx.analytics.read((db) => goalActual(db as Kysely<DatabaseSchema>, semantic, access, goal)));
    cache.set(goal.key, found);
  }
  return found;
}
const actuals = new WeakMap<RequestContext, Map<string, Promise<number | null>>>();

const PeriodRef = builder.objectRef<Goal['period']>('GoalPeriod').implement({
  description: 'Half-open `[from, to)` of reporting-zone days.',
  fields: (t) => ({ from: t.exposeString('from'), to: t.exposeString('to') }),
});

interface ChildContribution {
  readonly goal: Goal;
  readonly parent: Goal;
}

const ChildRef = builder.objectRef<ChildContribution>('GoalContribution').implement({
  description: "A child goal's part of its parent's actual (internal: aggregates).",
  fields: (t) => ({
    key: t.string({ resolve: (c) => c.goal.key }),
    metric: t.string({ resolve: (c) => c.goal.metric }),
    actual: t.float({ nullable: true, resolve: (c, _a, ctx) => actualOf(ctx, c.goal) }),
    contribution: t.float({
      nullable: true,
      description: "The child's actual / the parent's actual (null when either is missing or the parent's is 0).",
      resolve: async (c, _a, ctx) => {
        const [child, parent] = await Promise.all([actualOf(ctx, c.goal), actualOf(ctx, c.parent)]);
        return child === null || parent === null || parent === 0 ? null : child / parent;
      },
    }),
  }),
});

const GoalRef = builder.objectRef<Goal>('Goal').implement({
  description:
    'A goal (目标): a target for a metric of the semantic layer over a period, optionally part of a parent goal. Definition fields are internal; actual and progress are internal aggregates under the caller’s access.',
  fields: (t) => ({
    key: t.exposeString('key'),
    metric: t.exposeString('metric'),
    target: t.exposeFloat('target'),
    period: t.field({ type: PeriodRef, resolve: (g) => g.period }),
    parent: t.string({ nullable: true, description: 'The parent goal’s key.', resolve: (g) => g.parent }),
    description: t.string({ nullable: true, resolve: (g) => g.description }),
    version: t.exposeInt('version'),
    updatedBy: t.exposeString('updatedBy'),
    actual: t.float({
      nullable: true,
      description: 'The metric over the period, read through the semantic layer with your access (null: no data, or hidden under the privacy threshold).',
      resolve: (g, _a, ctx) => actualOf(ctx, g),
    }),
    progress: t.float({
      nullable: true,
      description: 'actual / target (null without an actual or with a target of 0).',
      resolve: async (g, _a, ctx) => goalProgress(await actualOf(ctx, g), g.target),
    }),
    children: t.field({
      type: [ChildRef],
      description: 'Goals whose parent this is, in period order, each with its share of this goal’s actual.',
      resolve: async (g, _a, ctx) => (await childGoals(ctx.database.db, g.key)).map((goal) => ({ goal, parent: g })),
    }),
  }),
});

const GoalPeriodInput = builder.inputType('GoalPeriodInput', {
  description: 'Half-open `[from, to)` of reporting-zone days, `YYYY-MM-DD`.',
  fields: (t) => ({ from: t.string({ required: true }), to: t.string({ required: true }) }),
});

const CreateGoalInput = builder.inputType('CreateGoalInput', {
  fields: (t) => ({
    key: t.string({ required: true, description: 'snake_case, 2-63 characters.' }),
    metric: t.string({ required: true, description: 'A metric of the catalog.' }),
    target: t.float({ required: true }),
    period: t.field({ type: GoalPeriodInput, required: true }),
    parent: t.string({ description: 'Key of the parent goal.' }),
    description: t.string(),
  }),
});

const UpdateGoalInput = builder.inputType('UpdateGoalInput', {
  description: 'Fields to change; those left out keep their value (`parent: null` detaches the goal).',
  fields: (t) => ({
    metric: t.string(),
    target: t.float(),
    period: t.field({ type: GoalPeriodInput }),
    parent: t.string(),
    description: t.string(),
  }),
});

builder.queryFields((t) => ({
  goals: t.field({
    type: [GoalRef],
    description: 'Goals (目标管理) with their actual read through the semantic layer, progress toward the target and the contribution of each child goal.',
    args: { keys: t.arg.stringList({ description: 'Only these goals (default: all).' }) },
    resolve: (_r, { keys }, ctx) => listGoals(ctx.database.db, keys ?? undefined),
  }),
}));

builder.mutationFields((t) => ({
  createGoal: t.field({
    type: GoalRef,
    args: { input: t.arg({ type: CreateGoalInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const { semantic, actor } = await ctx.session();
      const { key, ...rest } = input;
      return createGoal(ctx.database.db, semantic, actor, key, rest);
    },
  }),
  updateGoal: t.field({
    type: GoalRef,
    args: {
      key: t.arg.string({ required: true }),
      expectedVersion: t.arg.int({ required: true }),
      input: t.arg({ type: UpdateGoalInput, required: true }),
    },
    resolve: async (_r, { key, expectedVersion, input }, ctx) => {
      const { semantic, actor } = await ctx.session();
      const patch = Object.fromEntries(
        Object.entries(input).filter(([name, v]) => v !== undefined && (v !== null || name === 'parent' || name === 'description')),
      );
      return updateGoal(ctx.database.db, semantic, actor, key, expectedVersion, patch);
    },
  }),
}));
