import type { Command } from 'commander';
import { SENSITIVITIES } from '../modeling/catalog/sensitivity.ts';
import { ROLES } from '../services/authorization.ts';

/**
 * `materialize`, `keys create|revoke` and `tags export`: operations on the platform's state.
 * Declarations only: each action loads its implementation when it runs.
 */
export function addTagCommands(program: Command): void {
  program
    .command('materialize')
    .description('compute every customer profile (tags and audiences) as of a date and publish the snapshot, unless the drift guard holds it')
    .option('--as-of <date>', 'YYYY-MM-DD within the data range (default: the last date every source the tags read has data)')
    .option('--force', 'publish even when a tag distribution moved more than STRATA_MATERIALIZE_MAX_DRIFT of the customers')
    .action(async (options: { asOf?: string; force?: boolean }) => (await import('./cli-materialize.ts')).runMaterialize(options));

  const keys = program.command('keys').description('API keys: each names an actor and grants one role');
  keys
    .command('create')
    .description('create a key and print it (alone, on the last line); through the running server when one owns the data folder')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--name <name>', 'the actor name (default: <role>-<random>)')
    .option('--clearance <class>', `lower the role's clearance: one of ${SENSITIVITIES.join(', ')}`)
    .option(
      '--scope <json>',
      'row-level scope: a rule over customer dimensions and published tags, e.g. \'{"dimension":"customer.channel","op":"IN","values":["app"]}\'',
    )
    .action(async (options: { role: string; name?: string; clearance?: string; scope?: string }) => (await import('./cli-keys.ts')).runKeysCreate(options));
  keys
    .command('revoke <name>')
    .description('revoke a key by name (running servers refuse it from their next request)')
    .action(async (name: string) => (await import('./cli-keys.ts')).runKeysRevoke(name));

  program
    .command('tags')
    .description('steward-defined tags')
    .command('export')
    .description('write the published steward-defined tags as a definitions file to commit beside the code-defined ones')
    .option('--out <file>', "output file (default: the bundled domain's steward-tags file, which the server reads)")
    .action(async (options: { out?: string }) => (await import('./cli-tags-export.ts')).runTagsExport(options.out));
}
