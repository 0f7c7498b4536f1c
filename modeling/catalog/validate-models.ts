import type { Catalog, Filter, Model } from './types.ts';
import { conditionProblem } from './validate-condition.ts';
import { AGGREGATIONS, CARDINALITIES, DIMENSION_TYPES, isIdentifier, isTimeZone, checkGovernance } from './vocabulary.ts';
import { safeReaches } from './join-graph.ts';
import type { ProblemCollector } from './validation-error.ts';
import { castProblem } from './values.ts';
import { indexCatalog, type CatalogIndex } from './catalog-index.ts';
import { locateDimension, memberOf } from './locate-dimension.ts';
import { customGrainNames, parseDimensionRef } from './dimension-ref.ts';

/** Checks every model on its own and its joins against the others. */
export function validateModels(models: readonly Model[], byName: ReadonlyMap<string, Model>, problems: ProblemCollector): void {
  const seen = new Set<string>();
  for (const model of models) {
    const path = `models.${model.name}`;
    if (!isIdentifier(model.name)) problems.add(path, 'INVALID_NAME', `model name '${model.name}' must be a snake_case identifier`);
    if (seen.has(model.name)) problems.add(path, 'DUPLICATE_NAME', `model '${model.name}' is defined twice`);
    seen.add(model.name);
    checkGovernance(model, path, problems);
    if ('table' in model.source && !/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/i.test(model.source.table)) {
      problems.add(`${path}.table`, 'INVALID_SOURCE', `table '${model.source.table}' must be 'schema.table'`);
    }
    if (model.primaryKey.length === 0 && !model.entities) problems.add(`${path}.primaryKey`, 'MISSING_PRIMARY_KEY', 'a model needs a primary key');
    if (!isTimeZone(model.timeZone)) problems.add(`${path}.timeZone`, 'INVALID_TIME_ZONE', `'${model.timeZone}' is not an IANA time zone`);
    validateMembers(model, problems);
    validateValidity(model, problems);
    validateJoins(model, byName, problems);
  }
  const index = indexCatalog({ models, metrics: [] });
  for (const model of models) validateFiltersAndPaths(model, byName, index, problems);
  findJoinCycles(models, byName, problems);
}

function validateMembers(model: Model, problems: ProblemCollector): void {
  const path = `models.${model.name}`;
  const names = new Set<string>();
  const time = (name: string | undefined) => model.dimensions.find((d) => d.name === name && d.type === 'time');
  for (const dimension of model.dimensions) {
    const at = `${path}.dimensions.${dimension.name}`;
    if (!isIdentifier(dimension.name)) problems.add(at, 'INVALID_NAME', `dimension name '${dimension.name}' must be a snake_case identifier`);
    if (names.has(dimension.name)) problems.add(at, 'DUPLICATE_NAME', `'${dimension.name}' is defined twice in '${model.name}'`);
    names.add(dimension.name);
    if (!DIMENSION_TYPES.includes(dimension.type)) problems.add(at, 'INVALID_TYPE', `unknown dimension type '${dimension.type}'`);
  }
  if (model.defaultTimeDimension && !time(model.defaultTimeDimension)) {
    problems.add(`${path}.defaultTimeDimension`, 'TYPE_MISMATCH', `'${model.defaultTimeDimension}' is not a time dimension of '${model.name}'`);
  }
  for (const measure of model.measures) {
    const at = `${path}.measures.${measure.name}`;
    if (!isIdentifier(measure.name)) problems.add(at, 'INVALID_NAME', `measure name '${measure.name}' must be a snake_case identifier`);
    if (names.has(measure.name)) problems.add(at, 'DUPLICATE_NAME', `'${measure.name}' is defined twice in '${model.name}'`);
    names.add(measure.name);
    if (!AGGREGATIONS.includes(measure.aggregation)) problems.add(at, 'INVALID_AGGREGATION', `unknown aggregation '${measure.aggregation}'`);
    const timeName = measure.timeDimension ?? model.defaultTimeDimension;
    if (timeName === undefined)
      problems.add(at, 'MISSING_TIME_DIMENSION', `measure '${measure.name}' names no time dimension and '${model.name}' has no default`);
    else if (!time(timeName)) problems.add(`${at}.timeDimension`, 'TYPE_MISMATCH', `'${timeName}' is not a time dimension of '${model.name}'`);
    if (measure.aggregation === 'percentile' && !(measure.percentile && measure.percentile.fraction > 0 && measure.percentile.fraction < 1)) {
      problems.add(at, 'INVALID_PERCENTILE', 'a percentile measure needs a fraction between 0 and 1');
    }
    if (measure.nonAdditive) {
      if (!time(measure.nonAdditive.dimension))
        problems.add(`${at}.nonAdditive`, 'TYPE_MISMATCH', `'${measure.nonAdditive.dimension}' is not a time dimension of '${model.name}'`);
      for (const g of measure.nonAdditive.groupings) {
        if (!memberOf(model, g)) problems.add(`${at}.nonAdditive.groupings`, 'UNKNOWN_MEMBER', `'${model.name}' has no dimension '${g}'`);
      }
    }
  }
}

/**
 * A slowly changing dimension's window: two distinct time dimensions of the model. As in
 * MetricFlow, such a model describes versions of a key and holds no measures.
 */
