import type { Aggregation, Dimension, Entity, EntityType, Grain, Measure, Model, ValidityWindow } from '../catalog/types.ts';
import { GRAINS } from '../catalog/types.ts';
import type { YamlNode } from './yaml-node.ts';
import type { RelationResolver } from './relations.ts';
import { isSensitivity, type Sensitivity } from '../catalog/sensitivity.ts';

/** A measure as dbt declares it, kept until metrics that name it are imported. */
export interface ImportedMeasure {
  readonly model: string;
  readonly measure: Measure;
  readonly createMetric: boolean;
  readonly description: string;
  /** Asked for an approximate percentile, served exact. */
  readonly approximate: boolean;
}

export interface ImportedModel {
  readonly model: Model;
  readonly measures: readonly ImportedMeasure[];
}

const AGGREGATIONS: Readonly<Record<string, Aggregation>> = {
  sum: 'sum',
  sum_boolean: 'sum_boolean',
  count: 'count',
  count_distinct: 'count_distinct',
  min: 'min',
  max: 'max',
  average: 'avg',
  avg: 'avg',
  median: 'median',
  percentile: 'percentile',
};
const ENTITY_TYPES: readonly EntityType[] = ['primary', 'unique', 'foreign', 'natural'];

/** `day`, `HOUR`, ... as a grain; nanosecond and microsecond data is read at millisecond grain. */
export function grainOf(text: string | undefined): Grain | undefined {
  if (!text) return undefined;
  const upper = text.toUpperCase();
  if (upper === 'NANOSECOND' || upper === 'MICROSECOND') return 'MILLISECOND';
  return GRAINS.includes(upper as Grain) ? (upper as Grain) : undefined;
}

/**
 * A dbt semantic model as a catalog model: dimensions (categorical and time with their
 * grain and partition flag), entities (kept for joins and `entity__dimension` names) and
 * measures. Joins between models are added once every model is known.
 *
 * ```ts
 * const { model, measures } = importSemanticModel(node, { relations, note, ownerOf });
 * ```
 */
export function importSemanticModel(node: YamlNode, context: SemanticModelContext): ImportedModel | undefined {
  const name = node.child('name').string(true);
  const table = context.relations.relationOf(node);
  if (!name || !table) return undefined;
  const description = describe(node, name);
  const fallback = sensitivityOf(node).sensitivity;
  const withDefault = <T extends { sensitivity?: Sensitivity }>(member: T): T =>
    fallback && !member.sensitivity ? { ...member, sensitivity: fallback } : member;
  const entities = importEntities(node).map(withDefault);
  const dimensions = node
    .child('dimensions')
    .list()
    .flatMap((d) => importDimension(d) ?? [])
    .map(withDefault);
  const defaultTime = node.child('defaults').child('agg_time_dimension').string();
  const measures = node
    .child('measures')
    .list()
    .flatMap((m) => importMeasure(m, name, context) ?? [])
    .map((m) => ({ ...m, measure: withDefault(m.measure) }));
  const timeZone = node.meta(TIME_ZONE_META).string() ?? 'UTC';
  const primary = entities.find((e) => e.type === 'primary' && e.sql);
  const validity = importValidity(node, entities);
  const model: Model = {
    name,
    description,
    owner: context.ownerOf(node),
    status: 'PUBLISHED',
    source: { table },
    primaryKey: primary?.sql ? [primary.sql] : [],
    timeZone,
    ...(defaultTime ? { defaultTimeDimension: defaultTime } : {}),
    dimensions,
    measures: measures.map((m) => m.measure),
    joins: [],
    entities,
    ...(validity ? { validity } : {}),
  };
  return { model, measures };
}

/**
 * A slowly changing dimension (type II): the time dimensions marked `validity_params`, one
 * `is_start` and one `is_end`, and a `natural` entity naming the key whose versions the rows
 * are. As in MetricFlow, such a model has no primary or unique entity and no measures (the
 * catalog refuses those).
 */
