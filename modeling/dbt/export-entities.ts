/** A model's dbt entities: its own (named after it) and one per many-to-one join on the target's key. */
import type { Entity, Model } from '../catalog/types.ts';
import type { ExportContext, Yaml } from './export-context.ts';
import { SENSITIVITY_META } from './import-semantic-model.ts';

/** The entity a model's single-column key (or, with a validity window, its natural key) names; none for a composite key. */
export function primaryEntity(model: Model): Yaml | undefined {
  if (model.validity) {
    const key = model.primaryKey.filter((k) => k !== model.dimensions.find((d) => d.name === model.validity?.start)?.sql);
    return key.length === 1 ? { name: model.name, type: 'natural', expr: key[0] } : undefined;
  }
  return model.primaryKey.length === 1 ? { name: model.name, type: 'primary', expr: model.primaryKey[0] } : undefined;
}

export function entitiesOf(ctx: ExportContext, model: Model): Yaml[] {
  const own = primaryEntity(model);
  if (!own && !model.entities?.length)
    ctx.note(
      `${model.name}: its key (${model.primaryKey.join(', ')}) spans several columns; a dbt entity is one expression, so the model has no primary entity`,
    );
  const list: Yaml[] = own ? [own] : [];
  if (model.entities?.length) {
    // Imported from dbt already: its own entities.
    return model.entities.map((e: Entity) => ({ name: e.name, type: e.type, ...(e.sql && e.sql !== e.name ? { expr: e.sql } : {}), ...metaOf(e) }));
  }
  for (const join of model.joins) {
    const target = ctx.models.get(join.model);
    if (!target) continue;
    if (join.cardinality === 'one_to_many') continue; // MetricFlow joins from the many side only, as Strata does
    const targetKey = target.validity ? primaryEntity(target)?.expr : target.primaryKey.length === 1 ? target.primaryKey[0] : undefined;
    const pair = join.on[0];
    if (join.on.length !== 1 || !pair || pair[1] !== targetKey) {
      ctx.note(`${model.name} -> ${join.model}: a join on ${join.on.map(([a, b]) => `${a} = ${b}`).join(' AND ')} is not on ${join.model}'s key; not exported`);
      continue;
    }
    if (list.some((e) => e.name === join.model)) continue;
    list.push({ name: join.model, type: 'foreign', expr: pair[0] });
  }
  return list;
}

function metaOf(member: { sensitivity?: string }): Yaml {
  return member.sensitivity ? { config: { meta: { [SENSITIVITY_META]: member.sensitivity } } } : {};
}
