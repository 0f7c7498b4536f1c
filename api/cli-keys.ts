import { randomBytes } from 'node:crypto';
import { isRole, ROLES } from '../services/authorization.ts';
import { cliConfig, ranOnBaselineWasm, withDatabase } from './cli-database.ts';
import { localServer } from './local-server.ts';

export interface KeyRequest {
  readonly role: string;
  readonly name?: string;
  readonly clearance?: string;
  /** The `--scope` text: a rule as JSON. */
  readonly scope?: string;
}

interface CreatedKey {
  readonly name: string;
  readonly role: string;
  readonly clearance: string;
  readonly scope: unknown;
  readonly token: string;
}

const CREATE = `mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { name role clearance scope token } }`;
const REVOKE = `mutation ($name: String!) { revokeApiKey(name: $name) { name revoked } }`;

/**
 * `strata keys create`: through the running server's `createApiKey` when a server owns the
 * PGlite folder (so the key works at once), otherwise in the database directly. Prints the
 * key alone on the last line.
 */
export async function runKeysCreate(request: KeyRequest): Promise<void> {
  if (!isRole(request.role)) throw new Error(`unknown role '${request.role}'; use one of ${ROLES.join(', ')}`);
  const name = request.name ?? `${request.role}-${randomBytes(3).toString('hex')}`;
  const scope = request.scope === undefined ? undefined : parseJsonOption('--scope', request.scope);
  const input = { name, role: request.role, clearance: request.clearance ?? null, scope };
  const config = cliConfig();
  const server = localServer(config, 'keys create');
  if (!server && (await ranOnBaselineWasm(config))) return;
  const key: CreatedKey = server
    ? (await server.graphql<{ createApiKey: CreatedKey }>(CREATE, { input: { ...input, scope: scope ?? null } })).createApiKey
    : await withDatabase(config, 'keys create', async (database) => {
        const [{ issueApiKey }, { domainTagRuntime }, { bundledDomain }] = await Promise.all([
          import('../services/key-management.ts'),
          import('./domain-tag-runtime.ts'),
          import('./bundled-domain.ts'),
        ]);
        return issueApiKey(database, domainTagRuntime(database, bundledDomain()), null, input);
      });
  const grant = [`role ${key.role}`, `clearance ${key.clearance}`, ...(key.scope ? [`scope ${JSON.stringify(key.scope)}`] : [])].join(', ');
  const via = server ? ` through the server on port ${server.owner.port}` : '';
  console.log(`created key '${key.name}'${via} with ${grant}; keep it secret, it is shown once:`);
  console.log(key.token);
}

/** `strata keys revoke NAME`: through the running server when one owns the PGlite folder, otherwise directly. */
export async function runKeysRevoke(name: string): Promise<void> {
  const config = cliConfig();
  const server = localServer(config, 'keys revoke');
  if (!server && (await ranOnBaselineWasm(config))) return;
  const outcome = server
    ? (await server.graphql<{ revokeApiKey: { revoked: boolean } }>(REVOKE, { name })).revokeApiKey
    : await withDatabase(config, 'keys revoke', async (database) => {
        const { withdrawApiKey } = await import('../services/key-management.ts');
        return withdrawApiKey(database, 'cli', name);
      });
  if (!outcome.revoked) throw new Error(`key '${name}' was already revoked`);
  console.log(`revoked key '${name}'${server ? ` through the server on port ${server.owner.port}` : ''}`);
}

function parseJsonOption(option: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${option}: expected JSON, e.g. '{"dimension":"customer.channel","op":"IN","values":["app"]}'`);
  }
}
