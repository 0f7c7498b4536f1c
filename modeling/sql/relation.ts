import { sql, type RawBuilder } from 'kysely';
import type { CatalogIndex } from '../catalog/catalog-index.ts';
import type { Dimension, Model } from '../catalog/types.ts';
import { GRAINS } from '../catalog/types.ts';
import type { JoinStep } from '../catalog/join-graph.ts';
import { StrataError } from '../errors.ts';
import { localTime } from './time.ts';

interface Occurrence {
  /** Join names from the base model, `/`-separated ('' for the base). */
  readonly key: string;
  readonly alias: string;
  readonly model: Model;
  /** SQL expression (from the catalog) -> column name in this occurrence's inner SELECT. */
  readonly columns: Map<string, string>;
  readonly join?: { readonly parent: Occurrence; readonly step: JoinStep };
  /** Partition columns (base SQL, this model's SQL) matched with the base model beyond the first hop. */
  readonly partitions?: readonly (readonly [string, string])[];
}

/**
 * The FROM clause of one aggregation: the base model and the many-to-one joins its
 * dimensions need. Each model appears as a sub-select naming only the expressions used,
 * so catalog SQL expressions never clash across joined tables; PostgreSQL flattens them.
 */
export class Relation {
  private readonly occurrences = new Map<string, Occurrence>();
  private readonly extraJoins: RawBuilder<unknown>[] = [];
  private readonly baseJoins: RawBuilder<unknown>[] = [];
  /** Join paths of two or more hops joined as their own units (see `along`). */
  private readonly lanes: string[] = [];
  readonly base: Occurrence;

  /** `FULL` for distinct-values queries (MetricFlow keeps values found on either side). */
  joinKind: 'LEFT' | 'FULL' = 'LEFT';

  /**
   * The base model's time dimension placing each row in time: a join to a model with a
   * validity window (a slowly changing dimension) keeps the version valid at that time.
   */
  private factTime?: Dimension;

  constructor(
    private readonly index: CatalogIndex,
    baseModel: Model,
    private readonly prefix = 't',
  ) {
    this.base = { key: '', alias: `${prefix}0`, model: baseModel, columns: new Map() };
    this.occurrences.set('', this.base);
  }

  /** A column of the base model: `expression` is catalog SQL over its columns. */
  baseColumn(expression: string): RawBuilder<unknown> {
    return this.columnOf(this.base, expression);
  }

  /** `role.dimension` as reachable from the base model (already validated by the resolver). */
  dimension(role: string, name: string): { expr: RawBuilder<unknown>; dimension: Dimension; model: Model } {
    const found = this.index.dimension(this.base.model, role || this.base.model.name, name);
    if (!found.ok) throw new Error(`query invariant: ${found.message}`);
    let occurrence = this.base;
    for (const step of found.reach.path) occurrence = this.joined(occurrence, step);
    return { expr: this.columnOf(occurrence, found.dimension.sql), dimension: found.dimension, model: found.reach.model };
  }

  /**
   * A column reached along join steps (as located by `locateDimension`): `expression` is
   * catalog SQL of the last model. As MetricFlow joins a multi-hop dimension's source as one
   * unit (`bridge ⋈ customers`), each path of two or more hops gets its own joins, shared
   * only by dimensions of the same path; a one-hop dimension reads the first such unit that
   * starts with its join. With many-to-one joins the rows are the same either way; where the
   * data breaks that promise, the fan-out is MetricFlow's.
   */
  along(steps: readonly JoinStep[], expression: string): RawBuilder<unknown> {
    const path = steps.map((s) => s.join.name).join('/');
    const lane = steps.length >= 2 ? path : (this.lanes.find((l) => l.split('/')[0] === path) ?? '');
    if (steps.length >= 2 && !this.lanes.includes(lane)) this.lanes.push(lane);
    let occurrence = this.base;
    for (const step of steps) occurrence = this.joined(occurrence, step, lane);
    return this.columnOf(occurrence, expression);
  }

  /**
   * Adds a join built by the compiler (e.g. `INNER JOIN spine AS ts ON ...`) after the model
   * joins, or right after the base table with `afterBase` (so the model joins, FULL ones
   * included, apply to its result: `base CROSS JOIN spine FULL JOIN other`).
   */
  addJoin(join: RawBuilder<unknown>, options: { readonly afterBase?: boolean } = {}): void {
    (options.afterBase ? this.baseJoins : this.extraJoins).push(join);
  }

  /** A relation over the same base model without its joins (`prefix` keeps the aliases apart). */
  alone(prefix: string): Relation {
    const alone = new Relation(this.index, this.base.model, prefix);
    if (this.factTime) alone.boundVersionsBy(this.factTime);
    return alone;
  }

  /** Joins to models with a validity window keep the version valid at this base time dimension. */
  boundVersionsBy(timeDimension: Dimension): void {
    this.factTime = timeDimension;
  }

  /** The alias prefix of this relation's tables, for aliases the compiler adds. */
  get aliasPrefix(): string {
    return this.prefix;
  }

  /** The name of a base model column in the base table's sub-select (`c0`, ...). */
  baseColumnName(expression: string): string {
    this.columnOf(this.base, expression);
    return this.base.columns.get(expression) as string;
  }

