import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import type { Database } from '../store/database.ts';
import { randomBytes } from 'node:crypto';
import { issueApiKey, withdrawApiKey } from '../services/key-management.ts';
import { SENSITIVITIES } from '../modeling/catalog/sensitivity.ts';
import { listDefinitions } from '../store/definition-store.ts';
import { isRole, ROLES } from '../services/authorization.ts';
import { materializeProfiles, type MaterializationRun } from '../services/profile-materialization.ts';
import { loadConfig } from './config.ts';
import { createTagRuntime } from '../services/tag-runtime.ts';
import { publishedAudiences } from '../services/audiences.ts';
import type { StoredTagBody } from '../services/tag-registry.ts';
import { indexCatalog } from '../modeling/catalog/catalog-index.ts';
import { tagSubject } from '../modeling/tags/tag-subject.ts';
import { wealthDomain } from '../domains/wealth/index.ts';
import { createProgressReporter } from './progress.ts';

type WithDatabase = <T>(work: (database: Database) => Promise<T>) => Promise<T>;

/** The bundled domain's tag runtime over a database. */
function domainTagRuntime(database: Database) {
  const domain = wealthDomain();
  return createTagRuntime(database.db, tagSubject(indexCatalog(domain.catalog), domain.tagSubject), domain.tags);
}

function parseJsonOption(option: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${option}: expected JSON, e.g. '{"dimension":"customer.channel","op":"IN","values":["app"]}'`);
  }
}

export interface MaterializeOptions {
  readonly asOf?: string | undefined;
  /** Publish even when the drift guard would hold the run. */
  readonly force?: boolean | undefined;
  /** A run moving more than this share of customers in any tag is held (STRATA_MATERIALIZE_MAX_DRIFT; default 0.2). */
  readonly maxDrift?: number | undefined;
}

/**
 * Materializes the bundled domain's published tags and audiences, with a progress bar, and
 * says whether the run was published, forced or held. A held run sets exit code 2, so a
 * scheduler notices that an approver must look at it.
 */
export async function materializeDomain(database: Database, options: MaterializeOptions = {}): Promise<MaterializationRun> {
  const runtime = domainTagRuntime(database);
  const progress = createProgressReporter();
  let run: MaterializationRun;
  try {
    run = await materializeProfiles({
      database, subject: runtime.subject, tags: [...(await runtime.registry()).live.values()], audiences: publishedAudiences,
      actor: 'cli', onProgress: progress.update, ...(options.maxDrift !== undefined ? { maxDrift: options.maxDrift } : {}), force: options.force ?? false,
      ...(options.asOf !== undefined ? { asOf: options.asOf } : {}),
    });
  } finally {
    progress.stop();
  }
  const summary = `${Object.keys(run.coverage).length} tags for ${run.customers} customers as of ${run.asOf} in ${run.seconds.toFixed(1)} s (run ${run.runId})`;
  if (run.status === 'held') {
    console.log(`HELD, not published: computed ${summary}`);
    console.log(run.message ?? '');
    process.exitCode = 2;
  } else {
    console.log(`materialized and published ${summary}`);
    if (options.force && run.message) console.log(`forced: ${run.message}`);
  }
  return run;
}

/** `materialize`, `keys create|revoke` and `tags export`: operations on the platform's state. */
export function addTagCommands(program: Command, withDatabase: WithDatabase): void {
  program
    .command('materialize')
    .description('compute every customer profile (tags and audiences) as of a date and publish the snapshot, unless the drift guard holds it')
    .option('--as-of <date>', 'YYYY-MM-DD within the data range (default: the last date every source the tags read has data)')
    .option('--force', 'publish even when a tag distribution moved more than STRATA_MATERIALIZE_MAX_DRIFT of the customers')
    .action(async (options: { asOf?: string; force?: boolean }) => {
      const { materializeMaxDrift } = loadConfig();
      await withDatabase((database) => materializeDomain(database, { asOf: options.asOf, force: options.force, maxDrift: materializeMaxDrift }));
    });

  const keys = program.command('keys').description('API keys: each names an actor and grants one role');
  keys
    .command('create')
    .description('create a key and print it (alone, on the last line)')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--name <name>', 'the actor name (default: <role>-<random>)')
    .option('--clearance <class>', `lower the role's clearance: one of ${SENSITIVITIES.join(', ')}`)
    .option('--scope <json>', 'row-level scope: a rule over customer dimensions and published tags, e.g. \'{"dimension":"customer.channel","op":"IN","values":["app"]}\'')
    .action(async (options: { role: string; name?: string; clearance?: string; scope?: string }) => {
      if (!isRole(options.role)) throw new Error(`unknown role '${options.role}'; use one of ${ROLES.join(', ')}`);
      const name = options.name ?? `${options.role}-${randomBytes(3).toString('hex')}`;
      const scope = options.scope === undefined ? undefined : parseJsonOption('--scope', options.scope);
      const key = await withDatabase((database) => issueApiKey(database, domainTagRuntime(database), null, { name, role: options.role, clearance: options.clearance ?? null, scope }));
      const grant = [`role ${key.role}`, `clearance ${key.clearance}`, ...(key.scope ? [`scope ${JSON.stringify(key.scope)}`] : [])].join(', ');
      console.log(`created key '${key.name}' with ${grant}; keep it secret, it is shown once:`);
      console.log(key.token);
    });
  keys
    .command('revoke <name>')
    .description('revoke a key by name (running servers refuse it from their next request)')
    .action(async (name: string) => {
      const outcome = await withDatabase((database) => withdrawApiKey(database, 'cli', name));
      if (!outcome.revoked) throw new Error(`key '${name}' was already revoked`);
      console.log(`revoked key '${name}'`);
    });

  program
    .command('tags')
    .description('steward-defined tags')
    .command('export')
    .description('write the published steward-defined tags as a definitions file to commit beside the code-defined ones')
    .option('--out <file>', 'output file', 'domains/wealth/steward-tags.json')
    .action(async (options: { out: string }) => {
      const stored = await withDatabase((database) => listDefinitions<StoredTagBody>(database.db, 'tag'));
      const specs = stored.filter((d) => d.body.published && d.status !== 'ARCHIVED').map((d) => ({ ...d.body.published?.spec, status: d.status === 'DEPRECATED' ? 'DEPRECATED' : 'PUBLISHED' }));
      await writeFile(options.out, `${JSON.stringify(specs, null, 2)}\n`);
      console.log(`wrote ${specs.length} tag definition(s) to ${options.out}`);
    });
}
