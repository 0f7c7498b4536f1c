import type { Database } from '../store/database.ts';
import { replaceApiKey } from '../store/api-keys.ts';
import type { Role } from '../services/authorization.ts';

/** The keys the embedded demo renews on every start: the same names, fresh secrets. */
export const DEMO_KEYS: readonly (readonly [name: string, role: Role])[] = [
  ['demo-admin', 'admin'],
  ['demo-analyst', 'analyst'],
  /** An app's key: `decide` and profile reads, as a mobile app calls them. */
  ['demo-app', 'app'],
];

export interface DemoKey {
  readonly name: string;
  readonly role: Role;
  readonly token: string;
}

/**
 * Replaces the demo keys with fresh ones (the previous secrets stop working, and no old
 * demo key is left behind), the way a notebook server makes a new token per start.
 */
export async function renewDemoKeys(database: Database): Promise<DemoKey[]> {
  const keys: DemoKey[] = [];
  for (const [name, role] of DEMO_KEYS) {
    keys.push({ name, role, token: await replaceApiKey(database.db, database.changes, name, role, { createdBy: 'strata start' }) });
  }
  return keys;
}

/** What `npm start` prints: each key, and a request to paste into a shell. */
export function demoKeysBanner(keys: readonly DemoKey[], port: number): string {
  const url = `http://localhost:${port}/graphql`;
  const admin = keys.find((k) => k.role === 'admin') ?? keys[0];
  const width = Math.max(...keys.map((k) => k.name.length));
  return [
    '',
    'Demo credentials (new on every start; the previous ones no longer work):',
    ...keys.map((k) => `  ${k.name.padEnd(width)}  ${k.role.padEnd(8)} ${k.token}`),
    '',
    'Try:',
    `  curl -s ${url} -H 'content-type: application/json' -H 'authorization: Bearer ${admin?.token ?? ''}' \\`,
    `    -d '{"query":"{ catalog { metrics { name } } }"}'`,
    '',
  ].join('\n');
}
