import { builder } from './builder.ts';
import type { Principal } from '../services/authorization.ts';
import { ruleToInput } from '../modeling/conditions/rule-to-input.ts';

const ViewerRef = builder.objectRef<Principal>('Viewer').implement({
  description: 'The caller as the server sees them: who, with which role, clearance and row-level scope.',
  fields: (t) => ({
    name: t.exposeString('name', { description: "The key's name, `jwt:<sub>` for a token." }),
    role: t.string({ resolve: (p) => p.role ?? '' }),
    clearance: t.exposeString('clearance', { description: 'The most sensitive class of member the caller may read by customer.' }),
    scope: t.field({
      type: 'JSON',
      nullable: true,
      description: 'Only customers matching this rule exist for the caller; null for all.',
      resolve: (p) => (p.scope ? ruleToInput(p.scope) : null),
    }),
    via: t.string({ description: 'KEY or JWT.', resolve: (p) => p.via.toUpperCase() }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: ViewerRef,
    description: 'Who is calling: check a key or token (and its clearance and scope) before using it.',
    resolve: async (_r, _args, ctx) => (await ctx.session()).principal,
  }),
);
