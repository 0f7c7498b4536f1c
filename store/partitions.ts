/**
 * The monthly partitions of the warehouse's facts, for the layers above the migrations
 * (seeding, ingestion): the implementation lives with migration 0016, which uses it first.
 */
export {
  addMonths,
  ensureMonthlyPartitions,
  ensurePartitionsForData,
  isPartitioned,
  monthOf,
  monthsBetween,
  MONTHS_AHEAD,
  WEALTH_PARTITIONED_FACTS,
  type MonthlyPartitioning,
} from '../migrations/partitions.ts';
