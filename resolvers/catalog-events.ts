import { builder } from './builder.ts';
import { CatalogRef } from './catalog.ts';
import type { EventDefinition, EventProperty } from '../modeling/events/define-event.ts';

const EventPropertyRef = builder.objectRef<EventProperty>('EventProperty').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    type: t.string({ description: 'string, number, integer, boolean or timestamp.', resolve: (p) => p.type }),
    required: t.exposeBoolean('required'),
    allowedValues: t.field({ type: ['JSONPrimitive'], nullable: true, resolve: (p) => (p.allowedValues ? [...p.allowedValues] : null) }),
    sensitivity: t.string({
      description:
        'public, internal (the default), personal or restricted. Personal and restricted values are stored only as a keyed pseudonym (`hmac:v1:...`), with an encrypted copy when a key is configured.',
      resolve: (p) => p.sensitivity,
    }),
    pii: t.exposeBoolean('pii', { description: 'Whether the property holds personal data: true for personal and restricted.' }),
    description: t.string({ nullable: true, resolve: (p) => p.description }),
  }),
});

const EventRef = builder.objectRef<EventDefinition>('EventDefinition').implement({
  description: 'A declared behaviour event and the schema of its properties.',
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.exposeString('description'),
    owner: t.exposeString('owner'),
    pii: t.exposeBoolean('pii'),
    requires: t.stringList({ description: 'Envelope fields the event cannot do without.', resolve: (e) => [...e.requires] }),
    properties: t.field({ type: [EventPropertyRef], resolve: (e) => [...e.properties] }),
  }),
});

builder.objectField(CatalogRef, 'events', (t) =>
  t.field({ type: [EventRef], description: 'Declared behaviour events.', resolve: (_catalog, _args, context) => [...context.domain.events] }),
);
