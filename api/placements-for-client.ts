import { PLACEMENT_CLICK_EVENT, PLACEMENT_IMPRESSION_EVENT } from '../decisioning/placement-tracking.ts';
import { bundledDemoDecisions } from './bundled-domain.ts';

/** The bundled placements as codegen/placement-tracking.mjs reads them: one typed tracking function each. */
export function placementsForClient(): string {
  const placements = [...bundledDemoDecisions().placements]
    .sort((a, b) => (a.key < b.key ? -1 : 1))
    .map((p) => ({
      key: p.key,
      channel: p.channel,
      page: p.page,
      description: p.description,
      impressionEvent: PLACEMENT_IMPRESSION_EVENT,
      clickEvent: PLACEMENT_CLICK_EVENT,
    }));
  return `${JSON.stringify(placements, null, 2)}\n`;
}
