import type { RawBuilder } from 'kysely';
import type { ConcreteRollup } from '../catalog/rollups.ts';
import type { DimensionType } from '../catalog/types.ts';
import type { MetricPlan } from '../query/metric-plan.ts';

/** How one rollup's table is laid out and its rows computed: by the compiler's plan of its metrics, or by its funnel's own statement. */
export interface RollupBuild {
  readonly rollup: ConcreteRollup;
  /** Columns of the table in order: `period`, the dimensions, the stored values. */
  readonly columns: readonly { readonly name: string; readonly type: 'date' | DimensionType | 'numeric' | 'double precision' }[];
  /** The models the stored values read (their time columns bound the partitions). */
  readonly models: readonly { readonly model: string; readonly timeDimension: string }[];
  /** How far after a period a new row can still change it (conversion windows), as a PostgreSQL interval. */
  readonly lookback: string;
  /** Whether a row changes every later period too (a first-ever conversion: an earlier base event makes a later one no longer the first). */
  readonly reachesLater?: boolean;
  /** What else the stored rows mean beyond the leaves' metrics (a funnel rollup's funnel), hashed with them. */
  readonly definition?: unknown;
  /** The plan the stored rows are computed by, for a range of periods (raw tables, never a rollup; none for a funnel rollup). */
  plan?(range: { from: string; to: string }): MetricPlan;
  /** Its statement: the columns above, in order, for the periods of `range`. */
  statement(range: { from: string; to: string }): RawBuilder<unknown>;
}
