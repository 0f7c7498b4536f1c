import { builder } from './builder.ts';
import { readCustomerEvents, type CustomerEvent, type CustomerEventsPage } from '../services/customer-events.ts';
import { seesIndividuals } from '../services/access.ts';
import { customerInScope } from '../services/scope-sql.ts';

const CustomerEventRef = builder.objectRef<CustomerEvent>('CustomerEvent').implement({
  description: 'One stored behaviour event of a customer.',
  fields: (t) => ({
    eventId: t.exposeString('eventId'),
    name: t.exposeString('name'),
    occurredAt: t.exposeString('occurredAt', { description: 'UTC, ISO 8601.' }),
    channel: t.exposeString('channel'),
    page: t.string({ nullable: true, resolve: (e) => e.page }),
    placementId: t.string({ nullable: true, resolve: (e) => e.placementId }),
    productId: t.string({ nullable: true, resolve: (e) => e.productId }),
    properties: t.field({
      type: 'JSON',
      description: 'As declared; a personal property holds its pseudonym (`hmac:v1:...`) unless it is listed in `revealed`.',
      resolve: (e) => e.properties,
    }),
    revealed: t.stringList({ description: 'Personal properties shown in clear, decrypted from their encrypted copy.', resolve: (e) => [...e.revealed] }),
  }),
});

const CustomerEventsPageRef = builder.objectRef<CustomerEventsPage>('CustomerEventsPage').implement({
  fields: (t) => ({
    events: t.field({ type: [CustomerEventRef], resolve: (p) => [...p.events] }),
    hasMore: t.exposeBoolean('hasMore', { description: 'Older events of the range follow the last one returned.' }),
  }),
});

builder.queryField('customerEvents', (t) =>
  t.field({
    type: CustomerEventsPageRef,
    description:
      "A customer's behaviour events in `[from, to)`, newest first (operators and admins). Personal properties are decrypted only for callers cleared for personal data and only when STRATA_PII_ENCRYPTION_KEY is configured; otherwise they show their pseudonym. Every read is logged.",
    args: {
      customerId: t.arg.string({ required: true }),
      from: t.arg.string({ required: true, description: 'ISO 8601 date-time with offset.' }),
      to: t.arg.string({ required: true, description: 'ISO 8601 date-time with offset.' }),
      first: t.arg.int({ defaultValue: 100, description: '1 to 1,000.' }),
    },
    resolve: async (_r, args, ctx) => {
      const { viewer, actor } = await ctx.session();
      if (!(await customerInScope(ctx.tags, viewer.principal.scope, args.customerId))) return { events: [], hasMore: false };
      const page = await readCustomerEvents(ctx.database.db, {
        customerId: args.customerId,
        from: args.from,
        to: args.to,
        first: args.first ?? 100,
        revealPersonal: seesIndividuals(viewer.principal),
        encryptionKeys: ctx.personalKeys,
      });
      if (page.events.length > 0) ctx.personalData.record(actor, 'customer.events', [args.customerId]);
      return page;
    },
  }),
);
