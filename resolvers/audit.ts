import { builder } from './builder.ts';
import { listPersonalDataReads, type PersonalDataRead } from '../store/personal-data-log.ts';
import { StrataError } from '../modeling/errors.ts';
import { castProblem } from '../modeling/catalog/values.ts';

const PersonalDataReadRef = builder.objectRef<PersonalDataRead>('PersonalDataRead').implement({
  description: 'Who read which customers’ personal data, when, and through which operation.',
  fields: (t) => ({
    at: t.string({ resolve: (r) => r.at.toISOString() }),
    actor: t.exposeString('actor', { description: 'The key name or token subject that read.' }),
    operation: t.exposeString('operation', { description: '`customer` (profiles) or `audience.members`.' }),
    customerIds: t.stringList({ resolve: (r) => [...r.customerIds] }),
  }),
});

/** Most read-log entries one request may list, across its fields. */
export const MAX_READS = 1000;

function instant(value: string | null | undefined, name: string): Date | undefined {
  if (!value) return undefined;
  if (castProblem('time', value)) throw new StrataError('BAD_USER_INPUT', `${name}: expected an ISO 8601 date or timestamp`);
  return new Date(value);
}

builder.queryField('personalDataReads', (t) =>
  t.field({
    type: [PersonalDataReadRef],
    description: 'The log of personal-data reads, newest first (admins). Written in the background: a read shows here within about a second.',
    args: {
      actor: t.arg.string(),
      customerId: t.arg.string({ description: 'Only reads that returned this customer.' }),
      from: t.arg.string({ description: 'ISO 8601, inclusive.' }),
      to: t.arg.string({ description: 'ISO 8601, exclusive.' }),
      first: t.arg.int({ defaultValue: 100 }),
    },
    resolve: async (_r, args, ctx) => {
      const first = args.first ?? 100;
      if (first < 1 || first > MAX_READS) throw new StrataError('BAD_USER_INPUT', `first: between 1 and ${MAX_READS}`);
      await ctx.personalData.flush();
      const from = instant(args.from, 'from');
      const to = instant(args.to, 'to');
      return listPersonalDataReads(ctx.database.db, {
        first,
        ...(args.actor ? { actor: args.actor } : {}),
        ...(args.customerId ? { customerId: args.customerId } : {}),
        ...(from ? { from } : {}),
        ...(to ? { to } : {}),
      });
    },
  }),
);
