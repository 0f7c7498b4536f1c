import type { Database } from '../store/database.ts';

/** Everything a resolver may use, built once per request by the API layer. */
export interface RequestContext {
  readonly database: Database;
  /** The acting user: an API key's name or a JWT's subject; `anonymous` until auth lands. */
  readonly actor: string;
  /** Whether results may include the SQL that ran (development mode). */
  readonly canSeeSql: boolean;
}