function importValidity(node: YamlNode, entities: readonly Entity[]): ValidityWindow | undefined {
  const marked = node
    .child('dimensions')
    .list()
    .filter((d) => d.child('type_params').child('validity_params').present);
  if (marked.length === 0) return undefined;
  const flag = (d: YamlNode, key: string) => d.child('type_params').child('validity_params').child(key).boolean() === true;
  const starts = marked.filter((d) => flag(d, 'is_start'));
  const ends = marked.filter((d) => flag(d, 'is_end'));
  const names = marked.map((d) => `'${d.child('name').string() ?? '?'}'`).join(', ');
  const at = node.child('dimensions');
  if (marked.length !== 2 || starts.length !== 1 || ends.length !== 1 || starts[0] === ends[0]) {
    return at.problem(
      'INVALID_VALIDITY_WINDOW',
      `validity_params are set on ${names}: a validity window needs exactly two time dimensions, one marked is_start and the other is_end`,
    );
  }
  let ok = true;
  if (!entities.some((e) => e.type === 'natural')) {
    node.child('entities').problem('INVALID_VALIDITY_WINDOW', 'a model with a validity window needs a `natural` entity: the key whose versions its rows are');
    ok = false;
  }
  const identifying = entities.filter((e) => (e.type === 'primary' || e.type === 'unique') && e.sql !== undefined);
  if (identifying.length > 0) {
    node
      .child('entities')
      .problem(
        'INVALID_VALIDITY_WINDOW',
        `a model with a validity window cannot have a primary or unique entity (${identifying.map((e) => `'${e.name}'`).join(', ')}); declare its key as \`natural\``,
      );
    ok = false;
  }
  const start = starts[0]?.child('name').string();
  const end = ends[0]?.child('name').string();
  return ok && start && end ? { start, end } : undefined;
}

/** The meta key carrying a member's sensitivity class (dbt `config: { meta: ... }` or `meta:`); on a semantic model, its members' default. */
export const SENSITIVITY_META = 'strata_sensitivity';
/** Meta of a semantic model: the IANA time zone its grains are cut in (MetricFlow has none: UTC). */
export const TIME_ZONE_META = 'strata_time_zone';
/** Meta of a time dimension: how its column is stored (`timestamptz`, `timestamp` or `date`; default `timestamp`). */
export const STORAGE_META = 'strata_storage';
/** Meta of a categorical dimension: its values' type (`number` or `boolean`; default `string`), for filters and ordering. */
export const TYPE_META = 'strata_type';

/** What importing a semantic model needs from the rest of the project. */
export interface SemanticModelContext {
  readonly relations: RelationResolver;
  /** Records a definition served differently from what it asks, or a field not read, with the reason. */
  readonly note: (at: YamlNode, code: string, message: string) => void;
  /** The owner of a definition: its meta `owner`, else its group's owner, else `dbt`. */
  readonly ownerOf: (node: YamlNode) => string;
}

/** The text describing a definition: its description, else its label, else its name. */
export function describe(node: YamlNode, name: string): string {
  return node.child('description').string()?.trim() || node.child('label').string() || name;
}

/**
 * A member's sensitivity class from its meta, `{ sensitivity }` to spread into the member;
 * an unknown class is a problem listed by `dbt check`. `strata_sub_day_sensitivity` gives a
 * time dimension's class below a day.
 */
function sensitivityOf(node: YamlNode, key = SENSITIVITY_META): { sensitivity?: Sensitivity } {
  const meta = node.meta(key);
  const value = meta.string();
  if (value === undefined) return {};
  if (!isSensitivity(value)) return meta.problem('INVALID_SENSITIVITY', `unknown ${key} '${value}'; use public, internal, personal or restricted`) ?? {};
  return { sensitivity: value };
}

function importEntities(node: YamlNode): Entity[] {
  const entities: Entity[] = node
    .child('entities')
    .list()
    .flatMap((e) => {
      const name = e.child('name').string(true);
      const type = e.child('type').string(true)?.toLowerCase() as EntityType | undefined;
      if (!name || !type) return [];
      if (!ENTITY_TYPES.includes(type))
        return e.child('type').problem('INVALID_TYPE', `unknown entity type '${type}'; use primary, unique, foreign or natural`) ?? [];
      return [{ name, type, sql: e.child('expr').string() ?? name, ...sensitivityOf(e) }];
    });
  const primaryEntity = node.child('primary_entity').string();
  if (primaryEntity && !entities.some((e) => e.name === primaryEntity)) entities.push({ name: primaryEntity, type: 'primary' });
  return entities;
}