  /**
   * `FROM (...) AS t0 LEFT JOIN (...) AS t1 ON ...`, after every column was asked for.
   * `base` replaces the base table's sub-select with one that has only some of its columns
   * (by name): joins that start from any other base column are left out, with what hangs off them.
   */
  from(base?: { readonly source: RawBuilder<unknown>; readonly columns: ReadonlySet<string> }): RawBuilder<unknown> {
    const kept = [...this.occurrences.values()].filter((o) => !base || this.startsFrom(o, base.columns));
    const parts = kept.map((o) => {
      const source = base && o === this.base ? base.source : this.source(o);
      if (!o.join) return sql.join([sql`${source} AS ${sql.id(o.alias)}`, ...this.baseJoins], sql` `);
      const conditions = [
        ...o.join.step.join.on.map(([left, right]) => sql`${this.columnOf(o.join!.parent, left)} = ${this.columnOf(o, right)}`),
        ...(o.partitions ?? []).map(([left, right]) => sql`${this.columnOf(this.base, left)} = ${this.columnOf(o, right)}`),
        ...this.validityConditions(o),
      ];
      return sql`${sql.raw(this.joinKind)} JOIN ${source} AS ${sql.id(o.alias)} ON ${sql.join(conditions, sql` AND `)}`;
    });
    return sql.join([...parts, ...this.extraJoins], sql` `);
  }

  /** Whether an occurrence is the base or hangs off a join on the given base columns only. */
  private startsFrom(o: Occurrence, columns: ReadonlySet<string>): boolean {
    let first = o;
    let bounded = o.model.validity !== undefined;
    while (first.join && first.join.parent !== this.base) {
      first = first.join.parent;
      bounded ||= first.model.validity !== undefined;
    }
    if (!first.join) return true;
    const needed = [...first.join.step.join.on.map(([left]) => left), ...(bounded && this.factTime ? [this.factTime.sql] : [])];
    return needed.every((left) => columns.has(this.base.columns.get(left) ?? ''));
  }

  private joined(parent: Occurrence, step: JoinStep, lane = ''): Occurrence {
    const key = `${parent === this.base && lane ? `${lane}:` : parent.key}/${step.join.name}`;
    let occurrence = this.occurrences.get(key);
    if (!occurrence) {
      const model = this.index.model(step.join.model);
      const partitions = parent === this.base ? [] : partitionPairs(this.base.model, model);
      occurrence = {
        key,
        alias: `${this.prefix}${this.occurrences.size}`,
        model,
        columns: new Map(),
        join: { parent, step },
        ...(partitions.length > 0 ? { partitions } : {}),
      };
      this.occurrences.set(key, occurrence);
      for (const [left, right] of step.join.on) {
        this.columnOf(parent, left);
        this.columnOf(occurrence, right);
      }
      for (const [left, right] of partitions) {
        this.columnOf(this.base, left);
        this.columnOf(occurrence, right);
      }
      this.validityConditions(occurrence);
    }
    return occurrence;
  }

  /**
   * `t >= start AND (end IS NULL OR t < end)` for a joined model with a validity window, where
   * `t` is the base row's time: each side at its own grain, as wall-clock time in the base
   * model's time zone (MetricFlow compares metric_time at its finest grain with the window).
   * Registers the columns it reads, so it is called once when the join is first made.
   */
  private validityConditions(o: Occurrence): RawBuilder<unknown>[] {
    const window = o.model.validity;
    if (!window) return [];
    const fact = this.factTime;
    if (!fact) {
      throw new StrataError(
        'INVALID_QUERY',
        `'${o.model.name}' holds versions valid over time (a slowly changing dimension): it is joined to rows that have a time, so query it with a metric`,
        { reason: 'SCD_REQUIRES_TIME' },
      );
    }
    const start = o.model.dimensions.find((d) => d.name === window.start);
    const end = o.model.dimensions.find((d) => d.name === window.end);
    if (!start || !end) throw new Error(`catalog invariant: '${o.model.name}' has no validity dimensions '${window.start}', '${window.end}'`);
    const at = (occurrence: Occurrence, dimension: Dimension) => {
      const storage = dimension.storage ?? 'timestamptz';
      const local = localTime({ expr: this.columnOf(occurrence, dimension.sql), storage, timeZone: this.base.model.timeZone });
      const grain = dimension.grain ?? 'DAY';
      // A date is a day already; anything else is cut to its grain (a `timestamp` column may hold dates).
      if (storage === 'date' && GRAINS.indexOf(grain) <= GRAINS.indexOf('DAY')) return local;
      return sql`date_trunc(${sql.lit(grain.toLowerCase())}, CAST(${local} AS timestamp))`;
    };
    const t = at(this.base, fact);
    const until = at(o, end);
    return [sql`${t} >= ${at(o, start)}`, sql`(${until} IS NULL OR ${t} < ${until})`];
  }

  private columnOf(occurrence: Occurrence, expression: string): RawBuilder<unknown> {
    let name = occurrence.columns.get(expression);
    if (!name) {
      name = `c${occurrence.columns.size}`;
      occurrence.columns.set(expression, name);
    }
    return sql.ref(`${occurrence.alias}.${name}`);
  }

  private source(o: Occurrence): RawBuilder<unknown> {
    const select = [...o.columns.entries()].map(([expression, name]) => sql`${sql.raw(expression)} AS ${sql.id(name)}`);
    const items = select.length > 0 ? sql.join(select) : sql`1 AS ${sql.id('one')}`;
    const source = 'table' in o.model.source ? sql.table(o.model.source.table) : sql`(${sql.raw(o.model.source.sql)}) AS ${sql.id('source')}`;
    return sql`(SELECT ${items} FROM ${source})`;
  }
}

/**
 * Partition dimensions of the same name in the base model and a model joined beyond the
 * first hop: MetricFlow matches them too (a fact's `ds_partitioned` picks the partition of
 * the users it reaches through listings), as a direct join matches its own partitions.
 */
function partitionPairs(base: Model, target: Model): [string, string][] {
  return base.dimensions
    .filter((d) => d.isPartition)
    .flatMap((d) => {
      const match = target.dimensions.find((t) => t.isPartition && t.name === d.name);
      return match ? [[d.sql, match.sql] as [string, string]] : [];
    });
}
