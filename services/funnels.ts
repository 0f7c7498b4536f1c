import type { Kysely } from 'kysely';
import type { DimensionType } from '../modeling/catalog/types.ts';
import { clears } from '../modeling/catalog/sensitivity.ts';
import type { Domain } from '../modeling/domain/define-domain.ts';
import type { FunnelQuery } from '../modeling/query/funnel-query.ts';
import type { FunnelAnswer, QueryAccess, SemanticLayer } from '../modeling/semantic-layer.ts';
import { FUNNEL_SETTINGS, withAnalyticSettings } from './analytic-settings.ts';

/**
 * The event properties a caller may compare in a funnel step, by event: those the domain
 * declares with a class the caller's clearance covers (personal properties are stored
 * encrypted apart and are never funnel filters).
 */
export function funnelPropertyTypes(domain: Domain, access: QueryAccess): Map<string, Map<string, DimensionType>> {
  return new Map(
    domain.events.map((event) => [
      event.name,
      new Map(
        event.properties
          .filter((p) => !p.pii && clears(access.clearance, p.sensitivity))
          .map((p): [string, DimensionType] => [p.name, p.type === 'number' || p.type === 'integer' ? 'number' : p.type === 'boolean' ? 'boolean' : 'string']),
      ),
    ]),
  );
}

/** A funnel through the semantic layer with the caller's access (clearance, scope, small cells). */
export function runFunnel(db: Kysely<any>, semantic: SemanticLayer, domain: Domain, access: QueryAccess, query: FunnelQuery): Promise<FunnelAnswer> {
  return withAnalyticSettings(db, (trx) => semantic.funnel(trx, { ...query, propertyTypes: funnelPropertyTypes(domain, access) }, access), FUNNEL_SETTINGS);
}
