import { defineEvent, type EventDefinition } from '../modeling/events/define-event.ts';

/** The events every placement declares: what the decision layer logs and what apps send on a click. */
export const PLACEMENT_IMPRESSION_EVENT = 'placement_impression';
export const PLACEMENT_CLICK_EVENT = 'placement_click';

/**
 * The decision properties placement events carry, so exposures, clicks, fatigue and experiments
 * join on them; `internal` (stored in plain text): they name definitions, not the customer.
 */
const decisionProperties = {
  decision_id: {
    type: 'string',
    sensitivity: 'internal',
    description: 'The `decide` answer that chose the content (the impression event id), for exposure joins.',
  },
  strategy_id: { type: 'string', sensitivity: 'internal', description: 'The strategy that matched (absent for the fallback).' },
  content_id: { type: 'string', sensitivity: 'internal', description: 'The content shown in the placement.' },
  experiment: { type: 'string', sensitivity: 'internal', description: 'The experiment the customer was assigned in, if any.' },
  variant: { type: 'string', sensitivity: 'internal', description: 'The experiment arm shown.' },
  fallback: { type: 'boolean', sensitivity: 'internal', description: "True when the placement's fallback content was shown." },
  reason: { type: 'string', sensitivity: 'internal', description: 'Why this content was chosen, in words.' },
  position: { type: 'integer', sensitivity: 'internal', description: 'Slot index within the placement, from 0.' },
} as const;

/**
 * The impression and click event definitions the decision layer generates for placements
 * (锚定埋点): the placement id is required and the decision properties are declared, so an
 * app's tracking calls validate like any other event. A domain lists them among its events.
 *
 * ```ts
 * const events = [...placementTrackingEvents('growth-ops'), appOpen];
 * ```
 */
export function placementTrackingEvents(owner: string): readonly [EventDefinition, EventDefinition] {
  return [
    defineEvent({
      name: PLACEMENT_IMPRESSION_EVENT,
      description: 'A placement rendered content to the customer (logged by `decide`, one per decision): the denominator of placement CTR.',
      owner,
      requires: ['placementId'],
      properties: decisionProperties,
    }),
    defineEvent({
      name: PLACEMENT_CLICK_EVENT,
      description: 'The customer clicked the content of a placement: the numerator of placement CTR; send the decision id it answers.',
      owner,
      requires: ['placementId'],
      properties: decisionProperties,
    }),
  ];
}
