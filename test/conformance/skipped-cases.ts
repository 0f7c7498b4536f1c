/**
 * MetricFlow cases Strata does not run, each with the reason a dbt user would read. The
 * issue puts `min_max_only` and `apply_group_by: false` out of scope; nothing else may be
 * added here without a reason that holds for users.
 */
export const SKIPPED_CASES: Readonly<Record<string, string>> = {
  min_max_only_categorical: 'min_max_only (the range of a dimension) is not part of the GraphQL API; out of scope in issue 9',
  min_max_only_time_month: 'min_max_only (the range of a dimension) is not part of the GraphQL API; out of scope in issue 9',
  no_dedupe: 'apply_group_by: false (rows without de-duplication) is not part of the GraphQL API; out of scope in issue 9',
  saved_query_no_dedupe: 'apply_group_by: false (rows without de-duplication) is not part of the GraphQL API; out of scope in issue 9',
};

/** Why a case cannot run on PostgreSQL at all (the engine lacks the feature), or undefined. */
export function engineSkip(requiredFeatures: readonly string[] | undefined): string | undefined {
  if (
    requiredFeatures?.includes('APPROXIMATE_CONTINUOUS_PERCENTILE_AGGREGATION') ||
    requiredFeatures?.includes('APPROXIMATE_DISCRETE_PERCENTILE_AGGREGATION')
  ) {
    return 'PostgreSQL has no approximate percentile aggregate';
  }
  return undefined;
}
