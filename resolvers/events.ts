import { builder } from './builder.ts';
import type { RejectedEvent, TrackResult } from '../store/event-collector.ts';

const TrackEventInput = builder.inputType('TrackEventInput', {
  description: 'One behaviour event, validated against its definition in `catalog.events`.',
  fields: (t) => ({
    eventId: t.string({ required: true, description: 'Client-chosen unique id (1-128 characters); a repeated id is a duplicate.' }),
    name: t.string({ required: true, description: 'Event name, e.g. `placement_click`.' }),
    customerId: t.string({ description: 'The signed-in customer; customerId or anonymousId is required.' }),
    anonymousId: t.string({ description: 'Device or visitor id before sign-in.' }),
    occurredAt: t.string({ required: true, description: 'ISO-8601 date-time with offset, e.g. `2026-06-01T08:00:00+08:00`; stored in UTC.' }),
    channel: t.string({ required: true, description: '`app`, `alipay_miniprogram`, `wechat_miniprogram`, `branch` or `web`.' }),
    page: t.string(),
    placementId: t.string(),
    productId: t.string(),
    properties: t.field({ type: 'JSON', description: 'An object of the properties the event declares.' }),
  }),
});

const RejectedEventRef = builder.objectRef<RejectedEvent>('RejectedEvent').implement({
  description: 'An event that was not stored, and why.',
  fields: (t) => ({
    index: t.exposeInt('index', { description: 'Position in the submitted list, from 0.' }),
    code: t.exposeString('code', {
      description: '`UNKNOWN_EVENT`, `MISSING_FIELD`, `INVALID_FIELD`, `INVALID_PROPERTY` or `TIMESTAMP_OUT_OF_RANGE`.',
    }),
    message: t.exposeString('message'),
  }),
});

const TrackEventsResult = builder.objectRef<TrackResult>('TrackEventsResult').implement({
  description: 'What happened to a batch: every event is accepted, a duplicate, quarantined or rejected.',
  fields: (t) => ({
    accepted: t.exposeInt('accepted', { description: 'Events newly stored, committed before this answer.' }),
    duplicates: t.exposeInt('duplicates', { description: 'Events whose eventId was already stored; not stored again.' }),
    quarantined: t.exposeInt('quarantined', { description: 'Undeclared events kept for steward review (when enabled).' }),
    rejected: t.field({ type: [RejectedEventRef], resolve: (result) => result.rejected }),
  }),
});

builder.mutationFields((t) => ({
  trackEvents: t.field({
    type: TrackEventsResult,
    description: 'Records behaviour events, idempotently on eventId; at most 1,000 per call. Roles: app, operator, admin.',
    args: { events: t.arg({ type: [TrackEventInput], required: true }) },
    resolve: (_root, { events }, context) => {
      return context.events.track(events);
    },
  }),
}));
