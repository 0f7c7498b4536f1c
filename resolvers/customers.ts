import { builder, type JsonPrimitive } from './builder.ts';
import { StrataError } from '../modeling/errors.ts';
import type { Profile } from '../services/profiles.ts';

const TagValueRef = builder.objectRef<Profile['tags'][number]>('TagValue').implement({
  fields: (t) => ({
    key: t.exposeString('key'),
    value: t.field({
      type: 'JSONPrimitive',
      nullable: true,
      description: 'A JSON scalar: boolean, string or number; null when masked.',
      resolve: (v) => v.value as JsonPrimitive | null,
    }),
    masked: t.exposeBoolean('masked', { description: "True when the tag is more sensitive than the caller's clearance: its value is withheld." }),
  }),
});

const CustomerRef = builder.objectRef<Profile>('Customer').implement({
  description: 'Personalization fields of one customer, from the current profile snapshot.',
  fields: (t) => ({
    id: t.exposeString('id'),
    tags: t.field({ type: [TagValueRef], description: 'Published tags only.', resolve: (p) => p.tags as Profile['tags'][number][] }),
    tag: t.field({
      type: 'JSONPrimitive',
      nullable: true,
      args: { key: t.arg.string({ required: true }) },
      description: 'One published tag value; null when the customer has none or it is masked.',
      resolve: (p, { key }) => (p.tags.find((tag) => tag.key === key)?.value ?? null) as JsonPrimitive | null,
    }),
    audiences: t.stringList({ description: 'Keys of published audiences the customer is in.', resolve: (p) => p.audiences as string[] }),
  }),
});

/** Most customer ids one request may look up, across all its `customer` and `customers` fields. */
export const MAX_IDS = 1000;

builder.queryFields((t) => ({
  customer: t.field({
    type: CustomerRef,
    nullable: true,
    args: { id: t.arg.string({ required: true }) },
    description: "One customer; null for an unknown id or one outside the caller's scope.",
    resolve: async (_r, { id }, ctx) => (await ctx.session()).profiles.load(id),
  }),
  customers: t.field({
    type: [CustomerRef],
    nullable: { list: false, items: true },
    args: { ids: t.arg.stringList({ required: true }) },
    description: 'Customers by id, in the order asked, null for unknown ids; one query per request.',
    resolve: async (_r, { ids }, ctx) => {
      if (ids.length > MAX_IDS) throw new StrataError('BAD_USER_INPUT', `ask for at most ${MAX_IDS} ids at once (got ${ids.length})`);
      const profiles = await (await ctx.session()).profiles.loadMany(ids);
      return profiles.map((p) => {
        if (p instanceof Error) throw p;
        return p;
      });
    },
  }),
}));
