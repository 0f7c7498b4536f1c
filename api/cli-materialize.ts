import { cliConfig, withDatabase } from './cli-database.ts';
import { localServer } from './local-server.ts';
import { materializeDomain, reportRun, type RunReport } from './materialize-domain.ts';

const MATERIALIZE = `mutation ($asOf: String) { materializeTags(asOf: $asOf) { runId asOf status customers seconds coverage message } }`;

/**
 * `strata materialize`: through the running server's `materializeTags` when a server owns
 * the PGlite folder (readers switch to the new snapshot at once), otherwise directly.
 * `--force` needs the folder: the API publishes a held run only through an approver.
 */
export async function runMaterialize(options: { asOf?: string; force?: boolean }): Promise<void> {
  const config = cliConfig();
  const server = localServer(config, 'materialize');
  if (server && options.force) {
    throw new Error(
      `--force is refused while the server (pid ${server.owner.pid}, port ${server.owner.port}) owns the data: materialize without it and have an approver publish a held run (publishMaterialization), or stop the server first`,
    );
  }
  if (server) {
    console.log(`materializing through the server on port ${server.owner.port}...`);
    const { materializeTags } = await server.graphql<{ materializeTags: RunReport }>(MATERIALIZE, { asOf: options.asOf ?? null });
    return reportRun(materializeTags, false);
  }
  await withDatabase(config, 'materialize', (database) =>
    materializeDomain(database, {
      asOf: options.asOf,
      force: options.force,
      maxDrift: config.materializeMaxDrift,
      statementTimeoutMs: config.materializeStatementTimeoutMs,
    }),
  );
}