function validateValidity(model: Model, problems: ProblemCollector): void {
  if (!model.validity) return;
  const at = `models.${model.name}.validity`;
  for (const side of ['start', 'end'] as const) {
    const name = model.validity[side];
    const dimension = model.dimensions.find((d) => d.name === name);
    if (!dimension) problems.add(`${at}.${side}`, 'UNKNOWN_MEMBER', `'${model.name}' has no dimension '${name}' to bound its validity window`);
    else if (dimension.type !== 'time') problems.add(`${at}.${side}`, 'TYPE_MISMATCH', `'${name}' is not a time dimension of '${model.name}'`);
  }
  if (model.validity.start === model.validity.end)
    problems.add(at, 'INVALID_VALIDITY_WINDOW', `the window of '${model.name}' needs two time dimensions, one where a row starts and one where it ends`);
  if (model.measures.length > 0) {
    problems.add(
      `${at}`,
      'INVALID_VALIDITY_WINDOW',
      `'${model.name}' has a validity window and measures (${model.measures.map((m) => m.name).join(', ')}); a model of versions holds no measures`,
    );
  }
}

function validateJoins(model: Model, byName: ReadonlyMap<string, Model>, problems: ProblemCollector): void {
  for (const join of model.joins) {
    const at = `models.${model.name}.joins.${join.name}`;
    if (!byName.has(join.model)) problems.add(at, 'UNKNOWN_MODEL', `join to unknown model '${join.model}'`);
    if (model.validity && byName.get(join.model)?.validity) {
      problems.add(
        at,
        'INVALID_JOIN',
        `'${model.name}' and '${join.model}' both have a validity window; joining two models of versions would multiply rows or lose keys`,
      );
    }
    if (!CARDINALITIES.includes(join.cardinality)) problems.add(at, 'INVALID_CARDINALITY', `unknown cardinality '${join.cardinality}'`);
    if (join.on.length === 0) problems.add(at, 'MISSING_JOIN_KEYS', 'a join needs at least one pair of columns');
  }
}

function validateFiltersAndPaths(model: Model, byName: ReadonlyMap<string, Model>, index: CatalogIndex, problems: ProblemCollector): void {
  const reaches = safeReaches(byName, model);
  const roles = new Map<string, number>();
  for (const reach of reaches) roles.set(reach.role, (roles.get(reach.role) ?? 0) + 1);
  for (const [role, count] of roles) {
    if (count > 1)
      problems.add(
        `models.${model.name}.joins`,
        'AMBIGUOUS_JOIN_PATH',
        `'${role}' is reached from '${model.name}' by ${count} join paths of the same length; give the joins distinct names`,
      );
  }
  for (const measure of model.measures) {
    if (measure.filter) checkFilter(measure.filter, model, index, `models.${model.name}.measures.${measure.name}.filter`, problems);
  }
}

/**
 * A filter passes the one condition validator (limits, operators, arity), then every
 * dimension it names must be reachable without fan-out, and its values castable.
 */
export function checkFilter(filter: Filter, model: Model, index: CatalogIndex, path: string, problems: ProblemCollector): void {
  const problem = conditionProblem(filter, { noun: 'filter', path });
  if (problem) return problems.add(problem.path, 'INVALID_FILTER', problem.message);
  checkFilterNames(filter, model, index, path, problems);
}

function checkFilterNames(filter: Filter, model: Model, index: CatalogIndex, path: string, problems: ProblemCollector): void {
  if (filter.kind === 'and' || filter.kind === 'or') {
    filter.filters.forEach((f, i) => checkFilterNames(f, model, index, `${path}.${filter.kind}[${i}]`, problems));
    return;
  }
  if (filter.kind === 'not') return checkFilterNames(filter.filter, model, index, `${path}.not`, problems);
  if (filter.kind === 'metric') {
    if (!index.metrics.has(filter.metric) && index.metrics.size > 0) problems.add(path, 'UNKNOWN_METRIC', `filter names unknown metric '${filter.metric}'`);
    return;
  }
  const ref = parseDimensionRef(filter.dimension, customGrainNames(index.catalog));
  if (ref.kind === 'metric_time') return;
  const found = locateDimension(index, model, ref);
  if (!found.ok) return problems.add(path, 'UNKNOWN_MEMBER', found.message);
  const type = found.located.dimension.type;
  const bad = type === 'time' ? undefined : filter.values.map((v) => castProblem(type, v)).find((p) => p !== undefined);
  if (bad) problems.add(path, 'TYPE_MISMATCH', `${filter.dimension}: ${bad}`);
}

/** Validation helper: an index over definitions that are still being checked. */
export function definitionsIndex(catalog: Catalog): CatalogIndex {
  return indexCatalog(catalog);
}

function findJoinCycles(models: readonly Model[], byName: ReadonlyMap<string, Model>, problems: ProblemCollector): void {
  const state = new Map<string, 'open' | 'done'>();
  const visit = (model: Model, trail: string[]): void => {
    state.set(model.name, 'open');
    for (const join of model.joins.filter((j) => j.cardinality === 'many_to_one')) {
      const target = byName.get(join.model);
      if (!target) continue;
      if (state.get(target.name) === 'open') {
        const cycle = [...trail.slice(trail.indexOf(target.name)), model.name, target.name];
        problems.add(`models.${model.name}.joins.${join.name}`, 'JOIN_CYCLE', `many_to_one joins form a cycle: ${cycle.join(' -> ')}`);
      } else if (!state.has(target.name)) visit(target, [...trail, model.name]);
    }
    state.set(model.name, 'done');
  };
  for (const model of models) if (!state.has(model.name)) visit(model, []);
}
