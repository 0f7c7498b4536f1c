import type { Join, Model } from '../catalog/types.ts';

const IDENTIFYING: ReadonlySet<string> = new Set(['primary', 'unique', 'natural']);

/**
 * Joins between imported models, following entities as MetricFlow does: from any entity of
 * a model to every other model where the same entity identifies one row (primary, unique or
 * natural). Such a join never multiplies rows: many_to_one from a foreign entity, one_to_one
 * from an identifying one. Joins towards a model where the entity is only foreign would fan
 * out and are not created. Partition dimensions of the same name on both sides join too.
 *
 * A natural entity names one row only within a validity window (a slowly changing
 * dimension): a join towards it exists only when the target has a window (the compiler
 * bounds it by the fact's time), never from another natural entity, and never between two
 * models with windows (MetricFlow's join rules). A natural key on the left names many
 * versions, each joining many_to_one.
 *
 * ```ts
 * const models = withEntityJoins([bookings, listings]); // bookings gains a join along 'listing'
 * ```
 */
export function withEntityJoins(models: readonly Model[]): Model[] {
  return models.map((model) => {
    const joins: Join[] = [];
    for (const entity of model.entities ?? []) {
      if (!entity.sql) continue;
      for (const target of models) {
        if (target.name === model.name) continue;
        const other = (target.entities ?? []).find((e) => e.name === entity.name && IDENTIFYING.has(e.type) && e.sql);
        if (!other?.sql) continue;
        if (other.type === 'natural' && (!target.validity || entity.type === 'natural')) continue;
        if (model.validity && target.validity) continue;
        joins.push({
          name: `${entity.name}@${target.name}`,
          model: target.name,
          cardinality: entity.type === 'primary' || entity.type === 'unique' ? 'one_to_one' : 'many_to_one',
          on: [[entity.sql, other.sql], ...partitionPairs(model, target)],
          entity: entity.name,
        });
      }
    }
    return { ...model, joins: [...model.joins, ...joins] };
  });
}

function partitionPairs(model: Model, target: Model): [string, string][] {
  return model.dimensions
    .filter((d) => d.isPartition)
    .flatMap((d) => {
      const match = target.dimensions.find((t) => t.isPartition && t.name === d.name);
      return match ? [[d.sql, match.sql] as [string, string]] : [];
    });
}
