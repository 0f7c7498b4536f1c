import type { Database } from '../store/database.ts';
import { materializeProfiles, type MaterializationRun } from '../services/profile-materialization.ts';
import { publishedAudiences } from '../services/audiences.ts';
import { refreshLookalikes } from '../services/lookalike-model.ts';
import { createProgressReporter } from './progress.ts';
import { domainTagRuntime } from './domain-tag-runtime.ts';
import type { Domain } from '../modeling/domain/define-domain.ts';

export interface MaterializeOptions {
  readonly asOf?: string | undefined;
  /** Publish even when the drift guard would hold the run. */
  readonly force?: boolean | undefined;
  /** A run moving more than this share of customers in any tag is held (STRATA_MATERIALIZE_MAX_DRIFT; default 0.2). */
  readonly maxDrift?: number | undefined;
  /** Longest one statement of the run may run (STRATA_MATERIALIZE_STATEMENT_TIMEOUT_MS; default 10 min; 0: none). */
  readonly statementTimeoutMs?: number | undefined;
}

/** What the CLI prints of a run, whether it ran here or in the server (GraphQL's `MaterializationRun`). */
export interface RunReport {
  readonly runId: number;
  readonly asOf: string;
  /** `held`, `published`, ... in either case. */
  readonly status: string;
  readonly customers: number;
  readonly seconds: number;
  readonly coverage: Readonly<Record<string, unknown>>;
  readonly message: string | null;
}

/**
 * Materializes a domain's published tags and audiences, with a progress bar, and
 * says whether the run was published, forced or held. A held run sets exit code 2, so a
 * scheduler notices that an approver must look at it.
 */
export async function materializeDomain(database: Database, domain: Domain, options: MaterializeOptions = {}): Promise<MaterializationRun> {
  const runtime = domainTagRuntime(database, domain);
  const progress = createProgressReporter();
  let run: MaterializationRun;
  try {
    run = await materializeProfiles({
      database,
      subject: runtime.subject,
      tags: [...(await runtime.registry()).live.values()],
      audiences: publishedAudiences,
      refreshModelAudiences: async (trx, run) => refreshLookalikes(trx, runtime.subject, (await runtime.registry()).live, run),
      actor: 'cli',
      onProgress: progress.update,
      ...(options.maxDrift !== undefined ? { maxDrift: options.maxDrift } : {}),
      ...(options.statementTimeoutMs !== undefined ? { statementTimeoutMs: options.statementTimeoutMs } : {}),
      force: options.force ?? false,
      ...(options.asOf !== undefined ? { asOf: options.asOf } : {}),
    });
  } finally {
    progress.stop();
  }
  reportRun(run, options.force ?? false);
  return run;
}

/** Prints a run's outcome; a held run sets exit code 2. */
export function reportRun(run: RunReport, forced: boolean): void {
  const summary = `${Object.keys(run.coverage).length} tags for ${run.customers} customers as of ${run.asOf} in ${run.seconds.toFixed(1)} s (run ${run.runId})`;
  if (run.status.toLowerCase() === 'held') {
    console.log(`HELD, not published: computed ${summary}`);
    console.log(run.message ?? '');
    process.exitCode = 2;
  } else {
    console.log(`materialized and published ${summary}`);
    if (forced && run.message) console.log(`forced: ${run.message}`);
  }
}
