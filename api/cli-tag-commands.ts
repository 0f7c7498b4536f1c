import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import type { Database } from '../store/database.ts';
import { createApiKey, revokeApiKey } from '../store/api-keys.ts';
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
import { dateProblem } from '../modeling/catalog/calendar.ts';
import { quoteInput } from '../modeling/quote-input.ts';

type WithDatabase = <T>(work: (database: Database) => Promise<T>) => Promise<T>;

/** Materializes the bundled domain's published tags and audiences, with a progress bar. */
export async function materializeDomain(database: Database, asOf?: string): Promise<void> {
  const domain = wealthDomain();
  const runtime = createTagRuntime(database.db, tagSubject(indexCatalog(domain.catalog), domain.tagSubject), domain.tags);
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
      const problem = options.asOf && dateProblem(options.asOf);
      if (problem) throw new Error(`--as-of ${quoteInput(options.asOf ?? '')} is not a date: ${problem}`);
      await withDatabase((database) => materializeDomain(database, options.asOf));
    });

  const keys = program.command('keys').description('API keys: each names an actor and grants one role');
  keys
    .command('create')
    .description('create a key and print it (alone, on the last line)')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--name <name>', 'the actor name (default: <role>-<random>)')
    .action(async (options: { role: string; name?: string }) => {
      if (!isRole(options.role)) throw new Error(`unknown role '${options.role}'; use one of ${ROLES.join(', ')}`);
      const name = options.name ?? `${options.role}-${Math.random().toString(36).slice(2, 8)}`;
      const token = await withDatabase((database) => createApiKey(database.db, name, options.role));
      console.log(`created key '${name}' with role ${options.role}; keep it secret, it is shown once:`);
      console.log(token);
    });
  keys
    .command('revoke <name>')
    .description('revoke a key by name (takes effect within 10 s on running servers)')
    .action(async (name: string) => {
      const revoked = await withDatabase((database) => revokeApiKey(database.db, name));
      if (!revoked) throw new Error(`no live key named '${name}'`);
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
