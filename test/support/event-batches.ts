/** `size` valid `placement_click` events whose ids start with `prefix` (unique per prefix). */
export function eventBatch(prefix: string, size: number): Record<string, unknown>[] {
  const occurredAt = new Date(Date.now() - 60_000).toISOString();
  return Array.from({ length: size }, (_, i) => ({
    eventId: `${prefix}-${i}`,
    name: 'placement_click',
    customerId: `c-${prefix}-${i}`,
    occurredAt,
    channel: 'app',
    placementId: 'home_banner',
    properties: { content_id: 'fund-a', position: i % 5 },
  }));
}
