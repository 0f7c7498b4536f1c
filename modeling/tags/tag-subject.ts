import type { CatalogIndex } from '../catalog/catalog-index.ts';
import type { Model } from '../catalog/types.ts';
import { StrataError } from '../errors.ts';
import { closestNames } from '../query/suggest.ts';
import type { ValueType } from '../conditions/compare.ts';
import { quoteInput } from '../quote-input.ts';
import type { RawBuilder } from 'kysely';
import type { SqlOperand } from '../conditions/condition-sql.ts';
import { boundFor, type TimeColumn } from '../sql/time.ts';

/** The model tags describe (the customer) and how other models' rows belong to it. */
export interface TagSubject {
  readonly index: CatalogIndex;
  readonly model: Model;
  /** The subject's key column SQL (e.g. `customer_id`). */
  readonly key: string;
}

export function tagSubject(index: CatalogIndex, modelName: string): TagSubject {
  const model = index.model(modelName);
  const [key] = model.primaryKey;
  if (!key || model.primaryKey.length !== 1) throw new Error(`tag subject '${modelName}' needs a single-column primary key`);
  return { index, model, key };
}

/** `customer.age_band`: a dimension of the subject model itself. */
export function subjectDimension(subject: TagSubject, ref: string, path: string): { sql: string; type: ValueType } {
  const [role, name, extra] = ref.split('.');
  const dimension = role === subject.model.name && extra === undefined ? subject.model.dimensions.find((d) => d.name === name) : undefined;
  if (!dimension) {
    const known = subject.model.dimensions.map((d) => `${subject.model.name}.${d.name}`);
    const suggestions = closestNames(ref, known);
    throw new StrataError(
      'UNKNOWN_MEMBER',
      `${path}: unknown dimension ${quoteInput(ref)}; rules compare ${subject.model.name} dimensions${suggestions.length ? `, e.g. ${suggestions.join(', ')}` : ''}`,
      { path, suggestions },
    );
  }
  return { sql: dimension.sql, type: dimension.type };
}

/**
 * A subject dimension as a rule compares it, `expr` being where its value is read: a time
 * dimension reads literals without an offset in the model's reporting time zone, as a
 * metric filter on the same dimension does (`boundFor`).
 */
export function subjectOperand(subject: TagSubject, ref: string, path: string, expr: RawBuilder<unknown>): SqlOperand {
  const { type } = subjectDimension(subject, ref, path);
  if (type !== 'time') return { expr, type };
  const dimension = subject.model.dimensions.find((d) => `${subject.model.name}.${d.name}` === ref);
  const time: TimeColumn = { expr, storage: dimension?.storage ?? 'timestamptz', timeZone: subject.model.timeZone };
  return { expr, type, literal: (v) => boundFor(time, v) };
}

/** The model of `model.measure` and the column holding the subject's key in it. */
export function measureOwner(subject: TagSubject, measureRef: string, path: string) {
  const [modelName = '', measureName = ''] = measureRef.split('.');
  const model = subject.index.models.get(modelName);
  const measure = model?.measures.find((m) => m.name === measureName);
  if (!model || !measure) {
    const known = [...subject.index.models.values()].flatMap((m) => m.measures.map((x) => `${m.name}.${x.name}`));
    const suggestions = closestNames(measureRef, known);
    throw new StrataError(
      'UNKNOWN_MEMBER',
      `${path}: unknown measure ${quoteInput(measureRef)}${suggestions.length ? `; did you mean ${suggestions.join(', ')}?` : ''}`,
      { path, suggestions },
    );
  }
  if (model.name === subject.model.name) return { model, measure, subjectKey: subject.key };
  const join = model.joins.find((j) => j.model === subject.model.name && j.cardinality !== 'one_to_many' && j.on.length === 1);
  if (!join)
    throw new StrataError(
      'INVALID_QUERY',
      `${path}: '${model.name}' has no direct many_to_one join to '${subject.model.name}', so ${quoteInput(measureRef)} cannot be aggregated per ${subject.model.name}`,
      { path },
    );
  return { model, measure, subjectKey: (join.on[0] as readonly [string, string])[0] };
}
