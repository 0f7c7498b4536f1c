import { builder } from './builder.ts';
import { curating, DecisionChangeRef } from './decision-definitions.ts';
import { createStrategyFromAudience, promoteExperiment } from '../services/decision-reoperation.ts';
import type { DecisionAnswer } from '../services/decisions.ts';

const DecidedContentRef = builder.objectRef<DecisionAnswer['content']>('DecidedContent').implement({
  fields: (t) => ({
    key: t.exposeString('key'),
    payload: t.field({ type: 'JSON', nullable: true, resolve: (c) => c.payload }),
  }),
});

const DecisionRef = builder.objectRef<DecisionAnswer>('Decision').implement({
  description: 'What one placement shows the customer, logged as one placement_impression with event_id = decisionId.',
  fields: (t) => ({
    placement: t.exposeString('placement'),
    decisionId: t.exposeString('decisionId', { description: 'Send it with the click event (properties.decision_id).' }),
    content: t.field({ type: DecidedContentRef, resolve: (d) => d.content }),
    strategy: t.string({ nullable: true, resolve: (d) => d.strategy }),
    experiment: t.string({ nullable: true, resolve: (d) => d.experiment }),
    variant: t.string({ nullable: true, resolve: (d) => d.variant }),
    fallback: t.exposeBoolean('fallback'),
    reason: t.exposeString('reason', { description: 'Why, in words: matched targeting, experiment arm, fatigue caps, fallback.' }),
  }),
});

const DecideContextInput = builder.inputType('DecideContextInput', {
  fields: (t) => ({ channel: t.string({ description: "The app's channel, e.g. `app`; default the placement's." }) }),
});

builder.mutationFields((t) => ({
  decide: t.field({
    type: [DecisionRef],
    description:
      'Chooses the content of each placement for a customer and logs each decision as a placement_impression. Retrying with the same idempotencyKey returns the first answer and logs nothing twice.',
    args: {
      customerId: t.arg.string({ required: true }),
      placements: t.arg.stringList({ required: true }),
      context: t.arg({ type: DecideContextInput }),
      idempotencyKey: t.arg.string({ description: 'A client-chosen unique key per request (8-128 characters, e.g. a UUID) that makes retries safe.' }),
    },
    resolve: async (_r, args, ctx) =>
      ctx.decisions.decide({
        customerId: args.customerId,
        placements: args.placements,
        channel: args.context?.channel ?? null,
        idempotencyKey: args.idempotencyKey ?? null,
        profiles: (await ctx.session()).profiles,
      }),
  }),
  createStrategyFromAudience: t.field({
    type: DecisionChangeRef,
    description: '二次运营: a draft strategy showing a content to an audience in a placement, in one call (then submit and approve).',
    args: {
      audience: t.arg.string({ required: true }),
      placement: t.arg.string({ required: true }),
      content: t.arg.string({ required: true }),
      key: t.arg.string(),
      priority: t.arg.int(),
    },
    resolve: (_r, args, ctx) => curating(ctx, (c) => createStrategyFromAudience(c, args)),
  }),
  promoteExperiment: t.field({
    type: [DecisionChangeRef],
    description: "Ends an experiment: its variant's content becomes the content of every strategy running it (a new published version each, with history).",
    args: { key: t.arg.string({ required: true }), variant: t.arg.string({ required: true }) },
    resolve: (_r, { key, variant }, ctx) => curating(ctx, (c) => promoteExperiment(c, key, variant)),
  }),
}));
