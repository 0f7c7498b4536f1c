import { dataFolderOwner, describeOwner, type DataFolderOwner } from '../store/data-folder-lock.ts';
import type { ServerConfig } from './config.ts';
import { pgliteFolder } from './cli-database.ts';

/** The server that owns this machine's PGlite data folder, reachable with its local credential. */
export interface LocalServer {
  readonly owner: DataFolderOwner;
  /** Runs one GraphQL operation as the local admin `cli`; throws the first error's message. */
  graphql<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
}

/**
 * The running server that owns the configured PGlite folder, if one does. Throws a one-line
 * refusal when another process holds the folder but cannot take the command: a server
 * still starting, or another CLI command. Undefined when nobody holds it (or on PostgreSQL,
 * where every process may write): the command then opens the database itself.
 */
export function localServer(config: ServerConfig, command: string): LocalServer | undefined {
  const folder = pgliteFolder(config);
  const owner = folder ? dataFolderOwner(folder) : null;
  if (!folder || !owner) return undefined;
  if (owner.port === undefined || owner.localToken === undefined) {
    const server = owner.command === 'start' || owner.command === 'serve';
    throw new Error(`${folder} is in use by ${describeOwner(owner)}: retry \`${command}\` when ${server ? 'it serves' : 'it has finished'}`);
  }
  const { port, localToken } = owner;
  return {
    owner,
    async graphql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
      let response: Response;
      try {
        response = await fetch(`http://127.0.0.1:${port}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${localToken}` },
          body: JSON.stringify({ query, variables }),
        });
      } catch {
        throw new Error(`${describeOwner(owner)} owns ${folder} but does not answer on port ${port}; retry, or stop it (kill ${owner.pid})`);
      }
      const body = (await response.json().catch(() => ({}))) as { data?: T | null; errors?: readonly { message: string }[] };
      const [error] = body.errors ?? [];
      if (error) throw new Error(error.message);
      if (!body.data) throw new Error(`the server answered HTTP ${response.status} without data`);
      return body.data;
    },
  };
}