function importDimension(node: YamlNode): Dimension | undefined {
  const name = node.child('name').string(true);
  const type = node.child('type').string(true)?.toLowerCase();
  if (!name || !type) return undefined;
  const sql = node.child('expr').string() ?? name;
  const description = describe(node, name);
  const isPartition = node.child('is_partition').boolean() === true;
  const classes = sensitivityOf(node);
  if (type === 'categorical') {
    const valueType = node.meta(TYPE_META).string() ?? 'string';
    if (valueType !== 'string' && valueType !== 'number' && valueType !== 'boolean')
      return node.meta(TYPE_META).problem('INVALID_TYPE', `unknown ${TYPE_META} '${valueType}'; use string, number or boolean`);
    return { name, type: valueType, description, sql, ...(isPartition ? { isPartition } : {}), ...classes };
  }
  if (type !== 'time') return node.child('type').problem('INVALID_TYPE', `unknown dimension type '${type}'; use categorical or time`);
  const grainText = node.child('type_params').child('time_granularity').string();
  const grain = grainOf(grainText ?? 'day');
  if (!grain) return node.child('type_params').child('time_granularity').problem('INVALID_GRAIN', `unknown time_granularity '${grainText}'`);
  const subDay = sensitivityOf(node, 'strata_sub_day_sensitivity').sensitivity;
  const storage = node.meta(STORAGE_META).string() ?? 'timestamp';
  if (storage !== 'timestamp' && storage !== 'timestamptz' && storage !== 'date')
    return node.meta(STORAGE_META).problem('INVALID_TYPE', `unknown ${STORAGE_META} '${storage}'; use timestamp, timestamptz or date`);
  return {
    name,
    type: 'time',
    description,
    sql,
    grain,
    storage,
    ...(isPartition ? { isPartition } : {}),
    ...classes,
    ...(subDay ? { subDaySensitivity: subDay } : {}),
  };
}

/** Said of a measure asking for an approximate percentile, in `dbt check` and in the catalog. */
export const EXACT_PERCENTILE_NOTE =
  'served with the exact percentile: use_approximate_percentile asks for an approximation, which PostgreSQL does not offer; the exact value is at least as good';

function importMeasure(node: YamlNode, model: string, context: SemanticModelContext): ImportedMeasure | undefined {
  const name = node.child('name').string(true);
  const aggText = node.child('agg').string(true)?.toLowerCase();
  if (!name || !aggText) return undefined;
  const aggregation = AGGREGATIONS[aggText];
  if (!aggregation) return node.child('agg').problem('INVALID_AGGREGATION', `unknown agg '${aggText}'`);
  const params = node.child('agg_params');
  const approximate = params.child('use_approximate_percentile').boolean() === true;
  if (approximate) context.note(params.child('use_approximate_percentile'), 'EXACT_PERCENTILE', `measure '${name}': ${EXACT_PERCENTILE_NOTE}`);
  const fraction = params.child('percentile').number();
  const exprText = node.child('expr').string();
  const sql = exprText ?? name;
  const timeDimension = node.child('agg_time_dimension').string();
  const nonAdditive = node.child('non_additive_dimension');
  const described = describe(node, name);
  const description = approximate ? `${described} (${EXACT_PERCENTILE_NOTE}.)` : described;
  const measure: Measure = {
    name,
    aggregation,
    description,
    sql: aggregation === 'count' && sql.trim() === '1' ? '*' : sql,
    ...(timeDimension ? { timeDimension } : {}),
    ...sensitivityOf(node),
    ...(aggregation === 'percentile'
      ? { percentile: { fraction: fraction ?? NaN, discrete: params.child('use_discrete_percentile').boolean() === true } }
      : {}),
    ...(nonAdditive.present
      ? {
          nonAdditive: {
            dimension: nonAdditive.child('name').string(true) ?? '',
            window: nonAdditive.child('window_choice').string()?.toLowerCase() === 'max' ? 'max' : 'min',
            groupings: nonAdditive
              .child('window_groupings')
              .list()
              .flatMap((g) => g.string() ?? []),
          },
        }
      : {}),
  };
  return { model, measure, createMetric: node.child('create_metric').boolean() === true, description, approximate };
}
