import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../store/schema.ts';
import type { Viewer } from './access.ts';
import { publishedRun } from './materialization-runs.ts';

/** A tag's coverage in the published profile snapshot: customers with a value, and their share. */
export interface TagCoverage {
  readonly asOf: string;
  /** Customers with a value (null when suppressed). */
  readonly customers: number | null;
  /** Share of the snapshot's customers with a value (null when suppressed). */
  readonly share: number | null;
  /** Hidden: fewer customers than the viewer's threshold have a value, or fewer have none (the share would reveal them). */
  readonly suppressed: boolean;
}

/** Per tag key, what the published run recorded (the coverage every materialization stores); empty before the first run. */
export type CoverageReader = (key: string) => TagCoverage | null;

/**
 * Reads the published snapshot's coverage once, for every tag: no recomputation, the run's
 * own record. Small cells: for a viewer with a threshold `k`, a count of 1 to k-1 customers
 * with a value, or 1 to k-1 without one, is suppressed (count and share). A caller with a
 * row scope gets null: the run counts every customer, not the caller's.
 */
export async function tagCoverageReader(db: Kysely<DatabaseSchema>, viewer: Viewer): Promise<CoverageReader> {
  if (viewer.principal.scope) return () => null;
  const run = await publishedRun(db);
  if (!run) return () => null;
  const k = viewer.minSubjects;
  return (key) => {
    const recorded = run.coverage[key];
    if (!recorded) return null;
    const covered = recorded.covered;
    const without = run.customers - covered;
    const small = (n: number) => k !== undefined && n > 0 && n < k;
    if (small(covered) || small(without)) return { asOf: run.asOf, customers: null, share: null, suppressed: true };
    return { asOf: run.asOf, customers: covered, share: run.customers === 0 ? 0 : covered / run.customers, suppressed: false };
  };
}
