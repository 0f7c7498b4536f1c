import { builder } from './builder.ts';
import { RuleInput } from './rule-input.ts';
import { issueApiKey, withdrawApiKey, type IssuedKey } from '../services/key-management.ts';

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({
    name: t.string({ required: true, description: "The acting user's name: 1-63 letters, digits, '_', '.', '@' or '-'." }),
    role: t.string({ required: true, description: 'analyst, app, steward, approver, operator or admin.' }),
    clearance: t.string({ description: "public, internal, personal or restricted: may only lower the role's clearance (default: the role's)." }),
    scope: t.field({
      type: RuleInput,
      description: 'Row-level scope: only customers matching this rule over customer dimensions and published tags exist for the key.',
    }),
  }),
});

const CreatedApiKeyRef = builder.objectRef<IssuedKey>('CreatedApiKey').implement({
  description: 'A new API key. The token is shown this once; only its hash is stored.',
  fields: (t) => ({
    name: t.exposeString('name'),
    role: t.exposeString('role'),
    clearance: t.exposeString('clearance'),
    scope: t.field({
      type: 'JSON',
      nullable: true,
      description: 'The scope as stored, in the form of RuleInput; null for every customer.',
      resolve: (k) => k.scope,
    }),
    token: t.exposeString('token', { description: 'Send as `Authorization: Bearer <token>`.' }),
  }),
});

const RevokedApiKeyRef = builder.objectRef<{ name: string; revoked: boolean; revokedAt: Date | null }>('RevokedApiKey').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    revoked: t.exposeBoolean('revoked', { description: 'Whether this call revoked a live key (false when it was revoked before).' }),
    revokedAt: t.string({ nullable: true, description: 'When the key was revoked (ISO 8601).', resolve: (k) => k.revokedAt?.toISOString() ?? null }),
  }),
});

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreatedApiKeyRef,
    description: "Creates an API key (admins). Its clearance and scope cannot exceed the creating admin's own.",
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: async (_r, { input }, ctx) => issueApiKey(ctx.database, ctx.tags, (await ctx.session()).principal, input),
  }),
  revokeApiKey: t.field({
    type: RevokedApiKeyRef,
    description: 'Revokes an API key (admins); every server refuses it from its next request.',
    args: { name: t.arg.string({ required: true }) },
    resolve: async (_r, { name }, ctx) => withdrawApiKey(ctx.database, (await ctx.session()).actor, name),
  }),
}));
