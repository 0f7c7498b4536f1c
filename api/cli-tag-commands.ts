import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import type { Database } from '../store/database.ts';
import { randomBytes } from 'node:crypto';
import { issueApiKey, withdrawApiKey } from '../services/key-management.ts';
import { SENSITIVITIES } from '../modeling/catalog/sensitivity.ts';
import { listDefinitions } from '../store/definition-store.ts';
import { isRole, ROLES } from '../services/authorization.ts';
import { materializeProfiles } from '../services/profile-materialization.ts';
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

/** Materializes the bundled domain's published tags and audiences, with a progress bar. */
export async function materializeDomain(database: Database, asOf?: string): Promise<void> {
  const runtime = domainTagRuntime(database);
  const progress = createProgressReporter();
  const run = await materializeProfiles({
    database, subject: runtime.subject, tags: [...(await runtime.registry()).live.values()], audiences: publishedAudiences,
    actor: 'cli', onProgress: progress.update, ...(asOf ? { asOf } : {}),
  });
  progress.stop();
  console.log(`materialized ${Object.keys(run.coverage).length} tags for ${run.customers} customers as of ${run.asOf} in ${run.seconds.toFixed(1)} s (run ${run.runId})`);
}

/** `materialize`, `keys create|revoke` and `tags export`: operations on the platform's state. */
export function addTagCommands(program: Command, withDatabase: WithDatabase): void {
  program
    .command('materialize')
    .description('compute every customer profile (tags and audiences) as of a date and publish the snapshot')
    .option('--as-of <date>', 'YYYY-MM-DD (default: the latest date with data)')
    .action(async (options: { asOf?: string }) => {
      await withDatabase((database) => materializeDomain(database, options.asOf));
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
