import { defineFunnel } from '../../modeling/dsl/define-funnel.ts';
import type { EventStream } from '../../modeling/catalog/types.ts';

/** The behaviour events funnels read: app events by customer, named by `event_name`, with their JSON properties. */
export const wealthEventStream: EventStream = { model: 'app_event', entity: 'customer_id', eventName: 'event_name', properties: 'properties' };

/** The seed's basic flow (基础流程): from opening the app to a confirmed purchase within a week. */
export const purchaseFlow = defineFunnel({
  name: 'purchase_flow',
  label: '基础流程 Purchase flow',
  description: 'Customers opening the app, then viewing a product, submitting a purchase and having it confirmed, each step within 7 days of the first open.',
  owner: 'growth-analytics',
  steps: [
    { event: 'app_open', label: 'Open' },
    { event: 'product_view', label: 'Product view' },
    { event: 'purchase_submit', label: 'Submit' },
    { event: 'purchase_success', label: 'Success' },
  ],
  windowHours: 168,
});

/** Placement to purchase: an impression, a click on a placement, then a confirmed purchase within 3 days. */
export const placementFlow = defineFunnel({
  name: 'placement_flow',
  label: '阵地转化 Placement to purchase',
  description: 'Customers shown a placement, then clicking a placement and having a purchase confirmed, within 72 hours of the impression.',
  owner: 'growth-analytics',
  steps: ['placement_impression', 'placement_click', 'purchase_success'],
  windowHours: 72,
});

export const wealthFunnels = [purchaseFlow, placementFlow];
