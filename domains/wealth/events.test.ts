import { describe, expect, it } from 'vitest';
import { createEventValidator } from '../../modeling/events/validate-event.ts';
import { wealthChannels, wealthEvents } from './events.ts';

const NOW = new Date('2026-06-01T00:00:00Z');
const validate = createEventValidator({ definitions: wealthEvents, channels: wealthChannels });

/** Rows shaped like the demo generator's (domains/wealth/demo-data), as an SDK would send them. */
const demoLike = [
  { name: 'app_open', anonymousId: 'a000001' },
  { name: 'register', customerId: 'c000001', anonymousId: 'a000001', page: 'register' },
  { name: 'app_open', customerId: 'c000001' },
  { name: 'login', customerId: 'c000001', page: 'login' },
  { name: 'page_view', customerId: 'c000001', page: 'home' },
  { name: 'placement_impression', customerId: 'c000001', page: 'home', placementId: 'home_banner', productId: 'p0001' },
  { name: 'placement_click', customerId: 'c000001', page: 'home', placementId: 'home_banner', productId: 'p0001' },
  { name: 'product_view', customerId: 'c000001', page: 'product_detail', productId: 'p0001' },
  { name: 'purchase_submit', customerId: 'c000001', page: 'purchase_confirm', productId: 'p0001', properties: { amount: 5000.0 } },
  { name: 'purchase_success', customerId: 'c000001', page: 'purchase_result', productId: 'p0001', properties: { amount: 5000.0 } },
];

describe('the wealth domain events', () => {
  it('defines every event DOMAIN.md names, each with an owner and a description', () => {
    expect(wealthEvents.map((e) => e.name).sort()).toEqual([
      'app_open',
      'login',
      'page_view',
      'placement_click',
      'placement_impression',
      'product_view',
      'purchase_submit',
      'purchase_success',
      'register',
    ]);
    for (const event of wealthEvents) expect(event.owner.length * event.description.length).toBeGreaterThan(0);
  });

  it.each(demoLike.map((e, i) => [e.name, i, e] as const))('accepts a demo-generator %s row (#%i)', (_name, i, row) => {
    const check = validate({ eventId: `demo-${i}`, occurredAt: '2026-05-31T10:00:00.000Z', channel: 'alipay_miniprogram', ...row }, NOW);
    expect(check.kind === 'valid' ? 'valid' : check.rejection).toBe('valid');
  });

  it('requires what the metrics need: placements on placement events, amount and product on purchases', () => {
    const at = { occurredAt: '2026-05-31T10:00:00.000Z', channel: 'app', customerId: 'c1' };
    const codes = [
      validate({ ...at, eventId: 'x1', name: 'placement_click' }, NOW),
      validate({ ...at, eventId: 'x2', name: 'purchase_success', properties: { amount: 10 } }, NOW),
      validate({ ...at, eventId: 'x3', name: 'purchase_submit', productId: 'p1' }, NOW),
    ].map((check) => (check.kind === 'valid' ? 'valid' : check.rejection.code));
    expect(codes).toEqual(['MISSING_FIELD', 'MISSING_FIELD', 'MISSING_FIELD']);
  });

  it('flags personal data', () => {
    expect(wealthEvents.filter((e) => e.pii).map((e) => e.name)).toEqual(['register']);
  });
});
