import type { Catalog } from '../catalog/types.ts';
import type { EventDefinition } from '../events/define-event.ts';
import type { TagDefinition } from '../tags/tag-definition.ts';
import { dashboardShapeProblems, type Dashboard } from '../dsl/define-dashboard.ts';
import type { Monitor } from '../dsl/define-monitor.ts';

/**
 * A business domain as the platform serves it: what the semantic layer, the tag engine and
 * the event collector know of the business, and nothing else. The platform gets one passed
 * in (`createApp(database, domain, config)`) and reads it from the request context; only the
 * composition root (api/bundled-domain.ts) picks which domain that is.
 */
export interface Domain {
  /** A short name, e.g. `wealth`, for logs and messages. */
  readonly name: string;
  /** The validated catalog (models and metrics), built once. */
  readonly catalog: Catalog;
  /**
   * The model tags describe and access scopes restrict, one row per subject (the customer
   * of the wealth domain): a model of the catalog with a single-column primary key.
   */
  readonly subject: string;
  /** The code-defined tags (and those committed as a steward-tags file), evaluated per subject. */
  readonly tags: readonly TagDefinition[];
  /** The behaviour events the collector accepts and `catalog.events` lists. */
  readonly events: readonly EventDefinition[];
  /** The channels an event may come from. */
  readonly channels: readonly string[];
  /** The file `strata tags export` writes by default, which the domain loads its steward-defined tags from. */
  readonly stewardTagsFile?: string | undefined;
  /** Dashboards defined as code beside the metrics (`defineDashboard`); stewards add more under review. */
  readonly dashboards?: readonly Dashboard[] | undefined;
  /** Monitors defined as code: a metric watched on a schedule (operators add more through the API). */
  readonly monitors?: readonly Monitor[] | undefined;
}

/** A domain definition that breaks the rules: a bug to fix before the server starts. */
export class DomainDefinitionError extends Error {
  override readonly name = 'DomainDefinitionError';
}

/**
 * Checks a domain's parts against each other and freezes it: the subject is a model of the
 * catalog with a single-column key, event names, tag keys and channels are unique, and at
 * least one channel is named. Throws `DomainDefinitionError` listing every problem.
 *
 * ```ts
 * const domain = defineDomain({ name: 'library', catalog, subject: 'member', tags: [], events: [checkout], channels: ['web'] });
 * ```
 */
export function defineDomain(spec: Domain): Domain {
  const problems: string[] = [];
  if (!/^[a-z][a-z0-9_]{0,63}$/.test(spec.name)) problems.push(`name '${spec.name}' must be a snake_case word`);
  const subject = spec.catalog.models.find((m) => m.name === spec.subject);
  if (!subject) problems.push(`subject '${spec.subject}' is not a model of the catalog`);
  else if (subject.primaryKey.length !== 1) problems.push(`subject '${spec.subject}' needs a single-column primary key`);
  problems.push(
    ...duplicates(
      'event',
      spec.events.map((e) => e.name),
    ),
  );
  problems.push(
    ...duplicates(
      'tag',
      spec.tags.map((t) => t.key),
    ),
  );
  problems.push(...duplicates('channel', spec.channels));
  problems.push(
    ...duplicates(
      'dashboard',
      (spec.dashboards ?? []).map((d) => d.key),
    ),
  );
  problems.push(
    ...duplicates(
      'monitor',
      (spec.monitors ?? []).map((m) => m.key),
    ),
  );
  for (const dashboard of spec.dashboards ?? []) problems.push(...dashboardShapeProblems(dashboard).map((p) => `dashboard '${dashboard.key}': ${p}`));
  if (spec.channels.length === 0) problems.push('name at least one channel events may come from');
  if (problems.length > 0) throw new DomainDefinitionError(`domain '${spec.name}': ${problems.join('; ')}`);
  return Object.freeze({
    ...spec,
    tags: Object.freeze([...spec.tags]),
    events: Object.freeze([...spec.events]),
    channels: Object.freeze([...spec.channels]),
    dashboards: Object.freeze([...(spec.dashboards ?? [])]),
    monitors: Object.freeze([...(spec.monitors ?? [])]),
  });
}

function duplicates(what: string, names: readonly string[]): string[] {
  const seen = new Set<string>();
  const repeated = new Set(names.filter((name) => seen.size === seen.add(name).size));
  return [...repeated].map((name) => `${what} '${name}' is declared more than once`);
}
